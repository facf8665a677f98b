//! What the platform does behind the control plane, run inside the gateway: installing
//! runners (PENDING → PROVISIONING → READY, or FAILED with remediation hints), their
//! agents (heartbeats, capacity, rolling out revisions), and tearing runners down.
//!
//! Each READY runner has one agent that runs its sandboxes (`crate::agent`): by default
//! an in-process one started here when the install finishes; with `--external-agents`
//! an agent process whose heartbeats (`heartbeats.rs`) register it and make the runner
//! READY. Heartbeats are what make a runner CONNECTED.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use sandbox_api::runner::{InstallError, RunnerConnectionStatus, RunnerInstallStatus};
use time::OffsetDateTime;

use crate::agent::client::RemoteAgent;
use crate::agent::handle::AgentHandle;
use crate::agent::host::SandboxHost;
use crate::process;
use crate::store::runners::{self as rows, Capacity};
use crate::store::{self, Store};

/// A runner without a heartbeat for this long, in milliseconds, is DISCONNECTED (SPEC
/// §3.2): the default of `serve --heartbeat-timeout-ms`.
pub const HEARTBEAT_TIMEOUT_MS: u64 = 30_000;

/// How long sandboxes get between SIGTERM and SIGKILL when their runner is deleted.
const TEAR_DOWN_GRACE: Duration = Duration::from_secs(5);

/// How long the gateway waits to connect to an agent process before the call counts as
/// unanswered.
const AGENT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Clusters whose name or ID starts with this cannot be reached by the local installer,
/// so their install fails (local decision: how to see a failed install locally). Only
/// with in-process agents: with agent processes, a runner waits for its agent whatever
/// its cluster is called.
pub const UNREACHABLE_CLUSTER_PREFIX: &str = "unreachable-";

#[derive(Clone, Debug)]
pub struct FleetConfig {
    /// Time between install steps (PENDING → PROVISIONING → READY).
    pub install_step: Duration,
    /// Time between the heartbeats of in-process agents.
    pub heartbeat_interval: Duration,
    /// How long a runner stays CONNECTED after its last heartbeat.
    pub heartbeat_timeout: Duration,
    /// Where in-process agents keep sandbox working directories and logs.
    pub data_dir: PathBuf,
    /// Runners are served by agent processes, not in-process agents.
    pub external_agents: bool,
}

/// When a runner counts as connected: a heartbeat within the heartbeat timeout.
#[derive(Clone, Copy, Debug)]
pub struct Liveness {
    pub heartbeat_timeout: Duration,
}

