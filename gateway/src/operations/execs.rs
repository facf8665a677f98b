//! Commands run in a running sandbox: one-shot (`exec`, the JSON route and the unary
//! RPC: output collected, then answered) and interactive (`exec_session`, gRPC
//! `StreamExec` and the console's terminal: input and output streamed, optionally on a
//! terminal). Both hold an exec slot of the organization's quota while they run.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use sandbox_api::error::{Code, Reason, Status};
use sandbox_api::exec_stream::{
    Empty, ExecStreamError, ExecStreamExit, ExecStreamOutput, ExecStreamRequest,
    ExecStreamResponse, StreamType,
};
use sandbox_api::sandbox::{ExecResponse, ExecSandboxRequest, ExecSandboxResponse, SandboxStatus};
use sandbox_api::violation::Violation;
use tokio::sync::{mpsc, watch};

use super::Platform;
use super::quotas::ExecPermit;
use super::sandboxes::{self, find};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::process::{ExecSession, SessionInput, SessionOutput};
/// What a transport asks an exec session to run (the process layer's own types).
pub use crate::process::{SessionRequest, TerminalSize};
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

/// Relays a running session between its client and its command, whatever carries them
/// (gRPC `StreamExec`, the browser terminal's WebSocket): `ready` first, then the
/// client's input to the command and the command's output back as it comes, then
/// `exit`, or an `error` (the last message either way). The client's stream ending
/// (it half-closes after `init` when it sends no input) closes the command's stdin and
/// nothing more; `frames` closing (the client has gone) ends the command. When the
/// gateway starts to stop, a last `error` says so.
pub async fn relay(
    running: RunningSession,
    mut client: impl Stream<Item = ExecStreamRequest> + Unpin,
    frames: mpsc::Sender<ExecStreamResponse>,
    mut stopping: watch::Receiver<bool>,
) {
    let RunningSession {
        session,
        slot: _slot,
    } = running;
    let (mut input, mut output) = (Some(session.input), session.output);
    if frames
        .send(ExecStreamResponse::Ready(Empty {}))
        .await
        .is_err()
    {
        return;
    }
    loop {
        let message = tokio::select! {
            request = client.next(), if input.is_some() => {
                match (request, &input) {
                    (Some(request), Some(sender)) => {
                        if let Some(request) = session_input(request) {
                            // A command that has ended takes no input; its end follows.
                            let _ = sender.send(request).await;
                        }
                    }
                    _ => input = None,
                }
                continue;
            }
            output = output.recv() => match output {
                Some(SessionOutput::Stdout { data }) => output_message(StreamType::Stdout, data),
                Some(SessionOutput::Stderr { data }) => output_message(StreamType::Stderr, data),
                Some(SessionOutput::Ended { exit_code, timed_out: false }) => {
                    // Killed by a signal: no code of its own (as the one-shot exec says).
                    ExecStreamResponse::Exit(ExecStreamExit { exit_code: exit_code.unwrap_or(-1) })
                }
                Some(SessionOutput::Ended { timed_out: true, .. }) => stream_error(
                    "the command did not finish within its deadline",
                    "DEADLINE_EXCEEDED",
                ),
                None => stream_error(
                    "lost contact with the sandbox's runner; the command's end is unknown",
                    "UNAVAILABLE",
                ),
            },
            () = frames.closed() => return,
            () = stopped(&mut stopping) => stream_error(
                "the gateway is stopping; run the command again once it is back",
                "UNAVAILABLE",
            ),
        };
        let last = message.is_last();
        if frames.send(message).await.is_err() || last {
            return;
        }
    }
}

/// Resolves once the gateway starts to stop (or the sender is gone with the server).
/// The guard `wait_for` returns is dropped here: it must not live across an await.
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// A client message as a session's input; `None` for what changes nothing (a second
/// `init`).
fn session_input(request: ExecStreamRequest) -> Option<SessionInput> {
    match request {
        ExecStreamRequest::Stdin(data) => Some(SessionInput::Stdin { data: data.data }),
        ExecStreamRequest::Close(_) => Some(SessionInput::CloseStdin),
        ExecStreamRequest::Resize(size) => Some(SessionInput::Resize {
            size: TerminalSize::from_client(size.width, size.height),
        }),
        ExecStreamRequest::Init(_) => None,
    }
}

fn output_message(stream_type: StreamType, data: Vec<u8>) -> ExecStreamResponse {
    ExecStreamResponse::Output(ExecStreamOutput { stream_type, data })
}

fn stream_error(message: &str, code: &str) -> ExecStreamResponse {
    ExecStreamResponse::Error(ExecStreamError {
        message: message.to_owned(),
        code: code.to_owned(),
    })
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
