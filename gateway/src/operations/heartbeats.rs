//! Heartbeats of agent processes (`sandbox-gateway agent`): how the gateway learns where
//! a runner's agent API is and what it offers, and what makes a runner served by one
//! READY and CONNECTED. Only a gateway started with `--external-agents` takes them
//! (local decision: a runner is served either in-process or by an agent process, never
//! both, so a stray agent cannot take sandboxes away from the in-process one).

use sandbox_api::error::Code;
use sandbox_api::role::Role;
use sandbox_api::runner::RunnerInstallStatus;
use sandbox_api::violation::Violation;

use super::{Platform, runners, sandboxes};
pub use crate::agent::wire::{HeartbeatRequest, HeartbeatResponse};

use crate::agent::wire::check_http_url;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::{self, runners as rows};

/// The shortest agent key accepted: agents generate 64 hex digits.
const MIN_AGENT_KEY_LEN: usize = 16;

/// Records a heartbeat from the agent serving `runner_key` (runner ID or UUID) and
/// (re)registers that agent with the fleet's registry. A PENDING or PROVISIONING runner becomes
/// READY with its target revision active; a READY one rolls out a newer target.
pub async fn accept(
    platform: &Platform,
    caller: &Caller,
    runner_key: &str,
    report: HeartbeatRequest,
) -> Result<HeartbeatResponse, ApiError> {
    caller.require(Role::Admin)?;
    let violations = validate(&report);
    if !violations.is_empty() {
        return Err(ApiError::invalid(&violations));
    }
    if !platform.config().external_agents {
        return Err(ApiError::new(
            Code::FailedPrecondition,
            "this gateway runs its runners' agents itself; start it with --external-agents \
             to serve runners with agent processes",
        ));
    }
    let (registry, live, organization, key) = (
        platform.agents.clone(),
        platform.live.clone(),
        caller.organization.clone(),
        runner_key.to_owned(),
    );
    // One critical section on the store: the install state checked is the one changed,
    // so a heartbeat cannot revive a runner that is being deleted.
    let (answer, runner_uuid) = platform
        .store
        .run(move |connection| {
            store::in_transaction(connection, |tx| {
            let stored = rows::get(tx, &organization, &key)?
                .ok_or_else(|| runners::not_found(&key))?;
            let runner = &stored.runner;
            let runner_id = stored.runner_id().to_owned();
            let refuse = |message: String| Err(ApiError::new(Code::FailedPrecondition, message));
            match runner.install_status {
                RunnerInstallStatus::Pending
                | RunnerInstallStatus::Provisioning
                | RunnerInstallStatus::Ready => {}
                RunnerInstallStatus::Deleting => {
                    return refuse(format!("runner {runner_id:?} is being deleted"));
                }
                RunnerInstallStatus::Failed | RunnerInstallStatus::Unspecified => {
                    return refuse(format!(
                        "runner {runner_id:?} failed to install; delete it and create it again"
                    ));
                }
            }
            let zone = runner.identity.as_ref().map_or("", |i| i.zone.as_str());
            if !report.zone.is_empty() && report.zone != zone {
                return refuse(format!(
                    "this agent was started for zone {:?}, but runner {runner_id:?} is in zone {zone:?}",
                    report.zone
                ));
            }
            registry.serve_remotely(stored.uuid(), &report.agent_url, &report.agent_key);
            live.beat(stored.uuid(), store::now(), &report.capacity);
            let target = runner.target_revision;
            if runner.install_status != RunnerInstallStatus::Ready
                || runner.active_revision < target
            {
                rows::set_install_state(
                    tx,
                    stored.uuid(),
                    RunnerInstallStatus::Ready,
                    None,
                    Some(target),
                    &store::new_etag(),
                )?;
            }
            let answer = HeartbeatResponse {
                runner_id,
                active_revision: target,
            };
            Ok((answer, stored.uuid().to_owned()))
            })
        })
        .await?;
    sandboxes::follow_orphans(platform, &runner_uuid);
    Ok(answer)
}

fn validate(report: &HeartbeatRequest) -> Vec<Violation> {
    let mut violations = Vec::new();
    if let Err(problem) = check_http_url(&report.agent_url) {
        violations.push(Violation::error("agentUrl", problem));
    }
    if report.agent_key.len() < MIN_AGENT_KEY_LEN {
        violations.push(Violation::error(
            "agentKey",
            format!("must be at least {MIN_AGENT_KEY_LEN} characters"),
        ));
    }
    let capacity = &report.capacity;
    for (field, value) in [
        ("capacity.cpuMillicores", capacity.cpu_millicores),
        ("capacity.memoryBytes", capacity.memory_bytes),
        ("capacity.gpus", capacity.gpus),
    ] {
        if value < 0 {
            violations.push(Violation::error(field, "must not be negative"));
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::Capacity;

    #[test]
    fn a_heartbeat_names_every_bad_field() {
        let report = HeartbeatRequest {
            agent_url: "https://agent.example".into(),
            agent_key: "short".into(),
            capacity: Capacity {
                gpus: -1,
                ..Capacity::default()
            },
            zone: String::new(),
        };
        let fields: Vec<String> = validate(&report).into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["agentUrl", "agentKey", "capacity.gpus"]);
    }
}
