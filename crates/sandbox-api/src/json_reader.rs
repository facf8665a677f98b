//! Reading a JSON value (parsed from YAML or JSON text) into domain types while
//! collecting every violation with its field path, instead of stopping at the first.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::field_path::FieldPath;
use crate::violation::Violation;

/// Collects violations while domain types are read from JSON values.
#[derive(Default)]
pub struct Reader {
    pub violations: Vec<Violation>,
}

impl Reader {
    pub fn error(&mut self, path: &FieldPath, message: impl Into<String>) {
        self.violations
            .push(Violation::error(path.to_string(), message));
    }

    pub fn warning(&mut self, path: &FieldPath, message: impl Into<String>) {
        self.violations
            .push(Violation::warning(path.to_string(), message));
    }

    /// The value as an object, or a violation.
    pub fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &FieldPath,
    ) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map),
            other => {
                self.error(
                    path,
                    format!("must be a mapping (an object), not {}", kind(other)),
                );
                None
            }
        }
    }

    /// Reports every key of `map` that is not in `known`, suggesting a close one.
    pub fn known_keys(&mut self, map: &Map<String, Value>, path: &FieldPath, known: &[&str]) {
        for key in map.keys().filter(|key| !known.contains(&key.as_str())) {
            let message = match closest(key, known) {
                Some(suggestion) => format!("unknown field; did you mean {suggestion}?"),
                None => format!("unknown field; expected one of: {}", known.join(", ")),
            };
            self.error(&path.key(key), message);
        }
    }

    pub fn string(&mut self, map: &Map<String, Value>, key: &str, path: &FieldPath) -> String {
        match map.get(key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                self.error(
                    &path.key(key),
                    format!("must be a string, not {}", kind(other)),
                );
                String::new()
            }
        }
    }

    /// A string, also accepting a number written without quotes (`cpuRequest: 1`).
    pub fn string_or_number(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &FieldPath,
    ) -> String {
        match map.get(key) {
            Some(Value::Number(n)) => n.to_string(),
            _ => self.string(map, key, path),
        }
    }

    pub fn boolean(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &FieldPath,
    ) -> Option<bool> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                self.error(
                    &path.key(key),
                    format!("must be true or false, not {}", kind(other)),
                );
                None
            }
        }
    }

    pub fn string_list(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &FieldPath,
    ) -> Vec<String> {
        let path = path.key(key);
        match map.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| match item {
                    Value::String(s) => Some(s.clone()),
                    other => {
                        self.error(
                            &path.index(i),
                            format!("must be a string, not {}", kind(other)),
                        );
                        None
                    }
                })
                .collect(),
            Some(other) => {
                self.error(&path, format!("must be a list, not {}", kind(other)));
                Vec::new()
            }
        }
    }

    /// A map of strings to strings (labels, node selectors); numbers and booleans
    /// written without quotes are reported, because Kubernetes wants strings.
    pub fn string_map(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &FieldPath,
    ) -> BTreeMap<String, String> {
        let path = path.key(key);
        let Some(value) = map.get(key).filter(|v| !v.is_null()) else {
            return BTreeMap::new();
        };
        let Some(entries) = self.object(value, &path) else {
            return BTreeMap::new();
        };
        entries
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k.clone(), s.clone())),
                other => {
                    self.error(
                        &path.key(k),
                        format!("must be a string (quote it), not {}", kind(other)),
                    );
                    None
                }
            })
            .collect()
    }
}

/// How a JSON value reads in a message.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The known name at most two edits away from `key`, if exactly one is closest.
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for candidate in known {
        let distance = edit_distance(&key.to_ascii_lowercase(), &candidate.to_ascii_lowercase());
        if distance <= 2 && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unknown_keys_get_a_suggestion_when_one_is_close() {
        let mut reader = Reader::default();
        let value = json!({"container_imag": "x", "zzz": 1, "runtime_class": "gvisor"});
        let map = value.as_object().unwrap();
        reader.known_keys(
            map,
            &FieldPath::root().key("spec"),
            &["container_image", "runtime_class"],
        );
        let messages: Vec<_> = reader
            .violations
            .iter()
            .map(|v| (v.field.as_str(), v.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            [
                (
                    "spec.container_imag",
                    "unknown field; did you mean container_image?"
                ),
                (
                    "spec.zzz",
                    "unknown field; expected one of: container_image, runtime_class"
                ),
            ]
        );
    }

    #[test]
    fn wrong_types_are_reported_and_read_as_empty() {
        let mut reader = Reader::default();
        let value = json!({"a": 5, "b": ["x", 2], "c": {"k": true}, "d": "yes", "n": 2});
        let map = value.as_object().unwrap();
        let root = FieldPath::root();
        assert_eq!(reader.string(map, "a", &root), "");
        assert_eq!(reader.string_list(map, "b", &root), ["x"]);
        assert!(reader.string_map(map, "c", &root).is_empty());
        assert_eq!(reader.boolean(map, "d", &root), None);
        assert_eq!(reader.string_or_number(map, "n", &root), "2");
        let fields: Vec<_> = reader.violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["a", "b[1]", "c.k", "d"]);
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
