//! The agent serving each runner, and the sandboxes that wait for their runner's agent
//! after a gateway restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;

use crate::agent::client::RemoteAgent;
use crate::agent::handle::AgentHandle;
use crate::agent::host::SandboxHost;
use crate::mutex::lock;

/// How long the gateway waits to connect to an agent process before the call counts as
/// unanswered.
const AGENT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Cheap to clone: every clone is the same registry.
#[derive(Clone)]
pub struct AgentRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    /// The agent serving each runner, by runner UUID.
    agents: Mutex<HashMap<String, AgentHandle>>,
    /// Sandboxes that were active on agent processes when the gateway last stopped, by
    /// runner UUID, until that runner's agent reports again
    /// (`operations::sandboxes::follow_after_restart`).
    orphans: Mutex<HashMap<String, Vec<String>>>,
    /// One connection pool for every agent process.
    http: reqwest::Client,
    /// How long an agent process may go unanswered before its sandboxes count as lost.
    heartbeat_timeout: Duration,
}

impl AgentRegistry {
    pub fn new(heartbeat_timeout: Duration) -> anyhow::Result<AgentRegistry> {
        let http = reqwest::Client::builder()
            .connect_timeout(AGENT_CONNECT_TIMEOUT)
            .build()
            .context("building the HTTP client for agent processes")?;
        Ok(AgentRegistry {
            inner: Arc::new(Inner {
                agents: Mutex::new(HashMap::new()),
                orphans: Mutex::new(HashMap::new()),
                http,
                heartbeat_timeout,
            }),
        })
    }

    /// The agent serving the runner, if one does.
    pub fn agent(&self, runner_uuid: &str) -> Option<AgentHandle> {
        lock(&self.inner.agents).get(runner_uuid).cloned()
    }

    /// Whether `host` is (still) the in-process agent serving the runner.
    pub fn is_served_by(&self, runner_uuid: &str, host: &Arc<SandboxHost>) -> bool {
        matches!(
            self.agent(runner_uuid),
            Some(AgentHandle::Local(current)) if Arc::ptr_eq(&current, host)
        )
    }

    /// Makes `host` the runner's in-process agent.
    pub fn serve_locally(&self, runner_uuid: &str, host: Arc<SandboxHost>) {
        lock(&self.inner.agents).insert(runner_uuid.to_owned(), AgentHandle::Local(host));
    }

    /// Makes the agent process at `url` with `key` the runner's agent, unless it already
    /// is. A different one replaces it (the agent restarted or moved): sandboxes the old
    /// one ran are followed by their watchers until it answers or counts as gone.
    pub fn serve_remotely(&self, runner_uuid: &str, url: &str, key: &str) {
        let mut agents = lock(&self.inner.agents);
        if let Some(AgentHandle::Remote(current)) = agents.get(runner_uuid)
            && current.is(url, key)
        {
            return;
        }
        tracing::info!(
            runner = runner_uuid,
            url,
            "an agent process serves the runner"
        );
        let agent = RemoteAgent::new(
            url,
            key,
            self.inner.http.clone(),
            self.inner.heartbeat_timeout,
        );
        agents.insert(runner_uuid.to_owned(), AgentHandle::Remote(Arc::new(agent)));
    }

    /// The runner's agent, no longer serving it.
    pub fn remove(&self, runner_uuid: &str) -> Option<AgentHandle> {
        lock(&self.inner.agents).remove(runner_uuid)
    }

    /// Keeps `orphans` (sandbox IDs by runner UUID) until their agents report.
    pub fn keep_orphans(&self, orphans: HashMap<String, Vec<String>>) {
        *lock(&self.inner.orphans) = orphans;
    }

    /// Whether sandbox `id` of the runner waits for its agent to report.
    pub fn is_orphan(&self, runner_uuid: &str, id: &str) -> bool {
        lock(&self.inner.orphans)
            .get(runner_uuid)
            .is_some_and(|ids| ids.iter().any(|i| i == id))
    }

    /// The kept sandboxes of the runner, now taken care of by the caller.
    pub fn take_orphans(&self, runner_uuid: &str) -> Vec<String> {
        lock(&self.inner.orphans)
            .remove(runner_uuid)
            .unwrap_or_default()
    }

    /// Every kept sandbox whose agent has not reported, now taken care of by the caller.
    pub fn take_all_orphans(&self) -> Vec<String> {
        lock(&self.inner.orphans)
            .drain()
            .flat_map(|(_, ids)| ids)
            .collect()
    }
}
