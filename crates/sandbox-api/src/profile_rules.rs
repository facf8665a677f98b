//! The rules a profile template obeys on create and on each update (SPEC §3.1): the
//! output-only fields, the update mask, and every rule of the document it becomes
//! (`profile_document`).

use crate::profile::ProfileTemplate;
use crate::profile_document::ProfileDocument;
use crate::violation::Violation;

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
}
