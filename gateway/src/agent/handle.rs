//! A runner's agent as the gateway uses it, whichever kind serves the runner: the
//! operations in `sandboxes.rs` and the fleet's tear-down go through [`AgentHandle`] and
//! never ask which.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sandbox_api::error::Code;
use sandbox_api::logs::LogStreamResponse;

use super::client::{CallError, RemoteAgent};
use super::error_frame;
use super::host::SandboxHost;
use super::wire::{LaunchRequest, UsageReport};
use crate::error::ApiError;
use crate::process::{ExecOutput, ExecSession, ExitOutcome, LogRequest, SessionRequest};

/// A runner's agent. Clones share it.
#[derive(Clone)]
pub enum AgentHandle {
    /// Runs inside the gateway, with sandboxes under the gateway's data directory.
    Local(Arc<SandboxHost>),
    /// `sandbox-gateway agent`, another process, reached over its agent API.
    Remote(Arc<RemoteAgent>),
}

/// Why a sandbox was not launched.
#[derive(Debug)]
pub enum LaunchFailure {
    /// The agent could not start the command; says why, for the user.
    Refused(String),
    /// The agent has no room for another sandbox now (RESOURCE_EXHAUSTED: out of open
    /// files); the caller is refused rather than handed a failed sandbox.
    Exhausted(ApiError),
    /// The agent could not be reached.
    Unreachable(ApiError),
}

impl AgentHandle {
    /// Starts the sandbox; the pid of its main process, if known.
    pub async fn launch(&self, request: LaunchRequest) -> Result<Option<u32>, LaunchFailure> {
        match self {
            AgentHandle::Local(host) => host.launch(request).await.map_err(|e| {
                if e.0.code == Code::ResourceExhausted {
                    LaunchFailure::Exhausted(e)
                } else {
                    LaunchFailure::Refused(e.0.message)
                }
            }),
            AgentHandle::Remote(agent) => agent.launch(&request).await.map_err(|e| match e {
                CallError::Refused(status) if status.code == Code::ResourceExhausted => {
                    LaunchFailure::Exhausted(ApiError(status))
                }
                CallError::Refused(status) => LaunchFailure::Refused(status.message),
                unanswered => LaunchFailure::Unreachable(unanswered.into_api_error()),
            }),
        }
    }

    /// Asks the sandbox to stop; false if the agent does not know it (any more).
    pub async fn stop(&self, id: &str, grace: Duration) -> Result<bool, ApiError> {
        match self {
            AgentHandle::Local(host) => Ok(host.stop(id, grace).is_ok()),
            AgentHandle::Remote(agent) => agent
                .stop(id, grace)
                .await
                .map_err(CallError::into_api_error),
        }
    }

    /// Resolves when the sandbox has ended, with how; `Err` says why its end cannot be
    /// known (see `client.rs` for how long a remote agent is given).
    pub async fn wait(&self, id: &str) -> Result<ExitOutcome, String> {
        match self {
            AgentHandle::Local(host) => host.wait(id).await.map_err(|e| e.0.message),
            AgentHandle::Remote(agent) => agent.wait(id).await,
        }
    }

    pub async fn exec(
        &self,
        id: &str,
        command: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, ApiError> {
        match self {
            AgentHandle::Local(host) => host.exec(id, command, timeout).await,
            AgentHandle::Remote(agent) => agent
                .exec(id, command, timeout)
                .await
                .map_err(CallError::into_api_error),
        }
    }

    /// Starts an interactive exec in the sandbox (see `process::start_session`).
    pub async fn exec_session(
        &self,
        id: &str,
        request: &SessionRequest,
    ) -> Result<ExecSession, ApiError> {
        match self {
            AgentHandle::Local(host) => host.exec_session(id, request),
            AgentHandle::Remote(agent) => agent
                .exec_session(id, request)
                .await
                .map_err(CallError::into_api_error),
        }
    }

    /// The sandbox's log frames, streamed.
    pub fn logs(&self, id: &str, request: LogRequest) -> BoxStream<'static, LogStreamResponse> {
        match self {
            AgentHandle::Local(host) => match host.logs(id, request) {
                Ok(frames) => frames.boxed(),
                Err(e) => error_frame(e.0.message),
            },
            AgentHandle::Remote(agent) => agent.logs(id, &request),
        }
    }

    /// What each running sandbox of the agent uses now; an agent that does not answer
    /// reports none.
    pub async fn usage(&self) -> UsageReport {
        match self {
            AgentHandle::Local(host) => {
                let host = Arc::clone(host);
                tokio::task::spawn_blocking(move || host.usage())
                    .await
                    .unwrap_or_default()
            }
            AgentHandle::Remote(agent) => agent.usage().await.unwrap_or_default(),
        }
    }

    /// Whether this handle and `other` reach the same agent (in-process runners may
    /// share one host).
    pub fn same_agent(&self, other: &AgentHandle) -> bool {
        match (self, other) {
            (AgentHandle::Local(a), AgentHandle::Local(b)) => Arc::ptr_eq(a, b),
            (AgentHandle::Remote(a), AgentHandle::Remote(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Stops the sandbox if it still runs and removes its files.
    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        match self {
            AgentHandle::Local(host) => host.delete(id).await,
            AgentHandle::Remote(agent) => match agent.delete(id).await {
                Err(CallError::Refused(status)) if status.code == Code::NotFound => Ok(()),
                other => other.map_err(CallError::into_api_error),
            },
        }
    }
}
