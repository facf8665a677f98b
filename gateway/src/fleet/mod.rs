//! What the platform does behind the control plane, run inside the gateway:
//! [`AgentRegistry`], the agent serving each READY runner (in-process or an agent
//! process), and [`Installer`], which installs runners (PENDING → PROVISIONING →
//! READY, or FAILED with remediation hints), connects their in-process agents
//! (heartbeats, capacity, rolling out revisions) and tears runners down.
//!
//! The fleet sits between the operations and the layers below: it uses the store and
//! the agents, never the operations or the HTTP layer.

mod installer;
mod registry;
pub mod usage;

use std::path::PathBuf;
use std::time::Duration;

pub use installer::Installer;

use crate::agent::host::HostIsolation;
pub use registry::AgentRegistry;

/// Clusters whose name or ID starts with this cannot be reached by the local installer,
/// so their install fails (local decision: how to see a failed install locally). Only
/// with in-process agents: with agent processes, a runner waits for its agent whatever
/// its cluster is called.
pub const UNREACHABLE_CLUSTER_PREFIX: &str = "unreachable-";

#[derive(Clone, Debug)]
pub struct FleetConfig {
    /// Time between install steps (PENDING → PROVISIONING → READY).
    pub install_step: Duration,
    /// Time between measurements of what sandboxes use (`usage`).
    pub usage_interval: Duration,
    /// Time between the heartbeats of in-process agents.
    pub heartbeat_interval: Duration,
    /// How long a runner stays CONNECTED after its last heartbeat.
    pub heartbeat_timeout: Duration,
    /// Where in-process agents keep sandbox working directories and logs.
    pub data_dir: PathBuf,
    /// Runners are served by agent processes, not in-process agents.
    pub external_agents: bool,
    /// How in-process agents isolate sandboxes.
    pub isolation: HostIsolation,
}
