//! What the platform does behind the control plane, run inside the gateway: installing
//! runners (PENDING → PROVISIONING → READY, or FAILED with remediation hints), their
//! agents (heartbeats, capacity, rolling out revisions), and tearing runners down.
//!
//! Each READY runner has an in-process agent that runs its sandboxes as child processes
//! (`sandboxes.rs`). Its heartbeats are what make the runner CONNECTED.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sandbox_api::runner::{InstallError, RunnerInstallStatus};
use tokio::sync::watch;

use crate::process::SandboxProcess;
use crate::store::runners::{self as rows, Capacity};
use crate::store::{self, Store};

/// A runner without a heartbeat for this long is DISCONNECTED (SPEC §3.2).
pub const HEARTBEAT_TIMEOUT: time::Duration = time::Duration::seconds(30);

/// Clusters whose name or ID starts with this cannot be reached by the local installer,
/// so their install fails (local decision: how to see a failed install locally).
pub const UNREACHABLE_CLUSTER_PREFIX: &str = "unreachable-";

#[derive(Clone, Debug)]
pub struct FleetConfig {
    /// Time between install steps (PENDING → PROVISIONING → READY).
    pub install_step: Duration,
    pub heartbeat_interval: Duration,
    /// Where agents keep sandbox working directories and logs.
    pub data_dir: PathBuf,
}

#[derive(Clone)]
pub struct Fleet {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: FleetConfig,
    agents: Mutex<HashMap<String, Arc<Agent>>>,
}

/// A connected runner's agent.
pub struct Agent {
    /// Running sandboxes by ID.
    pub sandboxes: Mutex<HashMap<String, SandboxProcess>>,
    stop: watch::Sender<bool>,
}

impl Agent {
    pub fn sandbox(&self, id: &str) -> Option<SandboxProcess> {
        lock(&self.sandboxes).get(id).cloned()
    }
}

/// Locks a mutex whose data stays consistent even if a holder panicked (plain maps).
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Fleet {
    pub fn new(store: Store, config: FleetConfig) -> Fleet {
        Fleet {
            inner: Arc::new(Inner {
                store,
                config,
                agents: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &FleetConfig {
        &self.inner.config
    }

    pub fn agent(&self, runner_uuid: &str) -> Option<Arc<Agent>> {
        lock(&self.inner.agents).get(runner_uuid).cloned()
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
        if stored.runner.install_status != RunnerInstallStatus::Pending {
            return Ok(());
        }
        self.set_state(uuid, RunnerInstallStatus::Provisioning, None, None)
            .await?;
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

    /// Starts the runner's agent: it reports capacity and heartbeats, and the runner
    /// becomes READY with its target revision active.
    pub async fn connect(&self, uuid: &str) -> anyhow::Result<()> {
        let Some(stored) = self.read(uuid).await? else {
            return Ok(());
        };
        let capacity = match stored.capacity {
            Some(declared) if declared.declared => declared,
            _ => machine_capacity(),
        };
        let (stop, mut stopped) = watch::channel(false);
        let agent = Arc::new(Agent {
            sandboxes: Mutex::new(HashMap::new()),
            stop,
        });
        lock(&self.inner.agents).insert(uuid.to_owned(), agent);
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
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stopped.changed() => return,
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

    /// Stops the runner's sandboxes and agent, then removes it.
    pub fn tear_down(&self, runner_uuid: &str) {
        let fleet = self.clone();
        let uuid = runner_uuid.to_owned();
        tokio::spawn(async move {
            let agent = lock(&fleet.inner.agents).remove(&uuid);
            if let Some(agent) = agent {
                let running: Vec<SandboxProcess> =
                    lock(&agent.sandboxes).values().cloned().collect();
                for process in &running {
                    process.stop(Duration::from_secs(5));
                }
                for process in &running {
                    process.wait().await;
                }
                let _ = agent.stop.send(true);
            }
            let result = fleet
                .inner
                .store
                .run(move |connection| {
                    rows::delete(connection, &uuid)
                        .map_err(|e| crate::error::ApiError::internal("deleting a runner", e))
                })
                .await;
            if let Err(e) = result {
                tracing::error!("tearing down a runner: {}", e.0.message);
            }
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

/// This machine's real CPU and memory.
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
    }
}

/// The machine's CPU architecture as Kubernetes names it.
pub fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
