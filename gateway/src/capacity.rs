//! What a runner's agent reports it can offer: the body of its heartbeat
//! (`agent::wire`), kept with the runner by the store and read by discovery and
//! placement. A leaf: it imports nothing of the gateway.

use serde::{Deserialize, Serialize};

/// What a runner's agent reports it can offer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Capacity {
    pub cpu_millicores: i64,
    pub memory_bytes: i64,
    pub gpus: i64,
    pub gpu_types: Vec<String>,
    pub architectures: Vec<String>,
    /// Declared by configuration rather than measured on the machine (one machine
    /// standing in for a GPU cluster).
    pub declared: bool,
    pub healthy: bool,
    /// The agent can run sandboxes without any network (egress `none`, see
    /// `process::no_network_available`). Reported, because an agent process may run on
    /// another machine than the gateway.
    pub network_isolation: bool,
    /// How the agent keeps sandboxes apart from their host.
    pub isolation: SandboxIsolation,
    /// Why containers cannot run, when `isolation` is `unavailable`.
    pub isolation_problem: String,
    /// Sandboxes can get a network namespace of their own with outbound access
    /// (user-mode networking), which also enforces egress allowlists.
    pub outbound_networking: bool,
}

/// How an agent keeps sandboxes apart from the machine they run on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SandboxIsolation {
    /// Each sandbox in a container of its own.
    Container,
    /// Plain host processes: the explicit opt-out (`--isolation none`); every such
    /// sandbox is flagged unisolated.
    None,
    /// Containers were asked for but cannot run here: the agent refuses sandboxes.
    #[default]
    Unavailable,
}
