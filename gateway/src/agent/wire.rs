//! The JSON bodies of the agent API and of the heartbeat route, shared by both ends so
//! that they cannot disagree. Internal to this project, not the platform's API: plain
//! serde JSON (numbers as numbers, durations in milliseconds), camelCase names; errors
//! are `google.rpc.Status` bodies as everywhere else.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::capacity::{Capacity, SandboxIsolation};
use crate::process::{ExitOutcome, LogRequest, NetworkIsolation, ResourceLimits};

/// `POST /agent/v1/sandboxes`: start a sandbox, as `process::LaunchSpec` describes, with its
/// working and log directories under the agent's data directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchRequest {
    /// The gateway's sandbox ID (a UUID): it names the sandbox's directory.
    pub sandbox_id: String,
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub mounted_files: Vec<MountedFile>,
    /// No limit when absent.
    #[serde(default)]
    pub max_lifetime_ms: Option<u64>,
    pub network: NetworkIsolation,
    /// Enforced when the agent runs sandboxes in containers.
    pub limits: ResourceLimits,
    /// With `outbound` network: the only CIDRs the sandbox may reach, if limited.
    #[serde(default)]
    pub egress_allowlist: Option<Vec<String>>,
}

impl LaunchRequest {
    pub fn max_lifetime(&self) -> Option<Duration> {
        self.max_lifetime_ms.map(Duration::from_millis)
    }
}

/// A file written into the sandbox's directory before its command starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MountedFile {
    pub mount_path: String,
    #[serde(with = "sandbox_api::json::base64_bytes")]
    pub content: Vec<u8>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchResponse {
    /// The sandbox's main process, for the gateway's log.
    pub pid: Option<u32>,
}

/// `POST /agent/v1/sandboxes/{id}/stop`: SIGTERM, then SIGKILL after the grace period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopRequest {
    pub grace_ms: u64,
}

/// `GET /agent/v1/sandboxes/{id}/outcome?waitMs=N`: how the sandbox ended, or `null`
/// if it still runs after waiting up to N ms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeResponse {
    pub outcome: Option<ExitOutcome>,
}

/// `POST /agent/v1/sandboxes/{id}/exec`: run a command in a running sandbox's directory,
/// environment and network. The answer is a `process::ExecOutput`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecRequest {
    /// The program and its arguments (no shell).
    pub command: Vec<String>,
    pub timeout_ms: u64,
}

/// What the agent sends on a session's WebSocket
/// (`GET /agent/v1/sandboxes/{id}/session`): after the gateway's first message, a
/// `process::SessionRequest`, either `started` and then the session's output, or
/// `refused` and the socket closes. The gateway then sends `process::SessionInput`s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SessionMessage {
    Started,
    Refused(sandbox_api::error::Status),
    Output(crate::process::SessionOutput),
}

/// `GET /agent/v1/sandboxes/usage`: what each running sandbox of the agent uses now
/// (those it cannot measure left out).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    pub sandboxes: Vec<SandboxUsage>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxUsage {
    pub sandbox_id: String,
    /// CPU time since it started.
    pub cpu_nanoseconds: u64,
    /// Memory in use now (its working set).
    pub memory_bytes: u64,
}

/// What answers that only succeed carry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {}

/// `POST /v1beta2/internal/runners/{runnerId}:heartbeat`, sent by an agent process with
/// its organization's SANDBOX_ADMIN token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatRequest {
    /// Where the gateway reaches the agent API (`http://HOST:PORT`).
    pub agent_url: String,
    /// What the gateway must present to the agent API (`Authorization: Bearer <key>`).
    pub agent_key: String,
    pub capacity: Capacity,
    /// The zone the agent was told it runs in; empty when not told.
    #[serde(default)]
    pub zone: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatResponse {
    pub runner_id: String,
    /// The revision the runner runs now (after rolling out any newer target).
    pub active_revision: i64,
}

/// Checks an agent's or a gateway's base URL: `http://HOST[:PORT][/PATH]`, no query.
/// Plain HTTP only: this build has no TLS client, and the agent API is meant for
/// loopback or a private network.
pub fn check_http_url(text: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "{text:?} must start with http:// (agents and gateways speak plain HTTP to each other; \
             put a TLS proxy in front for anything else)"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) || url.query().is_some() {
        return Err(format!(
            "{text:?} must be http://HOST[:PORT][/PATH] with no query"
        ));
    }
    Ok(())
}

/// The query parameters of a log request, as the gateway's own log route takes them.
pub fn log_query(request: &LogRequest) -> Vec<(&'static str, String)> {
    let mut query = vec![
        ("follow", request.follow.to_string()),
        ("timestamps", request.timestamps.to_string()),
    ];
    if let Some(lines) = request.tail_lines {
        query.push(("tailLines", lines.to_string()));
    }
    if let Some(session) = &request.resume_session_id {
        query.push(("resumeSessionId", session.clone()));
    }
    if let Some(offset) = request.resume_offset {
        query.push(("resumeOffset", offset.to_string()));
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::ExitReason;

    #[test]
    fn exit_outcomes_round_trip_through_json() {
        for outcome in [
            ExitOutcome {
                exit_code: Some(3),
                signal: None,
                reason: ExitReason::Exited,
            },
            ExitOutcome {
                exit_code: None,
                signal: Some(9),
                reason: ExitReason::LifetimeExceeded {
                    max_lifetime: Duration::from_millis(1500),
                },
            },
        ] {
            let json = serde_json::to_string(&OutcomeResponse {
                outcome: Some(outcome.clone()),
            })
            .unwrap();
            let back: OutcomeResponse = serde_json::from_str(&json).unwrap();
            assert_eq!(back.outcome, Some(outcome), "{json}");
        }
        assert_eq!(
            serde_json::to_value(ExitReason::Stopped).unwrap(),
            serde_json::json!({"kind": "stopped"})
        );
    }

    #[test]
    fn launch_requests_carry_files_in_base64_and_the_network_by_name() {
        let request = LaunchRequest {
            sandbox_id: "7c9e6679-7425-40de-944b-e07fc1f90ae7".into(),
            command: "sh".into(),
            args: vec!["-c".into(), "true".into()],
            env: BTreeMap::new(),
            mounted_files: vec![MountedFile {
                mount_path: "/etc/app.conf".into(),
                content: b"config".to_vec(),
            }],
            max_lifetime_ms: Some(5000),
            network: NetworkIsolation::None,
            limits: crate::process::ResourceLimits {
                memory_bytes: 1 << 30,
                cpu_millicores: 500,
                processes: 64,
                log_bytes: 1 << 20,
            },
            egress_allowlist: None,
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["mountedFiles"][0]["content"], "Y29uZmln");
        assert_eq!(json["network"], "none");
        assert_eq!(
            serde_json::from_value::<LaunchRequest>(json).unwrap(),
            request
        );
    }

    #[test]
    fn log_queries_name_only_what_was_asked() {
        let query = log_query(&LogRequest {
            follow: true,
            resume_session_id: Some("s1".into()),
            resume_offset: Some(42),
            ..LogRequest::default()
        });
        assert_eq!(
            query,
            [
                ("follow", "true".to_owned()),
                ("timestamps", "false".to_owned()),
                ("resumeSessionId", "s1".to_owned()),
                ("resumeOffset", "42".to_owned()),
            ]
        );
    }
}
