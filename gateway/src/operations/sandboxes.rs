//! Sandbox operations (SPEC §4): start (validate, place with `sandbox-api`, reserve,
//! launch a real process on the runner's agent), read, stop, delete, exec, logs. The
//! runner's agent, in-process or an agent process, is an `AgentHandle`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sandbox_api::error::{Code, Reason, Status};
use sandbox_api::filters::names_match;
use sandbox_api::history::{Actor, HistoryAction};
use sandbox_api::logs::LogStreamResponse;
use sandbox_api::network::{EgressType, read_network};
use sandbox_api::placement::{SandboxCeiling, place, sandbox_limits};
use sandbox_api::profile::ProfileSpec;
use sandbox_api::role::Role;
use sandbox_api::sandbox::{
    DeleteSandboxResponse, GetSandboxResponse, ListSandboxesResponse, ReservedResources,
    ResourceRequest, ResourceUsage, SandboxDetails, SandboxInfo, SandboxStatus,
    StartSandboxRequest, StartSandboxResponse, StopSandboxRequest, StopSandboxResponse,
};
use sandbox_api::start_rules::validate_start_request;
use sandbox_api::violation::Violation;

use super::{Platform, history, quotas};
use crate::agent;
use crate::agent::handle::{AgentHandle, LaunchFailure};
use crate::agent::host;
use crate::agent::wire::{LaunchRequest, MountedFile, SandboxIsolation};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::process::{self, ExitOutcome, ExitReason, LogRequest, NetworkIsolation, ResourceLimits};
use crate::read_model;
use crate::store::sandboxes::{self as rows, SandboxRecord};
use crate::store::{self, Store};

/// How long a stop waits between SIGTERM and SIGKILL when the request names no grace.
const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(10);

/// Sandbox settings of this gateway.
#[derive(Clone, Debug, Default)]
pub struct SandboxPolicy {
    pub ceiling: SandboxCeiling,
    /// Run sandboxes whose egress mode a local process cannot enforce (allowlist, org,
    /// user, profile) on the host network, flagged, instead of refusing them.
    pub allow_unenforced_egress: bool,
    /// The most processes and threads one sandbox may run at once.
    pub max_processes: u64,
    /// The most bytes of output a sandbox's log keeps.
    pub max_log_bytes: u64,
    /// The most active sandboxes one organization may have.
    pub max_sandboxes_per_org: u32,
    /// The most execs at once in one sandbox, and across one organization.
    pub max_execs_per_sandbox: u32,
    pub max_execs_per_org: u32,
}

/// How the chosen egress mode is carried out by the runner's agent.
struct EgressPlan {
    mode: String,
    isolation: NetworkIsolation,
    /// With [`NetworkIsolation::Outbound`]: the only CIDRs the sandbox may reach.
    allowlist: Option<Vec<String>>,
    unenforced: bool,
}

/// What the runner's agent can do for a sandbox's network (from its capacity report).
#[derive(Clone, Copy)]
struct RunnerNetwork {
    /// Sandboxes without any network.
    none: bool,
    /// Sandboxes with a network of their own with outbound access and allowlists.
    outbound: bool,
}

