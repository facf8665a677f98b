//! Profile templates: the guardrails an administrator writes once and binds to runners
//! (SPEC §3.1). This module holds the API (wire) form; the rules a template obeys on
//! create and update are in `profile_rules`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A profile template as the control plane stores and returns it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProfileTemplate {
    /// Output only: the UUID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Output only.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub organization_id: String,
    /// Unique in the organization; immutable after create.
    pub display_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Required on create; `{}` is a valid (empty) spec. `None` only when the field was
    /// absent from the request.
    pub spec: Option<ProfileSpec>,
    /// Output only.
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    /// Output only.
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<OffsetDateTime>,
    /// Output only: changes on every write (SPEC §6).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub etag: String,
}

/// `ProfileSpec` in its API form: camelCase, with namespace, network and pod fragments
/// carried as strings holding JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProfileSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub container_image: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runtime_class: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_defaults: Option<ResourceDefaults>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instance_types: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace_config_json: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub network_config_json: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pod_template_json: String,
}

/// Kubernetes quantity strings (`250m`, `1`, `512Mi`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceDefaults {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cpu_request: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub memory_request: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cpu_limit: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub memory_limit: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CreateProfileTemplateRequest {
    pub profile_template: ProfileTemplate,
}

/// Body of `PATCH /v1beta2/sandbox/profile-templates/{id}`; the fields to change are
/// named by the `updateMask` query parameter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UpdateProfileTemplateRequest {
    pub profile_template: ProfileTemplate,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListProfileTemplatesResponse {
    pub profile_templates: Vec<ProfileTemplate>,
    pub next_page_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> ProfileTemplate {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn unknown_fields_are_ignored_and_empty_fields_not_written() {
        let t = parse(r#"{"displayName":"a","spec":{"futureField":1},"future":{}}"#);
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"displayName":"a","spec":{}}"#
        );
    }
}
