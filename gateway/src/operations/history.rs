//! Each object's history (`sandbox_api::history`): what the write operations record,
//! in the transaction of the change itself, and the listing behind
//! `GET /v1beta2/history`. Secrets never reach it: changes are computed by
//! `sandbox_api::history::changes`, which keeps their values out.

use std::time::Duration;

use rusqlite::Connection;
use sandbox_api::history::{
    Actor, HistoryAction, HistoryEntry, ListHistoryResponse, ObjectKind, changes,
};
use sandbox_api::page::page_size;
use sandbox_api::role::Role;
use sandbox_api::violation::Violation;
use serde::Serialize;
use serde_json::Value;

use super::{Platform, page_token};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::history::{self as rows, HistoryFilter};
use crate::store::sandboxes::SandboxRecord;
use crate::store::{self, Store, StoreError};

/// Who a caller is, as history names them.
pub fn actor(caller: &Caller) -> Actor {
    Actor::Token {
        organization_id: caller.organization.clone(),
        role: caller.role,
    }
}

/// One change to record: an object, what happened, by whom, and its JSON form before
/// and after (either absent for a create or a delete).
pub struct Change<'a> {
    pub kind: ObjectKind,
    pub id: &'a str,
    pub name: &'a str,
    pub action: HistoryAction,
    pub actor: Actor,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Records `change` for `organization` on `connection` (inside the change's own
/// transaction, so that either both are written or neither).
pub fn record(
    connection: &Connection,
    organization: &str,
    change: Change<'_>,
) -> store::Result<()> {
    let entry = HistoryEntry {
        id: String::new(),
        object_kind: change.kind,
        object_id: change.id.to_owned(),
        object_name: change.name.to_owned(),
        action: change.action,
        actor: change.actor,
        time: Some(store::now()),
        changes: changes(change.before.as_ref(), change.after.as_ref()),
    };
    rows::insert(connection, organization, &entry)
}

/// `object`'s JSON form without the fields every write changes or that say who it is
/// rather than what (`without`): what a change is compared on.
pub fn snapshot(object: &impl Serialize, without: &[&str]) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        for field in ["id", "organizationId", "etag", "createdAt", "updatedAt"]
            .iter()
            .chain(without)
        {
            fields.remove(*field);
        }
    }
    value
}

/// How history names a sandbox: its command line, shortened.
fn sandbox_name(record: &SandboxRecord) -> String {
    const LONGEST: usize = 80;
    let line = std::iter::once(record.request.command.as_str())
        .chain(record.request.args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    match line.char_indices().nth(LONGEST) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// A sandbox's entry for its start: what was asked (secrets kept out), and where it
/// was placed.
pub fn sandbox_created(
    connection: &Connection,
    record: &SandboxRecord,
    actor: Actor,
) -> store::Result<()> {
    let mut after = serde_json::to_value(&record.request)?;
    if let Value::Object(fields) = &mut after {
        fields.insert("runnerId".into(), record.runner_id.clone().into());
        fields.insert("profileName".into(), record.profile_name.clone().into());
    }
    let name = sandbox_name(record);
    let change = Change {
        kind: ObjectKind::Sandbox,
        id: &record.id,
        name: &name,
        action: HistoryAction::Created,
        actor,
        before: None,
        after: Some(after),
    };
    self::record(connection, &record.organization, change)
}

/// A sandbox's entry for a change of status (`after` is the record as it now is).
pub fn sandbox_status(
    connection: &Connection,
    before: &SandboxRecord,
    after: &SandboxRecord,
    action: HistoryAction,
    actor: Actor,
) -> store::Result<()> {
    let status = |record: &SandboxRecord| {
        serde_json::json!({
            "status": record.status.as_str(),
            "statusReason": record.status_reason,
            "exitCode": record.exit_code,
        })
    };
    let name = sandbox_name(after);
    let change = Change {
        kind: ObjectKind::Sandbox,
        id: &after.id,
        name: &name,
        action,
        actor,
        before: Some(status(before)),
        after: Some(status(after)),
    };
    record(connection, &after.organization, change)
}

/// A sandbox's entry for its deletion.
pub fn sandbox_deleted(
    connection: &Connection,
    record: &SandboxRecord,
    actor: Actor,
) -> store::Result<()> {
    let name = sandbox_name(record);
    let change = Change {
        kind: ObjectKind::Sandbox,
        id: &record.id,
        name: &name,
        action: HistoryAction::Deleted,
        actor,
        before: None,
        after: None,
    };
    self::record(connection, &record.organization, change)
}

/// Filters and paging of the history listing.
#[derive(Debug, Default)]
pub struct HistoryQuery {
    pub object_kind: String,
    pub object_id: String,
    pub action: String,
    pub page_size: Option<i64>,
    pub page_token: String,
}

/// The organization's history, newest first; each object's with `object_id`.
pub async fn list(
    platform: &Platform,
    caller: &Caller,
    query: HistoryQuery,
) -> Result<ListHistoryResponse, ApiError> {
    caller.require(Role::User)?;
    let size = page_size(query.page_size).map_err(|v| ApiError::invalid(&[v]))?;
    let filter = filter(&query)?;
    let before = match page_token::decode(&query.page_token)?.as_str() {
        "" => None,
        seq => Some(seq.parse::<i64>().map_err(|_| {
            ApiError::invalid(&[Violation::error(
                "page_token",
                "is not a page token this server issued",
            )])
        })?),
    };
    let organization = caller.organization.clone();
    let mut entries = platform
        .store
        .read(move |connection| rows::list(connection, &organization, &filter, before, size + 1))
        .await?;
    let next_page_token = if entries.len() > size as usize {
        entries.truncate(size as usize);
        entries
            .last()
            .map(|last| page_token::encode(&last.id))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(ListHistoryResponse {
        entries,
        next_page_token,
    })
}

fn filter(query: &HistoryQuery) -> Result<HistoryFilter, ApiError> {
    let mut violations = Vec::new();
    let object_kind = match query.object_kind.as_str() {
        "" => None,
        name => ObjectKind::parse(name).or_else(|| {
            violations.push(Violation::error(
                "object_kind",
                "must be PROFILE_TEMPLATE, RUNNER or SANDBOX",
            ));
            None
        }),
    };
    let action = match query.action.as_str() {
        "" => None,
        name => HistoryAction::parse(name).or_else(|| {
            violations.push(Violation::error(
                "action",
                "must be CREATED, UPDATED, DELETED, STOP_REQUESTED or STATUS_CHANGED",
            ));
            None
        }),
    };
    if !violations.is_empty() {
        return Err(ApiError::invalid(&violations));
    }
    Ok(HistoryFilter {
        object_kind,
        object_id: Some(query.object_id.clone()).filter(|id| !id.is_empty()),
        action,
    })
}

/// Forgets entries older than `keep`, now and every hour (local decision: history is
/// kept for `--history-retention-days`).
pub fn prune_periodically(store: Store, keep: Duration) {
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            let cutoff = store::now() - keep;
            match store
                .run(move |connection| rows::prune(connection, cutoff))
                .await
            {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "forgot history older than its retention"),
                Err(error) => {
                    let error: StoreError = error;
                    tracing::warn!("pruning history: {error}");
                }
            }
        }
    });
}