fn plan_egress(
    effective: &ProfileSpec,
    requested: &str,
    policy: &SandboxPolicy,
    runner: RunnerNetwork,
) -> Result<EgressPlan, ApiError> {
    let network = if effective.network_config_json.trim().is_empty() {
        Default::default()
    } else {
        serde_json::from_str(&effective.network_config_json)
            .map(|value| {
                read_network(
                    &value,
                    &sandbox_api::field_path::FieldPath::root(),
                    &mut Default::default(),
                )
            })
            .unwrap_or_default()
    };
    let Some(egress) = network.egress else {
        // No egress object: no outbound traffic at all.
        return Ok(EgressPlan {
            mode: String::new(),
            isolation: NetworkIsolation::None,
            allowlist: None,
            unenforced: false,
        });
    };
    let mode = if requested.is_empty() {
        egress.default.clone()
    } else {
        requested.to_owned()
    };
    let (kind, cidrs) = egress
        .modes
        .get(&mode)
        .map_or((EgressType::None, Vec::new()), |m| {
            (m.kind, m.cidrs.iter().map(ToString::to_string).collect())
        });
    let plan = |isolation, allowlist, unenforced| EgressPlan {
        mode: mode.clone(),
        isolation,
        allowlist,
        unenforced,
    };
    match kind {
        EgressType::Internet if runner.outbound => Ok(plan(NetworkIsolation::Outbound, None, false)),
        // Without user-mode networking, internet egress keeps the host's network.
        EgressType::Internet => Ok(plan(NetworkIsolation::Host, None, false)),
        EgressType::Allowlist if runner.outbound => Ok(plan(NetworkIsolation::Outbound, Some(cidrs), false)),
        EgressType::None if runner.none => Ok(plan(NetworkIsolation::None, None, false)),
        _ if policy.allow_unenforced_egress => Ok(plan(NetworkIsolation::Host, None, true)),
        other => Err(ApiError(
            Status::new(
                Code::FailedPrecondition,
                format!(
                    "egress mode {mode:?} ({}) cannot be enforced by the local runner; start the gateway with \
                     --allow-unenforced-egress to run it on the host network anyway",
                    other.as_str()
                ),
            )
            .with_reason(Reason::InvalidRequest, BTreeMap::from([("egressMode".to_owned(), mode)])),
        )),
    }
}

pub async fn start(
    platform: &Platform,
    caller: &Caller,
    request: StartSandboxRequest,
) -> Result<StartSandboxResponse, ApiError> {
    caller.require(Role::User)?;
    let violations = validate_start_request(&request);
    if !violations.is_empty() {
        return Err(ApiError::invalid(&violations));
    }
    let organization = caller.organization.clone();
    let actor = history::actor(caller);
    let policy = platform.policy.clone();
    let (cache, live, liveness) = (
        Arc::clone(&platform.runners),
        platform.live.clone(),
        platform.liveness,
    );
    // Placement and the reservation happen under the store's one writing connection, so
    // two starts can never both take the last free capacity.
    let record = platform
        .store
        .run(move |connection| {
            if rows::count_active(connection, &organization)? >= policy.max_sandboxes_per_org {
                return Err(quotas::exceeded(
                    "max-sandboxes-per-org",
                    policy.max_sandboxes_per_org,
                    "your organization already has as many sandboxes running as it may; \
                     stop or delete one first",
                ));
            }
            let states = read_model::load(connection, &cache, &live, &organization, liveness)?;
            let candidates: Vec<_> = states.iter().map(|s| s.candidate()).collect();
            let placed = place(&request, &candidates, &policy.ceiling)
                .map_err(|failure| ApiError(failure.to_status()))?;
            let runner = states
                .iter()
                .find(|s| s.runner_id() == placed.runner_id)
                .ok_or_else(|| {
                    ApiError::internal("placing a sandbox", "the chosen runner vanished")
                })?;
            if runner.capacity.isolation == SandboxIsolation::Unavailable {
                return Err(ApiError::new(
                    Code::FailedPrecondition,
                    format!(
                        "runner {:?} cannot isolate sandboxes, so it starts none: {}",
                        placed.runner_id,
                        if runner.capacity.isolation_problem.is_empty() {
                            "its agent reports no container runtime"
                        } else {
                            &runner.capacity.isolation_problem
                        }
                    ),
                ));
            }
            let egress = plan_egress(
                &placed.effective.spec,
                &placed.demand.egress_mode,
                &policy,
                RunnerNetwork {
                    none: runner.capacity.network_isolation,
                    outbound: runner.capacity.outbound_networking,
                },
            )?;
            let record = SandboxRecord {
                id: uuid::Uuid::new_v4().to_string(),
                organization: organization.clone(),
                runner_uuid: runner.stored().uuid().to_owned(),
                runner_id: placed.runner_id.clone(),
                profile_template_id: placed.profile_template_id.clone(),
                profile_name: placed.profile_name.clone(),
                status: SandboxStatus::Creating,
                status_reason: String::new(),
                exit_code: None,
                request: request.clone(),
                effective: placed.effective.spec.clone(),
                cpu_millicores: placed.demand.cpu_millicores,
                memory_bytes: placed.demand.memory_bytes,
                gpus: placed.demand.gpus,
                egress_mode: egress.mode,
                ingress_mode: placed.demand.ingress_mode.clone(),
                unenforced_egress: egress.unenforced,
                unisolated: runner.capacity.isolation == SandboxIsolation::None,
                created_at: store::now(),
                started_at: None,
                ended_at: None,
            };
            store::in_transaction(connection, |tx| {
                rows::insert(tx, &record)?;
                history::sandbox_created(tx, &record, actor)
            })?;
            Ok::<_, ApiError>((record, egress.isolation, egress.allowlist))
        })
        .await;
    let (record, isolation, allowlist) = record?;
    let limits = limits(&record, &platform.policy);
    let terms = LaunchTerms {
        network: isolation,
        egress_allowlist: allowlist,
        limits,
    };
    let record = launch(platform, record, terms).await?;
    Ok(start_response(&record))
}

