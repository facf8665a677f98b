//! Managed-runner operations (SPEC §3.2): create, read, update (with whole-list binding
//! replacement), apply an update, delete. The fleet's installer (`fleet`) does what the
//! platform does after each: install, connect, roll out, tear down.

use std::collections::BTreeMap;

use sandbox_api::error::{Code, Reason, Status};
use sandbox_api::history::{Actor, HistoryAction, ObjectKind};
use sandbox_api::page::page_size;
use sandbox_api::role::Role;
use sandbox_api::runner::{
    CreateRunnerRequest, ListRunnersResponse, ManagementMode, ReleaseChannel, Runner,
    RunnerConnectionStatus, RunnerInstallStatus, UpdateRunnerRequest,
};
use sandbox_api::runner_rules::{
    apply_runner_update, parse_runner_update_mask, validate_new_runner, validate_runner_state,
};
use sandbox_api::violation::{Violation, errors};
use time::OffsetDateTime;

use super::history::{self, Change};
use super::{Platform, page_token};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::read_model::{LiveRunners, Liveness};
use crate::store::runners::{self as rows, InsertError, StoredRunner};
use crate::store::{self, profile_templates};

/// Filters of the runner list.
#[derive(Debug, Default)]
pub struct RunnerListQuery {
    pub zone: String,
    pub connection_status: String,
    pub page_size: Option<i64>,
    pub page_token: String,
}

pub async fn create(
    platform: &Platform,
    caller: &Caller,
    request: CreateRunnerRequest,
) -> Result<Runner, ApiError> {
    caller.require(Role::Admin)?;
    let organization = caller.organization.clone();
    let actor = history::actor(caller);
    let created = platform
        .store
        .run(move |connection| {
            let names = template_names(connection, &organization)?;
            let blocking = errors(&validate_new_runner(&request, |id| names.get(id).cloned()));
            if !blocking.is_empty() {
                return Err(ApiError::invalid(&blocking));
            }
            let now = store::now();
            let mut runner = request.runner;
            let identity = runner.identity.get_or_insert_with(Default::default);
            identity.runner_id = request.runner_id.clone();
            runner.id = uuid::Uuid::new_v4().to_string();
            runner.management_mode = ManagementMode::Managed;
            runner.install_status = RunnerInstallStatus::Pending;
            runner.target_revision = 1;
            runner.active_revision = 0;
            runner.update_available = release_has_update(&runner);
            runner.created_at = Some(now);
            runner.updated_at = Some(now);
            runner.etag = store::new_etag();
            let stored = StoredRunner {
                organization: organization.clone(),
                runner,
                capacity: None,
            };
            // The runner and its bindings are written together or not at all.
            let inserted = store::in_transaction(connection, |tx| {
                rows::insert(tx, &stored)?;
                let change = runner_change(&stored, HistoryAction::Created, actor, None, &names);
                history::record(tx, &stored.organization, change)?;
                Ok(())
            });
            match inserted {
                Ok(()) => {}
                Err(InsertError::DuplicateCluster) => {
                    return Err(ApiError::new(
                        Code::AlreadyExists,
                        "a managed runner already exists for this cluster",
                    ));
                }
                Err(InsertError::DuplicateRunnerId) => {
                    return Err(ApiError::new(
                        Code::AlreadyExists,
                        format!(
                            "a runner with ID {:?} already exists in this organization",
                            request.runner_id
                        ),
                    ));
                }
                Err(InsertError::Database(e)) => return Err(e.into()),
            }
            Ok(stored)
        })
        .await?;
    platform.installer.install(created.uuid());
    Ok(to_wire(created, &platform.live, platform.liveness))
}

pub async fn get(platform: &Platform, caller: &Caller, key: &str) -> Result<Runner, ApiError> {
    caller.require(Role::User)?;
    find(platform, &caller.organization, key)
        .await
        .map(|stored| to_wire(stored, &platform.live, platform.liveness))
}