impl Liveness {
    pub fn connection(
        &self,
        last_heartbeat: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> RunnerConnectionStatus {
        match last_heartbeat {
            Some(at) if now - at <= self.heartbeat_timeout => RunnerConnectionStatus::Connected,
            _ => RunnerConnectionStatus::Disconnected,
        }
    }
}

#[derive(Clone)]
pub struct Fleet {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: FleetConfig,
    /// The agent serving each runner, by runner UUID.
    agents: Mutex<HashMap<String, AgentHandle>>,
    /// Sandboxes that were active on agent processes when the gateway last stopped, by
    /// runner UUID, until that runner's agent reports again
    /// (`sandboxes::follow_after_restart`).
    orphans: Mutex<HashMap<String, Vec<String>>>,
    /// One connection pool for every agent process.
    http: reqwest::Client,
    /// The runner read model discovery and placement share.
    runner_cache: Arc<crate::runner_state::RunnerCache>,
}

/// Locks a mutex whose data stays consistent even if a holder panicked (plain maps).
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Fleet {
    pub fn new(store: Store, config: FleetConfig) -> anyhow::Result<Fleet> {
        let http = reqwest::Client::builder()
            .connect_timeout(AGENT_CONNECT_TIMEOUT)
            .build()
            .context("building the HTTP client for agent processes")?;
        Ok(Fleet {
            inner: Arc::new(Inner {
                store,
                config,
                agents: Mutex::new(HashMap::new()),
                orphans: Mutex::new(HashMap::new()),
                http,
                runner_cache: Arc::default(),
            }),
        })
    }

    pub fn runner_cache(&self) -> Arc<crate::runner_state::RunnerCache> {
        Arc::clone(&self.inner.runner_cache)
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &FleetConfig {
        &self.inner.config
    }

    pub fn liveness(&self) -> Liveness {
        Liveness {
            heartbeat_timeout: self.inner.config.heartbeat_timeout,
        }
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

    /// The agent serving the runner, if one does.
    pub fn agent(&self, runner_uuid: &str) -> Option<AgentHandle> {
        lock(&self.inner.agents).get(runner_uuid).cloned()
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
            self.inner.config.heartbeat_timeout,
        );
        agents.insert(runner_uuid.to_owned(), AgentHandle::Remote(Arc::new(agent)));
    }

    /// Installs a new runner in the background.
    pub fn install(&self, runner_uuid: &str) {
        let fleet = self.clone();
        let uuid = runner_uuid.to_owned();
        tokio::spawn(async move {
            if let Err(e) = fleet.run_install(&uuid).await {
                tracing::error!(runner = uuid, "install failed: {e:#}");
            }
        });
    }

    async fn run_install(&self, uuid: &str) -> anyhow::Result<()> {
        let step = self.inner.config.install_step;
        tokio::time::sleep(step).await;
        let Some(stored) = self.read(uuid).await? else {
            return Ok(());
        };
        if !self
            .advance(
                uuid,
                RunnerInstallStatus::Pending,
                RunnerInstallStatus::Provisioning,
            )
            .await?
        {
            return Ok(());
        }
        if self.inner.config.external_agents {
            // The runner's agent process makes it READY with its first heartbeat.
            return Ok(());
        }
        tokio::time::sleep(step).await;
        let identity = stored.runner.identity.clone().unwrap_or_default();
        let cluster = if identity.cluster_id.is_empty() {
            &identity.cluster_name
        } else {
            &identity.cluster_id
        };
        if cluster.starts_with(UNREACHABLE_CLUSTER_PREFIX) {
            let error = InstallError {
                reason: "CLUSTER_UNREACHABLE".into(),
                message: format!("the installer could not reach cluster {cluster:?}"),
                diagnostic_detail:
                    "connection to the cluster API server timed out after 3 attempts".into(),
                remediation_hints: vec![
                    "Check that the cluster ID or name is correct.".into(),
                    "Make sure the cluster's API server accepts connections from the platform."
                        .into(),
                    "Delete this runner and create it again once the cluster is reachable.".into(),
                ],
                occurred_at: Some(store::now()),
            };
            return self
                .set_state(uuid, RunnerInstallStatus::Failed, Some(error), None)
                .await;
        }
        self.connect(uuid).await
    }

    /// Starts the runner's in-process agent: it reports capacity and heartbeats, and the
    /// runner becomes READY with its target revision active.
    pub async fn connect(&self, uuid: &str) -> anyhow::Result<()> {
        let Some(stored) = self.read(uuid).await? else {
            return Ok(());
        };
        let measured = tokio::task::spawn_blocking(machine_capacity)
            .await
            .context("measuring this machine")?;
        let capacity = match stored.capacity {
            Some(declared) if declared.declared => Capacity {
                network_isolation: measured.network_isolation,
                ..declared
            },
            _ => measured,
        };
        let host = Arc::new(SandboxHost::new(self.inner.config.data_dir.clone()));
        lock(&self.inner.agents).insert(uuid.to_owned(), AgentHandle::Local(Arc::clone(&host)));
        self.heartbeat(uuid, &capacity).await?;
        self.set_state(
            uuid,
            RunnerInstallStatus::Ready,
            None,
            Some(stored.runner.target_revision),
        )
        .await?;
        let fleet = self.clone();
        let uuid = uuid.to_owned();
        let interval = self.inner.config.heartbeat_interval;
        tokio::spawn(async move {
            // It beats for as long as it serves the runner: until the runner is torn down.
            loop {
                tokio::time::sleep(interval).await;
                let serving = matches!(
                    fleet.agent(&uuid),
                    Some(AgentHandle::Local(current)) if Arc::ptr_eq(&current, &host)
                );
                if !serving {
                    return;
                }
                match fleet.beat(&uuid, &capacity).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => tracing::warn!(runner = uuid, "heartbeat failed: {e:#}"),
                }
            }
        });
        Ok(())
    }

    /// One heartbeat; rolls out a pending revision. False once the runner is gone.
    async fn beat(&self, uuid: &str, capacity: &Capacity) -> anyhow::Result<bool> {
        let Some(stored) = self.read(uuid).await? else {
            return Ok(false);
        };
        self.heartbeat(uuid, capacity).await?;
        let runner = &stored.runner;
        if runner.install_status == RunnerInstallStatus::Ready
            && runner.target_revision > runner.active_revision
        {
            self.set_state(
                uuid,
                RunnerInstallStatus::Ready,
                None,
                Some(runner.target_revision),
            )
            .await?;
        }
        Ok(true)
    }

    async fn heartbeat(&self, uuid: &str, capacity: &Capacity) -> anyhow::Result<()> {
        let (uuid, capacity) = (uuid.to_owned(), capacity.clone());
        self.inner
            .store
            .run(move |connection| {
                rows::record_heartbeat(connection, &uuid, store::now(), &capacity)
                    .map_err(|e| crate::error::ApiError::internal("recording a heartbeat", e))
            })
            .await
            .map_err(|e| anyhow::anyhow!(e.0.message))
    }

    /// Stops the runner's sandboxes, then removes the runner. Their watchers record how
    /// they ended; an agent that cannot be reached any more is given as long as a
    /// watcher gives it (see `agent::client`).
    pub fn tear_down(&self, runner_uuid: &str) {
        let fleet = self.clone();
        let uuid = runner_uuid.to_owned();
        tokio::spawn(async move {
            let agent = lock(&fleet.inner.agents).remove(&uuid);
            if let Some(agent) = agent
                && let Err(e) = stop_sandboxes(&fleet, &agent, &uuid).await
            {
                tracing::error!(
                    runner = uuid,
                    "stopping a deleted runner's sandboxes: {e:#}"
                );
            }
            let deleted = uuid.clone();
            let result = fleet
                .inner
                .store
                .run(move |connection| {
                    rows::delete(connection, &deleted)
                        .map_err(|e| crate::error::ApiError::internal("deleting a runner", e))
                })
                .await;
            if let Err(e) = result {
                tracing::error!("tearing down a runner: {}", e.0.message);
            }
            // A heartbeat that was accepted while the runner was being deleted may have
            // registered its agent again; the runner is gone now, so is its agent.
            lock(&fleet.inner.agents).remove(&uuid);
        });
    }

    /// Records what a runner's agent will report: capacity declared by configuration
    /// instead of measured.
    pub async fn declare_capacity(
        &self,
        runner_uuid: &str,
        capacity: Capacity,
    ) -> anyhow::Result<()> {
        let uuid = runner_uuid.to_owned();
        let capacity = Capacity {
            declared: true,
            ..capacity
        };
        self.inner
            .store
            .run(move |connection| {
                connection
                    .execute(
                        "UPDATE runners SET capacity_json = ?1 WHERE id = ?2",
                        rusqlite::params![
                            serde_json::to_string(&capacity).unwrap_or_default(),
                            uuid
                        ],
                    )
                    .map(drop)
                    .map_err(|e| crate::error::ApiError::internal("declaring capacity", e))
            })
            .await
            .map_err(|e| anyhow::anyhow!(e.0.message))
    }

    /// After a restart: finish installs, reconnect agents, finish deletes.
    pub async fn resume(&self) -> anyhow::Result<()> {
        let runners = self
            .inner
            .store
            .run(|connection| {
                rows::list(connection, None, "", u32::MAX)
                    .map_err(|e| crate::error::ApiError::internal("listing runners", e))
            })
            .await
            .map_err(|e| anyhow::anyhow!(e.0.message))?;
        for stored in runners {
            match stored.runner.install_status {
                RunnerInstallStatus::Pending => self.install(stored.uuid()),
                RunnerInstallStatus::Provisioning => {
                    self.set_state(stored.uuid(), RunnerInstallStatus::Pending, None, None)
                        .await?;
                    self.install(stored.uuid());
                }
                // An agent process reconnects by itself, with its next heartbeat.
                RunnerInstallStatus::Ready if self.inner.config.external_agents => {}
                RunnerInstallStatus::Ready => self.connect(stored.uuid()).await?,
                RunnerInstallStatus::Deleting => self.tear_down(stored.uuid()),
                RunnerInstallStatus::Failed | RunnerInstallStatus::Unspecified => {}
            }
        }
        Ok(())
    }

    async fn read(&self, uuid: &str) -> anyhow::Result<Option<rows::StoredRunner>> {
        let uuid = uuid.to_owned();
        self.inner
            .store
            .run(move |connection| {
                rows::get_by_uuid(connection, &uuid)
                    .map_err(|e| crate::error::ApiError::internal("reading a runner", e))
            })
            .await
            .map_err(|e| anyhow::anyhow!(e.0.message))
    }

    /// Moves the install state from `from` to `to` if it still is `from`.
    async fn advance(
        &self,
        uuid: &str,
        from: RunnerInstallStatus,
        to: RunnerInstallStatus,
    ) -> anyhow::Result<bool> {
        let uuid = uuid.to_owned();
        self.inner
            .store
            .run(move |connection| {
                rows::advance_install_state(connection, &uuid, from, to, &store::new_etag())
                    .map_err(|e| crate::error::ApiError::internal("recording install state", e))
            })
            .await
            .map_err(|e| anyhow::anyhow!(e.0.message))
    }

    async fn set_state(
        &self,
        uuid: &str,
        status: RunnerInstallStatus,
        error: Option<InstallError>,
        active_revision: Option<i64>,
    ) -> anyhow::Result<()> {
        let uuid = uuid.to_owned();
        self.inner
            .store
            .run(move |connection| {
                rows::set_install_state(
                    connection,
                    &uuid,
                    status,
                    error.as_ref(),
                    active_revision,
                    &store::new_etag(),
                )
                .map_err(|e| crate::error::ApiError::internal("recording install state", e))
            })
            .await
            .map_err(|e| anyhow::anyhow!(e.0.message))
    }
}

/// This machine's real CPU and memory, and whether it can run sandboxes without network.
/// Blocks the first time for the network probe (see `process::no_network_available`).
pub fn machine_capacity() -> Capacity {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let memory_bytes = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<i64>()
                        .ok()
                })
        })
        .map_or(0, |kib| kib * 1024);
    Capacity {
        cpu_millicores: i64::try_from(cpus).unwrap_or(1) * 1000,
        memory_bytes,
        gpus: 0,
        gpu_types: Vec::new(),
        architectures: vec![architecture().to_owned()],
        declared: false,
        healthy: true,
        network_isolation: process::no_network_available(),
    }
}

/// Stops the sandboxes still active on a runner and waits until each has ended or its
/// agent counts as gone.
async fn stop_sandboxes(fleet: &Fleet, agent: &AgentHandle, uuid: &str) -> anyhow::Result<()> {
    let runner = uuid.to_owned();
    let active = fleet
        .inner
        .store
        .run(move |connection| {
            crate::store::sandboxes::active_on_runner(connection, &runner)
                .map_err(|e| crate::error::ApiError::internal("listing a runner's sandboxes", e))
        })
        .await
        .map_err(|e| anyhow::anyhow!(e.0.message))?;
    for id in &active {
        if let Err(e) = agent.stop(id, TEAR_DOWN_GRACE).await {
            tracing::warn!(sandbox = id, "stopping a sandbox: {}", e.0.message);
        }
    }
    futures_util::future::join_all(active.iter().map(|id| agent.wait(id))).await;
    Ok(())
}

/// The machine's CPU architecture as Kubernetes names it.
pub fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