/// What the runner's agent is told besides the sandbox's request.
struct LaunchTerms {
    network: NetworkIsolation,
    egress_allowlist: Option<Vec<String>>,
    limits: ResourceLimits,
}

/// Hands the sandbox to its runner's agent and follows it to its end.
async fn launch(
    platform: &Platform,
    mut record: SandboxRecord,
    terms: LaunchTerms,
) -> Result<SandboxRecord, ApiError> {
    let Some(agent) = platform.agents.agent(&record.runner_uuid) else {
        let refusal = runner_unavailable(&record.runner_id);
        set_status(
            &platform.store,
            &record.id,
            SandboxStatus::Failed,
            "the runner's agent is not connected",
            None,
        )
        .await?;
        return Err(refusal);
    };
    match agent.launch(launch_request(&record, terms)).await {
        Ok(pid) => {
            tracing::info!(
                sandbox = record.id,
                runner = record.runner_id,
                pid,
                "sandbox started"
            );
            set_status(
                &platform.store,
                &record.id,
                SandboxStatus::Running,
                "",
                None,
            )
            .await?;
            record.status = SandboxStatus::Running;
            record.started_at = Some(store::now());
            watch_until_ended(platform.store.clone(), agent, record.id.clone());
            Ok(record)
        }
        Err(LaunchFailure::Refused(why)) => {
            let reason = format!("the command could not be started: {why}");
            set_status(
                &platform.store,
                &record.id,
                SandboxStatus::Failed,
                &reason,
                None,
            )
            .await?;
            record.status = SandboxStatus::Failed;
            record.status_reason = reason;
            Ok(record)
        }
        Err(LaunchFailure::Unreachable(refusal) | LaunchFailure::Exhausted(refusal)) => {
            set_status(
                &platform.store,
                &record.id,
                SandboxStatus::Failed,
                &refusal.0.message,
                None,
            )
            .await?;
            Err(refusal)
        }
    }
}

/// What a sandbox may use: CPU and memory from its effective spec and the ceiling
/// (`sandbox_api::placement::sandbox_limits`), processes from the gateway's policy.
fn limits(record: &SandboxRecord, policy: &SandboxPolicy) -> ResourceLimits {
    let (cpu, memory) = sandbox_limits(&record.effective, &policy.ceiling);
    ResourceLimits {
        memory_bytes: u64::try_from(memory).unwrap_or(1),
        cpu_millicores: u64::try_from(cpu).unwrap_or(1),
        processes: policy.max_processes,
        log_bytes: policy.max_log_bytes,
    }
}

/// What the runner's agent is asked to run.
fn launch_request(record: &SandboxRecord, terms: LaunchTerms) -> LaunchRequest {
    let request = &record.request;
    LaunchRequest {
        sandbox_id: record.id.clone(),
        command: request.command.clone(),
        args: request.args.clone(),
        env: request.environment_variables.clone(),
        mounted_files: request
            .mounted_files
            .iter()
            .map(|f| MountedFile {
                mount_path: f.mount_path.clone(),
                content: f.file_content.clone(),
            })
            .collect(),
        max_lifetime_ms: u64::try_from(request.max_lifetime_seconds)
            .ok()
            .filter(|s| *s > 0)
            .map(|s| s.saturating_mul(1000)),
        network: terms.network,
        limits: terms.limits,
        egress_allowlist: terms.egress_allowlist,
    }
}