pub async fn list(
    platform: &Platform,
    caller: &Caller,
    query: RunnerListQuery,
) -> Result<ListRunnersResponse, ApiError> {
    caller.require(Role::User)?;
    let size = page_size(query.page_size).map_err(|v| ApiError::invalid(&[v]))?;
    let connection_filter = match query.connection_status.as_str() {
        "" => None,
        name => match RunnerConnectionStatus::from_name(name) {
            RunnerConnectionStatus::Unspecified => {
                return Err(ApiError::invalid(&[Violation::error(
                    "connection_status",
                    "must be RUNNER_CONNECTION_STATUS_CONNECTED or RUNNER_CONNECTION_STATUS_DISCONNECTED",
                )]));
            }
            status => Some(status),
        },
    };
    let after = page_token::decode(&query.page_token)?;
    let organization = caller.organization.clone();
    let liveness = platform.liveness;
    let all = platform
        .store
        .read(move |connection| rows::list(connection, Some(&organization), &after, u32::MAX))
        .await?;
    let mut runners: Vec<Runner> = all
        .into_iter()
        .map(|stored| to_wire(stored, &platform.live, liveness))
        .filter(|r| {
            query.zone.is_empty() || r.identity.as_ref().is_some_and(|i| i.zone == query.zone)
        })
        .filter(|r| connection_filter.is_none_or(|status| r.connection_status == status))
        .take(size as usize + 1)
        .collect();
    let next_page_token = if runners.len() > size as usize {
        runners.truncate(size as usize);
        runners
            .last()
            .map(|r| page_token::encode(runner_id(r)))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(ListRunnersResponse {
        runners,
        next_page_token,
    })
}

/// Applies the masked parts of the patch. A binding change replaces the whole list in
/// one transaction and bumps `targetRevision`; the agent then rolls it out.
pub async fn update(
    platform: &Platform,
    caller: &Caller,
    key: &str,
    request: UpdateRunnerRequest,
    update_mask: &str,
    if_match: Option<String>,
) -> Result<Runner, ApiError> {
    caller.require(Role::Admin)?;
    let fields = parse_runner_update_mask(update_mask).map_err(|v| ApiError::invalid(&[v]))?;
    let patch = request.runner;
    let expected_etag = if_match
        .filter(|e| !e.is_empty())
        .or_else(|| Some(patch.etag.clone()).filter(|e| !e.is_empty()));
    let (organization, key) = (caller.organization.clone(), key.to_owned());
    let actor = history::actor(caller);
    let updated = platform
        .store
        .run(move |connection| {
            store::in_transaction(connection, |tx| {
                let current = rows::get(tx, &organization, &key)?.ok_or_else(|| not_found(&key))?;
                if current.runner.install_status == RunnerInstallStatus::Deleting {
                    return Err(ApiError::new(
                        Code::FailedPrecondition,
                        format!("runner {key:?} is being deleted"),
                    ));
                }
                if let Some(expected) = &expected_etag
                    && *expected != current.runner.etag
                {
                    return Err(stale(current.runner_id()));
                }
                let names = template_names(tx, &organization)?;
                let mut runner = apply_runner_update(&current.runner, &patch, &fields);
                let blocking = errors(&validate_runner_state(&runner, |id| names.get(id).cloned()));
                if !blocking.is_empty() {
                    return Err(ApiError::invalid(&blocking));
                }
                if runner.profile_bindings != current.runner.profile_bindings {
                    runner.target_revision += 1;
                    runner.rollout_in_progress = true;
                }
                runner.updated_at = Some(store::now());
                runner.etag = store::new_etag();
                let stored = StoredRunner {
                    runner,
                    ..current.clone()
                };
                write_change(tx, &organization, &stored, &current, actor, &names)?;
                Ok(stored)
            })
        })
        .await?;
    Ok(to_wire(updated, &platform.live, platform.liveness))
}

/// Moves the runner to the newest release of its channel: `targetRevision` goes up and
/// the agent catches `activeRevision` up.
pub async fn apply_update(
    platform: &Platform,
    caller: &Caller,
    key: &str,
) -> Result<Runner, ApiError> {
    caller.require(Role::Admin)?;
    let (organization, key) = (caller.organization.clone(), key.to_owned());
    let actor = history::actor(caller);
    let updated = platform
        .store
        .run(move |connection| {
            store::in_transaction(connection, |tx| {
                let current = rows::get(tx, &organization, &key)?.ok_or_else(|| not_found(&key))?;
                if !current.runner.update_available {
                    return Err(ApiError::new(
                        Code::FailedPrecondition,
                        format!("runner {key:?} already runs the newest release of its channel"),
                    ));
                }
                if current.runner.install_status != RunnerInstallStatus::Ready {
                    return Err(ApiError::new(
                        Code::FailedPrecondition,
                        format!(
                            "runner {key:?} is {} and cannot be updated now",
                            current.runner.install_status.as_str()
                        ),
                    ));
                }
                let mut stored = current.clone();
                stored.runner.update_available = false;
                stored.runner.target_revision += 1;
                stored.runner.rollout_in_progress = true;
                stored.runner.updated_at = Some(store::now());
                stored.runner.etag = store::new_etag();
                let names = template_names(tx, &organization)?;
                write_change(tx, &organization, &stored, &current, actor, &names)?;
                Ok(stored)
            })
        })
        .await?;
    Ok(to_wire(updated, &platform.live, platform.liveness))
}

/// Starts the delete: the runner shows DELETING while its sandboxes stop, then is gone.
/// Profiles it bound remain.
pub async fn delete(platform: &Platform, caller: &Caller, key: &str) -> Result<Runner, ApiError> {
    caller.require(Role::Admin)?;
    let (organization, key) = (caller.organization.clone(), key.to_owned());
    let actor = history::actor(caller);
    let deleting = platform
        .store
        .run(move |connection| {
            store::in_transaction(connection, |tx| {
                let current = rows::get(tx, &organization, &key)?.ok_or_else(|| not_found(&key))?;
                let etag = store::new_etag();
                rows::set_install_state(
                    tx,
                    current.uuid(),
                    RunnerInstallStatus::Deleting,
                    None,
                    None,
                    &etag,
                )?;
                let mut stored = current;
                stored.runner.install_status = RunnerInstallStatus::Deleting;
                stored.runner.install_error = None;
                stored.runner.etag = etag;
                let mut change = runner_change(
                    &stored,
                    HistoryAction::Deleted,
                    actor,
                    None,
                    &BTreeMap::new(),
                );
                change.after = None;
                history::record(tx, &organization, change)?;
                Ok::<_, ApiError>(stored)
            })
        })
        .await?;
    platform.installer.tear_down(deleting.uuid());
    Ok(to_wire(deleting, &platform.live, platform.liveness))
}

/// What the platform, not the administrator, changes on a runner: not part of its
/// history's diffs.
const RUNNER_STATE: &[&str] = &[
    "installStatus",
    "installError",
    "connectionStatus",
    "activeRevision",
    "updateAvailable",
    "rolloutInProgress",
    "lastHeartbeatAt",
];

/// Writes `stored` over `current` unless someone changed it meanwhile (then refuses as
/// stale), and records the change in its history, in the caller's transaction.
fn write_change(
    tx: &rusqlite::Transaction<'_>,
    organization: &str,
    stored: &StoredRunner,
    current: &StoredRunner,
    actor: Actor,
    names: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    if !rows::update_if_unchanged(tx, stored, &current.runner.etag)? {
        return Err(stale(current.runner_id()));
    }
    let change = runner_change(
        stored,
        HistoryAction::Updated,
        actor,
        Some(&current.runner),
        names,
    );
    history::record(tx, organization, change)?;
    Ok(())
}

/// A runner's history entry: `stored` as it is now, against `before`; bindings go by
/// the name sandboxes ask for (`names`: template display names by UUID).
fn runner_change<'a>(
    stored: &'a StoredRunner,
    action: HistoryAction,
    actor: Actor,
    before: Option<&Runner>,
    names: &BTreeMap<String, String>,
) -> Change<'a> {
    let form = |runner: &Runner| {
        let mut runner = runner.clone();
        for binding in &mut runner.profile_bindings {
            if binding.profile_name.is_empty() {
                binding.profile_name = names
                    .get(&binding.profile_template_id)
                    .cloned()
                    .unwrap_or_default();
            }
        }
        history::snapshot(&runner, RUNNER_STATE)
    };
    Change {
        kind: ObjectKind::Runner,
        id: stored.uuid(),
        name: stored.runner_id(),
        action,
        actor,
        before: before.map(form),
        after: Some(form(&stored.runner)),
    }
}

