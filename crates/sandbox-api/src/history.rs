//! Each object's history (local decision, in the style of SPEC §3): who changed a
//! profile template, a runner (with its bindings) or a sandbox, when, and what, field
//! by field. The gateway records an entry with every write, in the write's own
//! transaction, and serves them newest first at `GET /v1beta2/history`; the console
//! shows them on each object's page and on the Activity page.
//!
//! What a change shows is computed here, once: [`changes`] compares an object's JSON
//! form before and after, field by field, and never keeps a secret's value (environment
//! variable values and mounted files' contents: such a change is recorded as
//! [`FieldChange::redacted`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::json::proto_enum;
use crate::role::Role;

proto_enum! {
    /// What kind of object an entry is about.
    pub enum ObjectKind {
        Unspecified = "OBJECT_KIND_UNSPECIFIED",
        ProfileTemplate = "PROFILE_TEMPLATE",
        /// A runner, bindings included.
        Runner = "RUNNER",
        Sandbox = "SANDBOX",
    }
}

proto_enum! {
    /// What happened to the object.
    pub enum HistoryAction {
        Unspecified = "HISTORY_ACTION_UNSPECIFIED",
        Created = "CREATED",
        Updated = "UPDATED",
        /// For a runner: its removal began.
        Deleted = "DELETED",
        /// A sandbox was asked to stop.
        StopRequested = "STOP_REQUESTED",
        /// The platform moved the object on (a sandbox started, ended).
        StatusChanged = "STATUS_CHANGED",
    }
}

impl ObjectKind {
    /// The kind a filter names, in its wire form or in lower case (`runner`).
    pub fn parse(name: &str) -> Option<ObjectKind> {
        match ObjectKind::from_name(&name.to_ascii_uppercase()) {
            ObjectKind::Unspecified => None,
            kind => Some(kind),
        }
    }
}

impl HistoryAction {
    /// The action a filter names, in its wire form or in lower case (`updated`).
    pub fn parse(name: &str) -> Option<HistoryAction> {
        match HistoryAction::from_name(&name.to_ascii_uppercase()) {
            HistoryAction::Unspecified => None,
            action => Some(action),
        }
    }
}

/// Who made a change: a bearer token (of an organization and a role: tokens have no
/// names), or the gateway itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum Actor {
    Token { organization_id: String, role: Role },
    Gateway,
}

/// One field that changed. `before` is absent for a field that was added, `after` for
/// one that was removed, and both for a secret ([`FieldChange::redacted`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldChange {
    /// Where, as `spec.resourceDefaults.memoryLimit`, `profileBindings[gpu].isDefault`
    /// (list items by their name where they have one) or `environmentVariables.TOKEN`.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// A secret changed; its values are not kept.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

/// One recorded change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// Increases with every entry of the gateway.
    pub id: String,
    pub object_kind: ObjectKind,
    /// The object's UUID.
    pub object_id: String,
    /// Its name as of the change (display name, runner ID, or the sandbox's command).
    pub object_name: String,
    pub action: HistoryAction,
    pub actor: Actor,
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub time: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}

/// Answer of `GET /v1beta2/history`: newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListHistoryResponse {
    pub entries: Vec<HistoryEntry>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub next_page_token: String,
}

impl Actor {
    /// Who, in words: "an administrator of acme", "the gateway".
    pub fn describe(&self) -> String {
        match self {
            Actor::Token {
                organization_id,
                role: Role::Admin,
            } => format!("an administrator of {organization_id}"),
            Actor::Token {
                organization_id,
                role: Role::User,
            } => format!("a user of {organization_id}"),
            Actor::Gateway => "the gateway".to_owned(),
        }
    }
}