/// Follows a launched sandbox in the background and records how it ended, or, if its
/// agent lost it, that it FAILED and why.
fn watch_until_ended(store: Store, agent: AgentHandle, id: String) {
    tokio::spawn(async move {
        let (status, reason, exit_code) = match agent.wait(&id).await {
            Ok(outcome) => {
                let (status, reason) = ended(&outcome);
                (status, reason, outcome.exit_code)
            }
            Err(lost) => (SandboxStatus::Failed, lost, None),
        };
        // set_status has logged the failure with its cause.
        let _ = set_status(&store, &id, status, &reason, exit_code).await;
    });
}

/// The final status for how a process ended.
fn ended(outcome: &ExitOutcome) -> (SandboxStatus, String) {
    let status = match outcome.reason {
        ExitReason::Exited if outcome.exit_code == Some(0) => SandboxStatus::Completed,
        ExitReason::Exited | ExitReason::OutOfMemory { .. } => SandboxStatus::Failed,
        ExitReason::Stopped | ExitReason::LifetimeExceeded { .. } => SandboxStatus::Terminated,
    };
    (status, outcome.describe())
}

/// Moves the sandbox on as the platform saw it go (its history says the gateway did).
async fn set_status(
    store: &Store,
    id: &str,
    status: SandboxStatus,
    reason: &str,
    exit_code: Option<i32>,
) -> Result<(), ApiError> {
    let change = StatusChange {
        status,
        reason: reason.to_owned(),
        exit_code,
        action: HistoryAction::StatusChanged,
        actor: Actor::Gateway,
    };
    change_status(store, id, change).await
}

/// A change of a sandbox's status, and who made it.
struct StatusChange {
    status: SandboxStatus,
    reason: String,
    exit_code: Option<i32>,
    action: HistoryAction,
    actor: Actor,
}

/// Writes `change` and its history entry together; one that changes nothing (a stop
/// repeated) records nothing.
async fn change_status(store: &Store, id: &str, change: StatusChange) -> Result<(), ApiError> {
    let id = id.to_owned();
    Ok(store
        .run(move |connection| {
            store::in_transaction(connection, |tx| {
                let Some(before) = rows::by_id(tx, &id)? else {
                    return Ok(());
                };
                rows::set_status(tx, &id, change.status, &change.reason, change.exit_code)?;
                let after = SandboxRecord {
                    status: change.status,
                    status_reason: change.reason.clone(),
                    exit_code: change.exit_code.or(before.exit_code),
                    ..before.clone()
                };
                if (after.status, &after.status_reason, after.exit_code)
                    == (before.status, &before.status_reason, before.exit_code)
                {
                    return Ok(());
                }
                history::sandbox_status(tx, &before, &after, change.action, change.actor)
            })
        })
        .await?)
}

pub async fn get(
    platform: &Platform,
    caller: &Caller,
    id: &str,
) -> Result<GetSandboxResponse, ApiError> {
    let record = find(platform, caller, id).await?;
    let mut info = info(&record);
    // What it uses now, measured from its cgroup (GPUs are not measured locally).
    info.current_resource_usage = platform
        .usage
        .sandbox_now(&record.id)
        .map(|now| ResourceUsage {
            cpu_millicores_used: now.cpu_millicores,
            memory_mb_used: now.memory_bytes / 1_000_000,
            gpu_count_used: 0,
        });
    Ok(GetSandboxResponse {
        info,
        status_reason: record.status_reason.clone(),
        exit_code: record.exit_code,
        details: Some(details(&record)),
    })
}

