//! Commands run in a running sandbox: one-shot (`exec`, the JSON route and the unary
//! RPC: output collected, then answered) and interactive (`exec_session`, gRPC
//! `StreamExec` and the console's terminal: input and output streamed, optionally on a
//! terminal). Both hold an exec slot of the organization's quota while they run.

use std::collections::BTreeMap;
use std::time::Duration;

use sandbox_api::error::{Code, Reason, Status};
use sandbox_api::sandbox::{ExecResponse, ExecSandboxRequest, ExecSandboxResponse, SandboxStatus};
use sandbox_api::violation::Violation;

use super::Platform;
use super::quotas::ExecPermit;
use super::sandboxes::{self, find};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::process::{ExecSession, SessionRequest};
use crate::store::sandboxes::SandboxRecord;

/// How long an exec may run when the request names no limit, and at most.
const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_EXEC_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs a command in a running sandbox's directory, environment and network, and
/// returns its output and exit code.
pub async fn exec(
    platform: &Platform,
    caller: &Caller,
    id: &str,
    request: ExecSandboxRequest,
) -> Result<ExecSandboxResponse, ApiError> {
    let record = running(platform, caller, id, &request.command).await?;
    let timeout = u64::try_from(request.max_timeout_seconds)
        .ok()
        .filter(|s| *s > 0)
        .map_or(DEFAULT_EXEC_TIMEOUT, Duration::from_secs)
        .min(MAX_EXEC_TIMEOUT);
    let argv: Vec<String> = request
        .command
        .iter()
        .chain(&request.args)
        .cloned()
        .collect();
    let agent = platform
        .agents
        .agent(&record.runner_uuid)
        .ok_or_else(|| sandboxes::runner_unavailable(&record.runner_id))?;
    // Held until the exec ends, whether it answers, fails or its caller goes away.
    let _slot = platform.execs.take(&caller.organization, &record.id)?;
    let output = agent.exec(&record.id, &argv, timeout).await?;
    if output.timed_out {
        return Err(ApiError(
            Status::new(
                Code::DeadlineExceeded,
                format!("the command did not finish within {} s", timeout.as_secs()),
            )
            .with_reason(Reason::CommandTimeout, BTreeMap::new()),
        ));
    }
    let stdout_truncated = output.stdout_bytes_produced > output.stdout.len() as u64;
    let stderr_truncated = output.stderr_bytes_produced > output.stderr.len() as u64;
    Ok(ExecSandboxResponse {
        result: Some(ExecResponse {
            stdout: output.stdout,
            stderr: output.stderr,
            exit_code: output.exit_code.unwrap_or(-1),
            stdout_truncated,
            stderr_truncated,
            ..Default::default()
        }),
    })
}

/// An interactive exec that runs, and the exec slot it holds until dropped.
pub struct RunningSession {
    pub session: ExecSession,
    /// Held until the session is over.
    pub slot: ExecPermit,
}

/// Starts `request` in the running sandbox `id` as an interactive exec. Its timeout,
/// if any, is the caller's; without one it runs as long as its client stays.
pub async fn exec_session(
    platform: &Platform,
    caller: &Caller,
    id: &str,
    request: &SessionRequest,
) -> Result<RunningSession, ApiError> {
    let record = running(platform, caller, id, &request.command).await?;
    let agent = platform
        .agents
        .agent(&record.runner_uuid)
        .ok_or_else(|| sandboxes::runner_unavailable(&record.runner_id))?;
    let slot = platform.execs.take(&caller.organization, &record.id)?;
    let session = agent.exec_session(&record.id, request).await?;
    Ok(RunningSession { session, slot })
}

/// The caller's sandbox `id`, which must run, for `command`, which must not be empty.
async fn running(
    platform: &Platform,
    caller: &Caller,
    id: &str,
    command: &[String],
) -> Result<SandboxRecord, ApiError> {
    let record = find(platform, caller, id).await?;
    if command.is_empty() {
        return Err(ApiError::invalid(&[Violation::error(
            "command",
            "is required",
        )]));
    }
    if record.status != SandboxStatus::Running {
        return Err(ApiError::new(
            Code::FailedPrecondition,
            format!(
                "sandbox {id:?} is {} and cannot run commands",
                record.status.as_str()
            ),
        ));
    }
    Ok(record)
}