impl HistoryAction {
    /// What happened, in words, to an object of `kind`.
    pub fn describe(self, kind: ObjectKind) -> &'static str {
        match (self, kind) {
            (HistoryAction::Created, ObjectKind::Sandbox) => "started",
            (HistoryAction::Created, _) => "created",
            (HistoryAction::Updated, _) => "changed",
            (HistoryAction::Deleted, ObjectKind::Runner) => "began removing",
            (HistoryAction::Deleted, _) => "deleted",
            (HistoryAction::StopRequested, _) => "asked to stop",
            (HistoryAction::StatusChanged, _) => "status changed",
            (HistoryAction::Unspecified, _) => "did something new to",
        }
    }
}

impl ObjectKind {
    /// The kind in words, as a noun.
    pub fn noun(self) -> &'static str {
        match self {
            ObjectKind::ProfileTemplate => "profile",
            ObjectKind::Runner => "runner",
            ObjectKind::Sandbox => "sandbox",
            ObjectKind::Unspecified => "object",
        }
    }

    /// The console path of the object `id` (named `name`) of this kind.
    pub fn console_path(self, id: &str, name: &str) -> Option<String> {
        match self {
            ObjectKind::ProfileTemplate => Some(format!("/profiles/{id}")),
            ObjectKind::Runner => Some(format!("/runners/{name}")),
            ObjectKind::Sandbox => Some(format!("/sandboxes/{id}")),
            ObjectKind::Unspecified => None,
        }
    }
}

/// A recorded value as text: strings as they are, anything else as compact JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The fields that differ between `before` and `after` (either absent for an object
/// created or removed), in path order. Lists of named items are compared item by
/// name, fields holding JSON text (`podTemplateJson`) field by field, and lists of
/// plain values (`args`, `tags`) as one value.
pub fn changes(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
    let (mut old, mut new) = (BTreeMap::new(), BTreeMap::new());
    if let Some(before) = before {
        flatten(before, String::new(), Context::Plain, &mut old);
    }
    if let Some(after) = after {
        flatten(after, String::new(), Context::Plain, &mut new);
    }
    let mut paths: Vec<&String> = old.keys().chain(new.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter_map(|path| {
            let (was, is) = (old.get(path), new.get(path));
            if was.map(|l: &Leaf| &l.value) == is.map(|l: &Leaf| &l.value) {
                return None;
            }
            let secret = was.is_some_and(|l| l.secret) || is.is_some_and(|l| l.secret);
            Some(if secret {
                FieldChange {
                    path: path.clone(),
                    redacted: true,
                    ..FieldChange::default()
                }
            } else {
                FieldChange {
                    path: path.clone(),
                    before: was.map(|l| l.value.clone()),
                    after: is.map(|l| l.value.clone()),
                    redacted: false,
                }
            })
        })
        .collect()
}

/// A field's value, and whether it is a secret.
struct Leaf {
    value: Value,
    secret: bool,
}

/// Where in an object a value sits, as far as secrets go.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    Plain,
    /// Under `environmentVariables`, `fileContent` or an `env` item's `value`.
    Secret,
    /// An item of a pod template's `env` list: its `value` is a secret.
    EnvItem,
}

/// The keys that name a list's items, in order of preference.
const ITEM_NAMES: [&str; 5] = ["profileName", "name", "mountPath", "envVar", "id"];