/// What the sandbox was started with and what placement reserved for it (the local
/// `details` extension of `GET /v1beta2/sandboxes/{id}`); never its environment or
/// mounted files.
fn details(record: &SandboxRecord) -> SandboxDetails {
    let request = &record.request;
    SandboxDetails {
        container_image: if request.container_image.is_empty() {
            record.effective.container_image.clone()
        } else {
            request.container_image.clone()
        },
        command: request.command.clone(),
        args: request.args.clone(),
        tags: request.tags.clone(),
        resource_requests: request
            .resource_requests
            .clone()
            .or_else(|| request.resources.clone()),
        resource_limits: request.resource_limits.clone(),
        reserved: ReservedResources {
            cpu_millicores: record.cpu_millicores,
            memory_bytes: record.memory_bytes,
            gpu_count: record.gpus,
        },
        created_at_time: Some(record.created_at),
        ended_at_time: record.ended_at,
    }
}

pub async fn find(
    platform: &Platform,
    caller: &Caller,
    id: &str,
) -> Result<SandboxRecord, ApiError> {
    caller.require(Role::User)?;
    let (organization, id) = (caller.organization.clone(), id.to_owned());
    platform
        .store
        .run(move |connection| {
            rows::get(connection, &organization, &id)?.ok_or_else(|| not_found(&id))
        })
        .await
}

/// Filters of the sandbox list (SPEC §4); lists leave out terminal sandboxes unless
/// `include_stopped`.
#[derive(Debug, Default)]
pub struct SandboxListQuery {
    pub statuses: Vec<String>,
    pub tags: Vec<String>,
    pub profile_names: Vec<String>,
    pub runner_ids: Vec<String>,
    pub include_stopped: bool,
}

pub async fn list(
    platform: &Platform,
    caller: &Caller,
    query: SandboxListQuery,
) -> Result<ListSandboxesResponse, ApiError> {
    caller.require(Role::User)?;
    let statuses: Vec<SandboxStatus> = query
        .statuses
        .iter()
        .map(|name| match SandboxStatus::from_name(name) {
            SandboxStatus::Unspecified => Err(ApiError::invalid(&[Violation::error(
                "status",
                format!("{name:?} is not a sandbox status"),
            )])),
            status => Ok(status),
        })
        .collect::<Result<_, _>>()?;
    let include_stopped = query.include_stopped || statuses.iter().any(|s| s.is_terminal());
    let organization = caller.organization.clone();
    let records = platform
        .store
        .run(move |connection| rows::list(connection, &organization, include_stopped))
        .await?;
    let sandboxes = records
        .iter()
        .filter(|r| statuses.is_empty() || statuses.contains(&r.status))
        .filter(|r| query.tags.iter().all(|tag| r.request.tags.contains(tag)))
        // Names match as discovery's filters do, without regard to case.
        .filter(|r| {
            query.profile_names.is_empty()
                || query
                    .profile_names
                    .iter()
                    .any(|n| names_match(n, &r.profile_name))
        })
        .filter(|r| {
            query.runner_ids.is_empty()
                || query
                    .runner_ids
                    .iter()
                    .any(|n| names_match(n, &r.runner_id))
        })
        .map(info)
        .collect();
    Ok(ListSandboxesResponse {
        sandboxes,
        next_page_token: String::new(),
    })
}

/// Stops a running sandbox: SIGTERM, then SIGKILL after the grace period. Stopping a
/// sandbox that has already ended succeeds and changes nothing.
pub async fn stop(
    platform: &Platform,
    caller: &Caller,
    id: &str,
    request: StopSandboxRequest,
) -> Result<StopSandboxResponse, ApiError> {
    let record = find(platform, caller, id).await?;
    if record.status.is_terminal() {
        return Ok(StopSandboxResponse {
            success: true,
            ..Default::default()
        });
    }
    refuse_while_orphaned(platform, &record)?;
    let grace = u64::try_from(request.graceful_shutdown_seconds)
        .ok()
        .filter(|s| *s > 0)
        .map_or(DEFAULT_STOP_GRACE, Duration::from_secs);
    // TERMINATING is written before the stop is sent, so that it cannot overwrite the
    // final status the sandbox's watcher records once it has ended.
    let stopping = StatusChange {
        status: SandboxStatus::Terminating,
        reason: format!("stopping (grace period {} s)", grace.as_secs()),
        exit_code: None,
        action: HistoryAction::StopRequested,
        actor: history::actor(caller),
    };
    change_status(&platform.store, &record.id, stopping).await?;
    let known = match platform.agents.agent(&record.runner_uuid) {
        // If the stop cannot be delivered, the watcher still records the end: the one
        // the agent reports later, or FAILED once the agent counts as gone.
        Some(agent) => agent.stop(&record.id, grace).await?,
        None => false,
    };
    if !known {
        set_status(
            &platform.store,
            &record.id,
            SandboxStatus::Terminated,
            "stopped; its process was already gone",
            None,
        )
        .await?;
    }
    Ok(StopSandboxResponse {
        success: true,
        ..Default::default()
    })
}

