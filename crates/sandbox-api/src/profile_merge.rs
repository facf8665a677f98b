//! Re-applying an administrator's edit on a copy someone else changed meanwhile (the
//! etag conflict flow): a three-way merge of the profile as structured data, so that
//! edits to different fields both survive and only edits to the same field collide.

use serde_json::{Map, Value};

use crate::profile_document::ProfileDocument;

/// The result of re-applying an edit.
#[derive(Clone, Debug, PartialEq)]
pub struct Reapplied {
    /// The other copy with the edit applied, in the CLI's form as structured data.
    pub merged: Value,
    /// Fields both sides changed differently (dotted paths); the edit wins there.
    pub conflicts: Vec<String>,
}

impl Reapplied {
    /// The merged profile as CLI-form YAML text, for the editor.
    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(&self.merged).unwrap_or_default()
    }
}

/// Applies what changed from `base` to `mine` onto `theirs`.
pub fn reapply(
    base: &ProfileDocument,
    mine: &ProfileDocument,
    theirs: &ProfileDocument,
) -> Reapplied {
    let as_value = |d: &ProfileDocument| serde_json::to_value(d).unwrap_or(Value::Null);
    let mut conflicts = Vec::new();
    let merged = merge(
        Some(&as_value(base)),
        Some(&as_value(mine)),
        Some(&as_value(theirs)),
        "",
        &mut conflicts,
    )
    .unwrap_or(Value::Null);
    Reapplied { merged, conflicts }
}

/// The merged value at `path` (`None`: absent), recording collisions.
fn merge(
    base: Option<&Value>,
    mine: Option<&Value>,
    theirs: Option<&Value>,
    path: &str,
    conflicts: &mut Vec<String>,
) -> Option<Value> {
    if mine == base {
        return theirs.cloned();
    }
    if theirs == base || mine == theirs {
        return mine.cloned();
    }
    if let (Some(Value::Object(m)), Some(Value::Object(t))) = (mine, theirs) {
        let empty = Map::new();
        let b = match base {
            Some(Value::Object(b)) => b,
            _ => &empty,
        };
        let mut keys: Vec<&String> = m.keys().chain(t.keys()).chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        let mut out = Map::new();
        for key in keys {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if let Some(value) = merge(b.get(key), m.get(key), t.get(key), &child, conflicts) {
                out.insert(key.clone(), value);
            }
        }
        return Some(Value::Object(out));
    }
    conflicts.push(path.to_owned());
    mine.cloned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document(description: &str, runtime: &str, labels: &[(&str, &str)]) -> ProfileDocument {
        let mut d = ProfileDocument {
            display_name: "p".to_owned(),
            description: description.to_owned(),
            ..ProfileDocument::default()
        };
        d.spec.runtime_class = runtime.to_owned();
        d.labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        d
    }

    #[test]
    fn edits_to_different_fields_both_survive() {
        let base = document("old", "gvisor", &[("team", "a")]);
        let mine = document("mine", "gvisor", &[("team", "a")]);
        let theirs = document("old", "kata", &[("team", "a"), ("tier", "gold")]);
        let result = reapply(&base, &mine, &theirs);
        assert!(result.conflicts.is_empty());
        assert_eq!(result.merged["description"], json!("mine"));
        assert_eq!(result.merged["spec"]["runtime_class"], json!("kata"));
        assert_eq!(result.merged["labels"]["tier"], json!("gold"));
    }

    #[test]
    fn the_same_field_changed_twice_is_a_conflict_the_edit_wins() {
        let base = document("old", "gvisor", &[]);
        let mine = document("mine", "gvisor", &[]);
        let theirs = document("theirs", "gvisor", &[]);
        let result = reapply(&base, &mine, &theirs);
        assert_eq!(result.conflicts, ["description"]);
        assert_eq!(result.merged["description"], json!("mine"));
    }

    #[test]
    fn a_field_removed_on_one_side_stays_removed() {
        let base = document("old", "gvisor", &[("team", "a")]);
        let mine = document("old", "gvisor", &[]);
        let theirs = document("theirs", "gvisor", &[("team", "a")]);
        let result = reapply(&base, &mine, &theirs);
        assert!(result.conflicts.is_empty());
        assert!(
            result
                .merged
                .get("labels")
                .is_none_or(|l| l.get("team").is_none())
        );
        assert_eq!(result.merged["description"], json!("theirs"));
    }
}