async fn find(
    platform: &Platform,
    organization: &str,
    key: &str,
) -> Result<StoredRunner, ApiError> {
    let (organization, key) = (organization.to_owned(), key.to_owned());
    platform
        .store
        .run(move |connection| {
            rows::get(connection, &organization, &key)?.ok_or_else(|| not_found(&key))
        })
        .await
}

/// The wire form, with the last heartbeat kept in memory and the connection status
/// computed from it.
pub fn to_wire(stored: StoredRunner, live: &LiveRunners, liveness: Liveness) -> Runner {
    let beat = live.get(stored.uuid()).last_heartbeat_at;
    let mut runner = stored.runner;
    runner.last_heartbeat_at = beat.or(runner.last_heartbeat_at);
    runner.connection_status =
        liveness.connection(runner.last_heartbeat_at, OffsetDateTime::now_utc());
    runner.rollout_in_progress = runner.target_revision > runner.active_revision;
    runner
}

/// Runners on the rapid channel always have a newer release waiting until one is
/// applied (local decision: how the local gateway simulates releases).
fn release_has_update(runner: &Runner) -> bool {
    runner
        .managed_spec
        .as_ref()
        .is_some_and(|s| s.release_channel == ReleaseChannel::Rapid)
}

fn template_names(
    connection: &rusqlite::Connection,
    organization: &str,
) -> Result<BTreeMap<String, String>, ApiError> {
    Ok(profile_templates::all(connection, organization)?
        .into_iter()
        .map(|t| (t.id, t.display_name))
        .collect())
}

fn runner_id(runner: &Runner) -> &str {
    runner
        .identity
        .as_ref()
        .map_or("", |i| i.runner_id.as_str())
}

pub fn not_found(key: &str) -> ApiError {
    ApiError(
        Status::new(Code::NotFound, format!("runner {key:?} not found")).with_reason(
            Reason::RunnerNotFound,
            BTreeMap::from([("runner".to_owned(), key.to_owned())]),
        ),
    )
}

fn stale(runner_id: &str) -> ApiError {
    ApiError(
        Status::new(
            Code::FailedPrecondition,
            format!("runner {runner_id:?} was changed by someone else: its etag is stale; reload and retry"),
        )
        .with_reason(Reason::StaleEtag, BTreeMap::new()),
    )
}