/// Deletes a sandbox and its files, stopping it first if it still runs.
pub async fn delete(
    platform: &Platform,
    caller: &Caller,
    id: &str,
) -> Result<DeleteSandboxResponse, ApiError> {
    let record = find(platform, caller, id).await?;
    if !record.status.is_terminal() {
        refuse_while_orphaned(platform, &record)?;
    }
    if let Some(agent) = platform.agents.agent(&record.runner_uuid)
        && let Err(e) = agent.delete(&record.id).await
    {
        // The record goes anyway: an agent that is gone cannot be asked to clean up.
        tracing::warn!(
            sandbox = record.id,
            "deleting a sandbox on its agent: {}",
            e.0.message
        );
    }
    let (deleted, actor) = (record.clone(), history::actor(caller));
    platform
        .store
        .run(move |connection| {
            store::in_transaction(connection, |tx| {
                rows::delete(tx, &deleted.id)?;
                history::sandbox_deleted(tx, &deleted, actor)
            })
        })
        .await?;
    // Files an in-process agent left under this gateway's data directory, when no agent
    // serves the runner any more (it was torn down, or the gateway restarted).
    let directory = host::sandbox_dir(&platform.config().data_dir, &record.id);
    if let Err(e) = tokio::fs::remove_dir_all(&directory).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(sandbox = record.id, "removing {}: {e}", directory.display());
    }
    Ok(DeleteSandboxResponse {
        success: true,
        error_message: String::new(),
    })
}

/// The sandbox's log frames, from its runner's agent.
pub fn logs(
    platform: &Platform,
    record: &SandboxRecord,
    request: LogRequest,
) -> BoxStream<'static, LogStreamResponse> {
    match platform.agents.agent(&record.runner_uuid) {
        Some(agent) => agent.logs(&record.id, request),
        None if platform.config().external_agents => agent::error_frame(format!(
            "runner {:?} has no agent connected, and the sandbox's log is kept by its agent; \
             try again once the agent is back",
            record.runner_id
        )),
        // In-process agents keep logs under this gateway's data directory, where they
        // outlive the agent (a restart, a torn-down runner).
        None => process::stream_log(
            &host::log_dir(&platform.config().data_dir, &record.id),
            None,
            request,
        )
        .boxed(),
    }
}

/// A sandbox whose agent has not reported since the gateway restarted cannot be
/// stopped or deleted yet: the request could not reach its process, which would go on
/// running (and its end later overwrite what the request recorded).
fn refuse_while_orphaned(platform: &Platform, record: &SandboxRecord) -> Result<(), ApiError> {
    if platform.agents.is_orphan(&record.runner_uuid, &record.id) {
        let mut refusal = runner_unavailable(&record.runner_id);
        refusal.0.message = format!(
            "runner {:?}'s agent has not reported since the gateway restarted; try again once it has",
            record.runner_id
        );
        return Err(refusal);
    }
    Ok(())
}

pub(super) fn runner_unavailable(runner_id: &str) -> ApiError {
    ApiError(
        Status::new(
            Code::Unavailable,
            format!("runner {runner_id:?} is not connected"),
        )
        .with_reason(Reason::RunnerUnavailable, BTreeMap::new()),
    )
}

