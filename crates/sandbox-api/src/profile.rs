//! Profile templates: the guardrails an administrator writes once and binds to runners
//! (SPEC §3.1). This module holds the API (wire) form.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::profile_document::ProfileDocument;
use crate::violation::Violation;

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

/// Every rule a new template breaks, at once: output-only fields set, then every rule
/// of the document (display name, spec and everything in it).
pub fn validate_new_template(template: &ProfileTemplate) -> Vec<Violation> {
    let mut violations = Vec::new();
    let output_only = [
        ("id", !template.id.is_empty()),
        ("organization_id", !template.organization_id.is_empty()),
        ("created_at", template.created_at.is_some()),
        ("updated_at", template.updated_at.is_some()),
        ("etag", !template.etag.is_empty()),
    ];
    for (field, set) in output_only {
        if set {
            violations.push(Violation::error(
                field,
                "is output only and must not be set",
            ));
        }
    }
    violations.extend(ProfileDocument::from_template(template).1);
    violations
}

/// A field an update may change (the `updateMask` paths of SPEC §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateField {
    Description,
    Spec,
    Labels,
}

impl TemplateField {
    pub const ALL: [TemplateField; 3] = [
        TemplateField::Description,
        TemplateField::Spec,
        TemplateField::Labels,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateField::Description => "description",
            TemplateField::Spec => "spec",
            TemplateField::Labels => "labels",
        }
    }
}

/// Parses an `updateMask` (comma-separated paths). An empty mask means every mutable
/// field (AIP-134).
pub fn parse_update_mask(mask: &str) -> Result<Vec<TemplateField>, Violation> {
    if mask.trim().is_empty() {
        return Ok(TemplateField::ALL.to_vec());
    }
    let mut fields = Vec::new();
    for path in mask.split(',').map(str::trim) {
        let field = TemplateField::ALL
            .into_iter()
            .find(|f| f.as_str() == path)
            .ok_or_else(|| {
                let message = if matches!(path, "display_name" | "displayName") {
                    "display_name is immutable after create".to_owned()
                } else {
                    format!(
                        "{path:?} cannot be updated; the mask may name description, spec and labels"
                    )
                };
                Violation::error("update_mask", message)
            })?;
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    Ok(fields)
}

/// `current` with the masked fields taken from `patch`.
pub fn apply_update(
    current: &ProfileTemplate,
    patch: &ProfileTemplate,
    fields: &[TemplateField],
) -> ProfileTemplate {
    let mut updated = current.clone();
    for field in fields {
        match field {
            TemplateField::Description => updated.description = patch.description.clone(),
            TemplateField::Spec => updated.spec = Some(patch.spec.clone().unwrap_or_default()),
            TemplateField::Labels => updated.labels = patch.labels.clone(),
        }
    }
    updated
}

/// Every rule an update breaks: a changed display name, then every rule of the result.
pub fn validate_template_update(
    current: &ProfileTemplate,
    patch: &ProfileTemplate,
    fields: &[TemplateField],
) -> Vec<Violation> {
    let mut violations = Vec::new();
    if !patch.display_name.is_empty() && patch.display_name != current.display_name {
        violations.push(Violation::error(
            "display_name",
            "is immutable after create",
        ));
    }
    violations.extend(ProfileDocument::from_template(&apply_update(current, patch, fields)).1);
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> ProfileTemplate {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_minimal_template_is_valid() {
        let t = parse(r#"{"displayName":"ci-ephemeral","spec":{}}"#);
        assert_eq!(validate_new_template(&t), vec![]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let t =
            parse(r#"{"id":"x","etag":"e","createdAt":"2026-01-01T00:00:00Z","displayName":""}"#);
        let fields: Vec<_> = validate_new_template(&t)
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["id", "created_at", "etag", "display_name", "spec"]);
    }

    #[test]
    fn an_update_may_change_only_masked_fields_and_never_the_name() {
        let current =
            parse(r#"{"displayName":"a","description":"old","labels":{"x":"1"},"spec":{}}"#);
        let patch = parse(
            r#"{"displayName":"b","description":"new","labels":{},"spec":{"runtimeClass":"gvisor"}}"#,
        );
        let fields = parse_update_mask("description,spec").unwrap();
        let updated = apply_update(&current, &patch, &fields);
        assert_eq!(updated.description, "new");
        assert_eq!(updated.labels, current.labels);
        assert_eq!(updated.spec.unwrap().runtime_class, "gvisor");
        let violations = validate_template_update(&current, &patch, &fields);
        assert_eq!(
            violations,
            vec![Violation::error(
                "display_name",
                "is immutable after create"
            )]
        );
        assert_eq!(parse_update_mask("").unwrap(), TemplateField::ALL);
        assert!(
            parse_update_mask("labels,etag")
                .unwrap_err()
                .message
                .contains("\"etag\"")
        );
        assert!(
            parse_update_mask("displayName")
                .unwrap_err()
                .message
                .contains("immutable")
        );
    }

    #[test]
    fn display_name_must_be_a_dns_label() {
        let t = parse(r#"{"displayName":"GPU Workbench","spec":{}}"#);
        let violations = validate_new_template(&t);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "display_name");
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
