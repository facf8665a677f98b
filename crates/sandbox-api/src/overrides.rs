//! A binding's overrides against its profile: the spec a binding's sandboxes start
//! from, and each field the overrides change, with the profile's value and the new one.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::layering::{Layers, effective_spec};
use crate::profile::ProfileSpec;
use crate::profile_document::spec_value;

/// One field an override changes, named by its YAML-form path
/// (`container_image`, `resource_defaults.cpuRequest`, `node_selector.pool`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideChange {
    pub field: String,
    /// `None` when the profile leaves the field unset.
    pub profile: Option<String>,
    /// `None` when the overrides unset it (a replaced object without this part).
    pub effective: Option<String>,
}

/// The binding's effective spec (profile, then overrides) and what the overrides
/// changed, including what they unset by replacing a whole field; a field overridden
/// with the profile's own value is not a change.
pub fn override_changes(
    profile: &ProfileSpec,
    overrides: &ProfileSpec,
) -> (ProfileSpec, Vec<OverrideChange>) {
    let profile_only = effective_spec(Layers::profile_only(profile));
    let effective = effective_spec(Layers {
        overrides: Some(overrides),
        ..Layers::profile_only(profile)
    });
    let (before, after) = (spec_value(profile), spec_value(&effective.spec));
    let fields: BTreeSet<&String> = profile_only
        .sources
        .keys()
        .chain(effective.sources.keys())
        .collect();
    let changes = fields
        .into_iter()
        .filter_map(|field| {
            let profile = value_at(&before, field);
            let effective = value_at(&after, field);
            (profile != effective).then(|| OverrideChange {
                field: field.clone(),
                profile,
                effective,
            })
        })
        .collect();
    (effective.spec, changes)
}

/// The value at `field` (`key` or `key.subkey`) as text: strings as they are, anything
/// else as compact JSON.
fn value_at(spec: &Value, field: &str) -> Option<String> {
    let value = field
        .split('.')
        .try_fold(spec, |value, key| value.get(key))?;
    Some(match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> ProfileSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn each_changed_field_is_named_with_both_values() {
        let profile = spec(
            r#"{"containerImage": "python:3.12", "runtimeClass": "gvisor",
                "resourceDefaults": {"cpuRequest": "500m", "memoryRequest": "1Gi"},
                "nodeSelector": {"pool": "cpu"}}"#,
        );
        let overrides = spec(
            r#"{"runtimeClass": "gvisor",
                "resourceDefaults": {"cpuRequest": "2", "memoryRequest": "1Gi"},
                "nodeSelector": {"zone": "east"},
                "tags": ["fast"]}"#,
        );
        let (effective, changes) = override_changes(&profile, &overrides);
        assert_eq!(effective.container_image, "python:3.12");
        assert_eq!(
            effective.node_selector.len(),
            2,
            "node selectors merge per key"
        );
        let changes: Vec<(&str, Option<&str>, Option<&str>)> = changes
            .iter()
            .map(|c| {
                (
                    c.field.as_str(),
                    c.profile.as_deref(),
                    c.effective.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            changes,
            [
                ("node_selector.zone", None, Some("east")),
                ("resource_defaults.cpuRequest", Some("500m"), Some("2")),
                ("tags", None, Some(r#"["fast"]"#)),
            ]
        );
    }

    #[test]
    fn replacing_a_whole_field_unsets_what_the_override_leaves_out() {
        let profile = spec(r#"{"resourceDefaults": {"cpuRequest": "500m", "memoryLimit": "4Gi"}}"#);
        let overrides = spec(r#"{"resourceDefaults": {"cpuRequest": "1"}}"#);
        let (effective, changes) = override_changes(&profile, &overrides);
        assert_eq!(effective.resource_defaults.unwrap().memory_limit, "");
        assert!(changes.contains(&OverrideChange {
            field: "resource_defaults.memoryLimit".into(),
            profile: Some("4Gi".into()),
            effective: None,
        }));
    }

    #[test]
    fn overrides_written_in_yaml_round_trip_through_the_api_form() {
        use crate::field_path::FieldPath;
        use crate::profile_document::{read_spec_yaml, write_spec_yaml};
        let text = "runtime_class: gvisor\nresource_defaults:\n  cpuRequest: '2'\nnamespace:\n  strategy: static\n  staticNamespace: team-a\n";
        let (spec, violations) = read_spec_yaml(text, &FieldPath::root()).unwrap();
        assert!(violations.is_empty(), "{violations:?}");
        assert_eq!(spec.runtime_class, "gvisor");
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains(r#""namespaceConfigJson":"{"#), "{json}");
        let again = read_spec_yaml(&write_spec_yaml(&spec), &FieldPath::root()).unwrap();
        assert_eq!(again, (spec, Vec::new()));
        assert_eq!(write_spec_yaml(&ProfileSpec::default()), "");
        let (_, bad) = read_spec_yaml("runtime_clas: gvisor", &FieldPath::root()).unwrap();
        assert_eq!(bad[0].field, "runtime_clas");
        assert!(
            read_spec_yaml("a: [", &FieldPath::root())
                .unwrap_err()
                .starts_with("line 1")
        );
    }

    #[test]
    fn no_overrides_change_nothing() {
        let profile = spec(r#"{"containerImage": "python:3.12"}"#);
        let (effective, changes) = override_changes(&profile, &ProfileSpec::default());
        assert_eq!(effective, profile);
        assert!(changes.is_empty());
    }
}
