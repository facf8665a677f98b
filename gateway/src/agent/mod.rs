//! Runner agents: what runs a READY runner's sandboxes (local decision: how the
//! platform's in-cluster runner deployment is stood in for). Two kinds, one design:
//!
//! - **In-process** (the default): the gateway itself runs the runner's sandboxes as
//!   child processes, under its own data directory (`AgentHandle::Local`).
//! - **Agent processes** (`sandbox-gateway agent`, for multi-runner set-ups; the gateway
//!   runs with `--external-agents`): one process per runner, possibly on another
//!   machine. It runs its sandboxes under its own `--data-dir` and serves them over the
//!   agent API ([`server`], under `/agent/v1/`), which only accepts a random key the
//!   agent generates at start. It heartbeats to the gateway
//!   (`POST /v1beta2/internal/runners/{runnerId}:heartbeat`, with an organization token
//!   of role SANDBOX_ADMIN) with its API's URL, that key and its capacity; the gateway
//!   (`heartbeats.rs`) then reaches it through a [`client::RemoteAgent`]
//!   (`AgentHandle::Remote`).
//!
//! Both kinds run sandboxes with the same [`host::SandboxHost`], so a sandbox behaves the
//! same wherever it runs; the gateway's operations only see an [`handle::AgentHandle`].
//! The JSON the two ends exchange is in [`wire`]; the agent command's start-up is
//! `run_agent.rs`, beside the gateway's (`serve.rs`).

pub mod client;
pub mod handle;
pub mod host;
pub mod machine;
pub mod server;
pub mod wire;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use sandbox_api::logs::{LogStreamError, LogStreamResponse};

/// A log stream that is one Error frame: why the log cannot be read.
pub fn error_frame(message: String) -> BoxStream<'static, LogStreamResponse> {
    stream::iter([LogStreamResponse::Error(LogStreamError {
        message,
        code: String::new(),
    })])
    .boxed()
}
