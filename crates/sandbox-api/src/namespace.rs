//! Where a profile's sandboxes get their Kubernetes namespace (the `namespace` object of
//! a profile spec, SPEC §3.1).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::field_path::FieldPath;
use crate::json_reader::Reader;
use crate::names::{dns1123_label_problem, label_key_problem, label_value_problem};

/// Longest namespace prefix: it must leave room for a generated suffix within the 63
/// characters of a namespace name (local decision).
pub const MAX_NAMESPACE_PREFIX: usize = 30;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NamespaceStrategy {
    /// One namespace per user (the default when the object is absent).
    #[default]
    PerUser,
    PerOrg,
    PerProfile,
    /// Every sandbox in one named namespace.
    Static,
}

impl NamespaceStrategy {
    pub const ALL: [NamespaceStrategy; 4] = [
        NamespaceStrategy::PerUser,
        NamespaceStrategy::PerOrg,
        NamespaceStrategy::PerProfile,
        NamespaceStrategy::Static,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NamespaceStrategy::PerUser => "per-user",
            NamespaceStrategy::PerOrg => "per-org",
            NamespaceStrategy::PerProfile => "per-profile",
            NamespaceStrategy::Static => "static",
        }
    }

    pub fn parse(text: &str) -> Option<NamespaceStrategy> {
        NamespaceStrategy::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceConfig {
    pub strategy: NamespaceStrategy,
    pub namespace_prefix: String,
    pub static_namespace: String,
    pub auto_create: bool,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl Default for NamespaceConfig {
    fn default() -> NamespaceConfig {
        NamespaceConfig {
            strategy: NamespaceStrategy::PerUser,
            namespace_prefix: String::new(),
            static_namespace: String::new(),
            auto_create: true,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
        }
    }
}

/// Reads and checks the namespace object at `path`.
/// The strategy a spec's namespace JSON (`namespaceConfigJson`) names, for lists that
/// show it: the default when the JSON is absent or names none; `None` when it does not
/// parse or names no known strategy (validation says why).
pub fn strategy_of(namespace_config_json: &str) -> Option<NamespaceStrategy> {
    #[derive(serde::Deserialize)]
    struct Named {
        strategy: Option<String>,
    }
    if namespace_config_json.trim().is_empty() {
        return Some(NamespaceStrategy::default());
    }
    let named: Named = serde_json::from_str(namespace_config_json).ok()?;
    match named.strategy.as_deref() {
        None | Some("") => Some(NamespaceStrategy::default()),
        Some(text) => NamespaceStrategy::parse(text),
    }
}

pub fn read_namespace(value: &Value, path: &FieldPath, reader: &mut Reader) -> NamespaceConfig {
    let mut config = NamespaceConfig::default();
    let Some(map) = reader.object(value, path) else {
        return config;
    };
    reader.known_keys(
        map,
        path,
        &[
            "strategy",
            "namespacePrefix",
            "staticNamespace",
            "autoCreate",
            "labels",
            "annotations",
        ],
    );
    let strategy = reader.string(map, "strategy", path);
    if !strategy.is_empty() {
        match NamespaceStrategy::parse(&strategy) {
            Some(parsed) => config.strategy = parsed,
            None => reader.error(
                &path.key("strategy"),
                format!("{strategy:?} is not a strategy; use one of: per-user, per-org, per-profile, static"),
            ),
        }
    }
    config.namespace_prefix = reader.string(map, "namespacePrefix", path);
    if let Some(problem) = namespace_prefix_problem(&config.namespace_prefix) {
        reader.error(&path.key("namespacePrefix"), problem);
    }
    config.static_namespace = reader.string(map, "staticNamespace", path);
    let static_path = path.key("staticNamespace");
    match (config.strategy, config.static_namespace.is_empty()) {
        (NamespaceStrategy::Static, true) => {
            reader.error(&static_path, "is required when strategy is static");
        }
        (NamespaceStrategy::Static, false) => {
            if let Some(problem) = dns1123_label_problem(&config.static_namespace) {
                reader.error(
                    &static_path,
                    format!("must be a DNS-1123 label: it {problem}"),
                );
            }
        }
        (other, false) => reader.error(
            &static_path,
            format!(
                "is only allowed when strategy is static (it is {})",
                other.as_str()
            ),
        ),
        (_, true) => {}
    }
    config.auto_create = reader.boolean(map, "autoCreate", path).unwrap_or(true);
    config.labels = reader.string_map(map, "labels", path);
    for (key, value) in &config.labels {
        check_label(reader, &path.key("labels"), key, Some(value));
    }
    config.annotations = reader.string_map(map, "annotations", path);
    for key in config.annotations.keys() {
        check_label(reader, &path.key("annotations"), key, None);
    }
    config
}

/// Checks a label's key and, when given, its value.
pub fn check_label(reader: &mut Reader, map_path: &FieldPath, key: &str, value: Option<&str>) {
    let path = map_path.key(key);
    if let Some(problem) = label_key_problem(key) {
        reader.error(&path, format!("is not a valid key: {problem}"));
    }
    if let Some(problem) = value.and_then(label_value_problem) {
        reader.error(&path, format!("has an invalid value: it {problem}"));
    }
}

fn namespace_prefix_problem(prefix: &str) -> Option<String> {
    if prefix.is_empty() {
        return None;
    }
    if prefix.len() > MAX_NAMESPACE_PREFIX {
        return Some(format!(
            "must be at most {MAX_NAMESPACE_PREFIX} characters, to leave room for the generated suffix"
        ));
    }
    let lower_alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !prefix.chars().all(|c| lower_alnum(c) || c == '-') || !prefix.starts_with(lower_alnum) {
        return Some(
            "must start a DNS-1123 label: lowercase letters, digits and '-', starting with a letter or digit"
                .into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(value: Value) -> (NamespaceConfig, Vec<(String, String)>) {
        let mut reader = Reader::default();
        let config = read_namespace(
            &value,
            &FieldPath::root().key("spec").key("namespace"),
            &mut reader,
        );
        let violations = reader
            .violations
            .into_iter()
            .map(|v| (v.field, v.message))
            .collect();
        (config, violations)
    }

    #[test]
    fn a_per_user_namespace_with_a_prefix_is_valid() {
        let (config, violations) = check(
            json!({"strategy": "per-user", "namespacePrefix": "agent-", "autoCreate": false}),
        );
        assert_eq!(violations, []);
        assert_eq!(config.strategy, NamespaceStrategy::PerUser);
        assert_eq!(config.namespace_prefix, "agent-");
        assert!(!config.auto_create);
    }

    #[test]
    fn static_needs_a_namespace_and_only_static_may_have_one() {
        let (_, violations) = check(json!({"strategy": "static"}));
        assert_eq!(
            violations,
            [(
                "spec.namespace.staticNamespace".into(),
                "is required when strategy is static".into()
            )]
        );
        let (_, violations) = check(json!({"strategy": "per-org", "staticNamespace": "ci"}));
        assert!(
            violations[0]
                .1
                .contains("only allowed when strategy is static")
        );
        let (_, violations) = check(json!({"strategy": "static", "staticNamespace": "CI_Jobs"}));
        assert!(violations[0].1.contains("DNS-1123"));
    }

    #[test]
    fn bad_strategy_prefix_and_labels_are_each_reported() {
        let (_, violations) = check(json!({
            "strategy": "per-team",
            "namespacePrefix": "a-very-long-prefix-that-is-longer-than-thirty",
            "labels": {"ok": "x", "bad key": "y"},
            "colour": "blue"
        }));
        let fields: Vec<_> = violations.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.namespace.colour",
                "spec.namespace.strategy",
                "spec.namespace.namespacePrefix",
                r#"spec.namespace.labels["bad key"]"#
            ]
        );
    }

    #[test]
    fn the_strategy_is_read_from_the_json_or_defaulted() {
        assert_eq!(strategy_of(""), Some(NamespaceStrategy::PerUser));
        assert_eq!(strategy_of("{}"), Some(NamespaceStrategy::PerUser));
        assert_eq!(
            strategy_of(r#"{"strategy": "static", "staticNamespace": "x"}"#),
            Some(NamespaceStrategy::Static)
        );
        assert_eq!(strategy_of(r#"{"strategy": "sideways"}"#), None);
        assert_eq!(strategy_of("{"), None);
    }
}