fn flatten(value: &Value, path: String, context: Context, out: &mut BTreeMap<String, Leaf>) {
    match value {
        Value::Object(fields) => {
            for (key, value) in fields {
                let inner = match (context, key.as_str()) {
                    (Context::Secret, _) => Context::Secret,
                    (_, "environmentVariables" | "fileContent") => Context::Secret,
                    (Context::EnvItem, "value") => Context::Secret,
                    _ => Context::Plain,
                };
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key == "env"
                    && let Value::Array(items) = value
                {
                    flatten_items(items, &path, Context::EnvItem, out);
                } else {
                    flatten(value, path, inner, out);
                }
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            flatten_items(items, &path, context, out);
        }
        // JSON text (`podTemplateJson`): compared field by field, its secrets kept out.
        Value::String(text) if path.ends_with("Json") && text.trim_start().starts_with('{') => {
            match serde_json::from_str::<Value>(text) {
                Ok(parsed) => flatten(&parsed, path, context, out),
                Err(_) => leaf(value, path, context, out),
            }
        }
        Value::Array(items) if items.is_empty() => {}
        _ => leaf(value, path, context, out),
    }
}

fn leaf(value: &Value, path: String, context: Context, out: &mut BTreeMap<String, Leaf>) {
    out.insert(
        path,
        Leaf {
            value: value.clone(),
            secret: context == Context::Secret,
        },
    );
}

/// A list's items, each under its name when every item has a distinct one, else under
/// its index.
fn flatten_items(items: &[Value], path: &str, context: Context, out: &mut BTreeMap<String, Leaf>) {
    let names: Option<Vec<&str>> = ITEM_NAMES.iter().find_map(|key| {
        let names: Option<Vec<&str>> = items.iter().map(|item| item.get(key)?.as_str()).collect();
        names.filter(|names| {
            let mut distinct = names.clone();
            distinct.sort_unstable();
            distinct.dedup();
            distinct.len() == names.len()
        })
    });
    for (index, item) in items.iter().enumerate() {
        let label = match &names {
            Some(names) => names[index].to_owned(),
            None => index.to_string(),
        };
        flatten(item, format!("{path}[{label}]"), context, out);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(changes: &[FieldChange]) -> Vec<&str> {
        changes.iter().map(|c| c.path.as_str()).collect()
    }

    #[test]
    fn a_changed_field_shows_its_path_and_both_values() {
        let before =
            json!({"spec": {"resourceDefaults": {"memoryLimit": "8Gi"}, "containerImage": "a"}});
        let after =
            json!({"spec": {"resourceDefaults": {"memoryLimit": "16Gi"}, "containerImage": "a"}});
        let found = changes(Some(&before), Some(&after));
        assert_eq!(
            found,
            vec![FieldChange {
                path: "spec.resourceDefaults.memoryLimit".into(),
                before: Some(json!("8Gi")),
                after: Some(json!("16Gi")),
                redacted: false,
            }]
        );
    }

    #[test]
    fn list_items_are_compared_by_name_and_plain_lists_as_one_value() {
        let before = json!({"profileBindings": [
            {"profileName": "cpu", "isDefault": true},
            {"profileName": "gpu", "isDefault": false}
        ], "tags": ["a"]});
        let after = json!({"profileBindings": [
            {"profileName": "gpu", "isDefault": true},
            {"profileName": "cpu"}
        ], "tags": ["a", "b"]});
        let found = changes(Some(&before), Some(&after));
        assert_eq!(
            paths(&found),
            [
                "profileBindings[cpu].isDefault",
                "profileBindings[gpu].isDefault",
                "tags"
            ]
        );
        assert_eq!(found[0].after, None, "removed");
        assert_eq!(found[2].after, Some(json!(["a", "b"])));
    }

    #[test]
    fn items_without_distinct_names_go_by_index() {
        let before = json!({"ports": [{"name": "x", "port": 1}, {"name": "x", "port": 2}]});
        let after = json!({"ports": [{"name": "x", "port": 1}, {"name": "x", "port": 3}]});
        assert_eq!(
            paths(&changes(Some(&before), Some(&after))),
            ["ports[1].port"]
        );
    }

    #[test]
    fn a_created_object_lists_every_field_and_a_removed_one_every_old_value() {
        let object = json!({"command": "python", "args": ["-c", "1"], "resources": {"cpu": "1"}});
        let created = changes(None, Some(&object));
        assert_eq!(paths(&created), ["args", "command", "resources.cpu"]);
        assert!(
            created
                .iter()
                .all(|c| c.before.is_none() && c.after.is_some())
        );
        let removed = changes(Some(&object), None);
        assert!(
            removed
                .iter()
                .all(|c| c.before.is_some() && c.after.is_none())
        );
    }

    #[test]
    fn secrets_are_never_kept_only_that_they_changed() {
        let before = json!({
            "environmentVariables": {"TOKEN": "hunter2", "MODE": "dev"},
            "mountedFiles": [{"mountPath": "/etc/key", "fileContent": "c2VjcmV0"}],
            "podTemplateJson": "{\"spec\":{\"containers\":[{\"name\":\"main\",\"env\":[{\"name\":\"KEY\",\"value\":\"s1\"}]}]}}"
        });
        let after = json!({
            "environmentVariables": {"TOKEN": "hunter3", "MODE": "dev"},
            "mountedFiles": [{"mountPath": "/etc/key", "fileContent": "b3RoZXI="}],
            "podTemplateJson": "{\"spec\":{\"containers\":[{\"name\":\"main\",\"env\":[{\"name\":\"KEY\",\"value\":\"s2\"}]}]}}"
        });
        let found = changes(Some(&before), Some(&after));
        assert_eq!(
            paths(&found),
            [
                "environmentVariables.TOKEN",
                "mountedFiles[/etc/key].fileContent",
                "podTemplateJson.spec.containers[main].env[KEY].value",
            ]
        );
        assert!(
            found
                .iter()
                .all(|c| c.redacted && c.before.is_none() && c.after.is_none())
        );
        let text = serde_json::to_string(&found).unwrap();
        for secret in ["hunter", "c2VjcmV0", "b3RoZXI", "s1", "s2"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        // Created with secrets: their names only.
        let created = serde_json::to_string(&changes(None, Some(&after))).unwrap();
        assert!(created.contains("environmentVariables.TOKEN") && !created.contains("hunter3"));
        assert!(
            !created.contains("\"dev\""),
            "every variable's value is kept out"
        );
        assert!(
            created.contains("\"after\":\"/etc/key\""),
            "plain values stay: {created}"
        );
    }

    #[test]
    fn entries_read_as_words() {
        let admin = Actor::Token {
            organization_id: "acme".into(),
            role: Role::Admin,
        };
        assert_eq!(admin.describe(), "an administrator of acme");
        assert_eq!(Actor::Gateway.describe(), "the gateway");
        assert_eq!(
            HistoryAction::Created.describe(ObjectKind::Sandbox),
            "started"
        );
        assert_eq!(
            HistoryAction::Deleted.describe(ObjectKind::Runner),
            "began removing"
        );
        assert_eq!(value_text(&json!("8Gi")), "8Gi");
        assert_eq!(value_text(&json!(["a", "b"])), r#"["a","b"]"#);
        assert_eq!(
            ObjectKind::Runner
                .console_path("u-1", "gpu-east")
                .as_deref(),
            Some("/runners/gpu-east")
        );
    }

    #[test]
    fn entries_travel_in_their_wire_form() {
        let entry = HistoryEntry {
            id: "7".into(),
            object_kind: ObjectKind::Runner,
            object_id: "u-1".into(),
            object_name: "gpu-east".into(),
            action: HistoryAction::Updated,
            actor: Actor::Token {
                organization_id: "acme".into(),
                role: Role::Admin,
            },
            time: None,
            changes: vec![],
        };
        let text = serde_json::to_value(&entry).unwrap();
        assert_eq!(
            text,
            json!({"id": "7", "objectKind": "RUNNER", "objectId": "u-1", "objectName": "gpu-east",
                   "action": "UPDATED",
                   "actor": {"kind": "TOKEN", "organizationId": "acme", "role": "SANDBOX_ADMIN"}})
        );
        assert_eq!(serde_json::from_value::<HistoryEntry>(text).unwrap(), entry);
        assert_eq!(
            serde_json::to_value(Actor::Gateway).unwrap(),
            json!({"kind": "GATEWAY"})
        );
        assert_eq!(ObjectKind::parse("runner"), Some(ObjectKind::Runner));
        assert_eq!(HistoryAction::parse("nope"), None);
    }
}