/// After a restart with agent processes (`--external-agents`): the sandboxes that were
/// active ran in those processes, which may well still run them (local decision: they
/// are not failed at start-up, as in-process ones are). Each is followed again once its
/// runner's agent reports (`follow_orphans`); those whose agent has not reported within
/// the heartbeat timeout are FAILED, saying why. Returns how many wait for their agent.
pub async fn follow_after_restart(platform: &Platform) -> anyhow::Result<usize> {
    let unfinished = platform
        .store
        .run(|connection| rows::unfinished(connection))
        .await
        .map_err(|e| e.context("reading unfinished sandboxes"))?;
    let waiting = unfinished.len();
    let mut by_runner: HashMap<String, Vec<String>> = HashMap::new();
    for (id, runner_uuid) in unfinished {
        by_runner.entry(runner_uuid).or_default().push(id);
    }
    platform.agents.keep_orphans(by_runner);
    let (platform, timeout) = (platform.clone(), platform.config().heartbeat_timeout);
    tokio::spawn(async move {
        tokio::time::sleep(timeout).await;
        let reason = format!(
            "the gateway restarted and the runner's agent did not report within {timeout:?}"
        );
        for id in platform.agents.take_all_orphans() {
            // set_status logs a failure with its cause.
            let _ = set_status(&platform.store, &id, SandboxStatus::Failed, &reason, None).await;
        }
    });
    Ok(waiting)
}

/// Follows again the sandboxes that the runner's agent ran before the gateway
/// restarted, now that the agent has reported: to their end, or to FAILED if the agent
/// no longer knows them.
pub fn follow_orphans(platform: &Platform, runner_uuid: &str) {
    let Some(agent) = platform.agents.agent(runner_uuid) else {
        return;
    };
    for id in platform.agents.take_orphans(runner_uuid) {
        tracing::info!(
            sandbox = id,
            "following a sandbox again after the gateway restarted"
        );
        watch_until_ended(platform.store.clone(), agent.clone(), id);
    }
}

/// After a restart the processes of active sandboxes are gone: record that.
pub async fn fail_unfinished(store: &Store) -> anyhow::Result<usize> {
    let unfinished = store
        .run(|connection| rows::unfinished(connection))
        .await
        .map_err(|e| e.context("reading unfinished sandboxes"))?;
    for (id, _) in &unfinished {
        // change_status has logged a failure with its cause.
        let _ = set_status(
            store,
            id,
            SandboxStatus::Failed,
            "the gateway restarted while the sandbox was running",
            None,
        )
        .await;
    }
    Ok(unfinished.len())
}

fn info(record: &SandboxRecord) -> SandboxInfo {
    SandboxInfo {
        sandbox_id: record.id.clone(),
        started_at_time: record.started_at,
        sandbox_status: record.status,
        current_resource_usage: None,
        runner_id: record.runner_id.clone(),
        runner_group_id: String::new(),
        profile_id: record.profile_template_id.clone(),
        service_address: String::new(),
        exposed_ports: record.request.ports.clone(),
        applied_ingress_mode: record.ingress_mode.clone(),
        applied_egress_mode: record.egress_mode.clone(),
        unenforced_egress: record.unenforced_egress,
        unisolated: record.unisolated,
    }
}

fn start_response(record: &SandboxRecord) -> StartSandboxResponse {
    let resources = record
        .effective
        .resource_defaults
        .clone()
        .unwrap_or_default();
    StartSandboxResponse {
        sandbox_id: record.id.clone(),
        started_at_time: record.started_at,
        service_address: String::new(),
        exposed_ports: record.request.ports.clone(),
        requested_resources: record.request.resources.clone(),
        profile_id: record.profile_template_id.clone(),
        runner_id: record.runner_id.clone(),
        sandbox_status: record.status,
        applied_ingress_mode: record.ingress_mode.clone(),
        applied_egress_mode: record.egress_mode.clone(),
        requested_resource_limits: Some(ResourceRequest {
            cpu: resources.cpu_limit,
            memory: resources.memory_limit,
            gpu: None,
        }),
        requested_resource_requests: Some(ResourceRequest {
            cpu: resources.cpu_request,
            memory: resources.memory_request,
            gpu: None,
        }),
    }
}

pub fn not_found(id: &str) -> ApiError {
    ApiError(
        Status::new(Code::NotFound, format!("sandbox {id:?} not found")).with_reason(
            Reason::SandboxNotFound,
            BTreeMap::from([("sandboxId".to_owned(), id.to_owned())]),
        ),
    )
}
