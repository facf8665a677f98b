//! The installer: what the platform does after a runner is created or deleted. It
//! installs runners (PENDING → PROVISIONING → READY, or FAILED with remediation hints),
//! starts the in-process agent of each READY runner (heartbeats, capacity, rolling
//! `activeRevision` up to `targetRevision`), and tears runners down.
//!
//! With `--external-agents` a runner is served by an agent process instead: the
//! installer stops at PROVISIONING, and the agent's heartbeats
//! (`operations::heartbeats`) make the runner READY.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sandbox_api::runner::{InstallError, RunnerInstallStatus};

use super::{AgentRegistry, FleetConfig, UNREACHABLE_CLUSTER_PREFIX};
use crate::agent::handle::AgentHandle;
use crate::agent::host::SandboxHost;
use crate::agent::machine::machine_capacity;
use crate::capacity::Capacity;
use crate::read_model::LiveRunners;
use crate::store::runners::{self as rows, StoredRunner};
use crate::store::{self, Store, StoreError};

/// How long sandboxes get between SIGTERM and SIGKILL when their runner is deleted.
const TEAR_DOWN_GRACE: Duration = Duration::from_secs(5);

/// Cheap to clone: clones share the store and the registry.
#[derive(Clone)]
pub struct Installer {
    store: Store,
    agents: AgentRegistry,
    /// Where in-process agents' heartbeats go.
    live: LiveRunners,
    config: Arc<FleetConfig>,
}

impl Installer {
    pub fn new(
        store: Store,
        agents: AgentRegistry,
        live: LiveRunners,
        config: FleetConfig,
    ) -> Installer {
        Installer {
            store,
            agents,
            live,
            config: Arc::new(config),
        }
    }

    pub fn config(&self) -> &FleetConfig {
        &self.config
    }

    /// Installs a new runner in the background.
    pub fn install(&self, runner_uuid: &str) {
        let installer = self.clone();
        let uuid = runner_uuid.to_owned();
        tokio::spawn(async move {
            if let Err(e) = installer.run_install(&uuid).await {
                tracing::error!(runner = uuid, "install failed: {e:#}");
            }
        });
    }

    async fn run_install(&self, uuid: &str) -> anyhow::Result<()> {
        let step = self.config.install_step;
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
        if self.config.external_agents {
            // The runner's agent process makes it READY with its first heartbeat.
            return Ok(());
        }
        tokio::time::sleep(step).await;
        let identity = stored.runner.identity.clone().unwrap_or_default();
        let cluster = identity.cluster();
        let cluster = cluster.as_str();
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
        let isolation = self.config.isolation.clone();
        let measured = tokio::task::spawn_blocking(move || machine_capacity(&isolation))
            .await
            .context("measuring this machine")?;
        let capacity = match stored.capacity {
            Some(declared) if declared.declared => Capacity {
                network_isolation: measured.network_isolation,
                isolation: measured.isolation,
                isolation_problem: measured.isolation_problem,
                outbound_networking: measured.outbound_networking,
                ..declared
            },
            _ => measured,
        };
        let host = Arc::new(SandboxHost::new(
            self.config.data_dir.clone(),
            self.config.isolation.clone(),
        ));
        self.agents.serve_locally(uuid, Arc::clone(&host));
        self.heartbeat(uuid, &capacity).await?;
        self.set_state(
            uuid,
            RunnerInstallStatus::Ready,
            None,
            Some(stored.runner.target_revision),
        )
        .await?;
        let installer = self.clone();
        let uuid = uuid.to_owned();
        let interval = self.config.heartbeat_interval;
        tokio::spawn(async move {
            // It beats for as long as it serves the runner: until the runner is torn down.
            loop {
                tokio::time::sleep(interval).await;
                if !installer.agents.is_served_by(&uuid, &host) {
                    return;
                }
                match installer.beat(&uuid, &capacity).await {
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

    /// In memory; persisted in batches (`read_model::LiveRunners`).
    async fn heartbeat(&self, uuid: &str, capacity: &Capacity) -> anyhow::Result<()> {
        self.live.beat(uuid, store::now(), capacity);
        Ok(())
    }

    /// Stops the runner's sandboxes, then removes the runner. Their watchers record how
    /// they ended; an agent that cannot be reached any more is given as long as a
    /// watcher gives it (see `agent::client`).
    pub fn tear_down(&self, runner_uuid: &str) {
        let installer = self.clone();
        let uuid = runner_uuid.to_owned();
        tokio::spawn(async move {
            if let Err(e) = installer.run_tear_down(&uuid).await {
                tracing::error!(runner = uuid, "tearing down a runner: {e:#}");
            }
        });
    }

    async fn run_tear_down(&self, uuid: &str) -> anyhow::Result<()> {
        if let Some(agent) = self.agents.remove(uuid) {
            // A runner whose sandboxes could not all be stopped is deleted all the same:
            // their watchers record how each ended.
            if let Err(e) = self.stop_sandboxes(&agent, uuid).await {
                tracing::error!(
                    runner = uuid,
                    "stopping a deleted runner's sandboxes: {e:#}"
                );
            }
        }
        let deleted = uuid.to_owned();
        let result = self
            .store
            .run(move |connection| rows::delete(connection, &deleted))
            .await
            .map_err(|e| e.context("deleting the runner"));
        // A heartbeat that was accepted while the runner was being deleted may have
        // registered its agent again; the runner is gone now, so is its agent.
        self.agents.remove(uuid);
        self.live.forget(uuid);
        result
    }

    /// Stops the sandboxes still active on a runner and waits until each has ended or
    /// its agent counts as gone.
    async fn stop_sandboxes(&self, agent: &AgentHandle, uuid: &str) -> anyhow::Result<()> {
        let runner = uuid.to_owned();
        let active = self
            .store
            .run(move |connection| store::sandboxes::active_on_runner(connection, &runner))
            .await
            .map_err(|e| e.context("listing the runner's sandboxes"))?;
        for id in &active {
            if let Err(e) = agent.stop(id, TEAR_DOWN_GRACE).await {
                tracing::warn!(sandbox = id, "stopping a sandbox: {e}");
            }
        }
        futures_util::future::join_all(active.iter().map(|id| agent.wait(id))).await;
        Ok(())
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
        let declared = capacity.clone();
        self.store
            .run(move |connection| rows::declare_capacity(connection, &uuid, &declared))
            .await
            .map_err(|e| e.context("declaring capacity"))?;
        self.live.declare(runner_uuid, &capacity);
        Ok(())
    }

    /// After a restart: finish installs, reconnect agents, finish deletes.
    pub async fn resume(&self) -> anyhow::Result<()> {
        let runners = self
            .store
            .run(|connection| rows::list(connection, None, "", u32::MAX))
            .await
            .map_err(|e| e.context("listing runners"))?;
        for stored in runners {
            match stored.runner.install_status {
                RunnerInstallStatus::Pending => self.install(stored.uuid()),
                RunnerInstallStatus::Provisioning => {
                    self.set_state(stored.uuid(), RunnerInstallStatus::Pending, None, None)
                        .await?;
                    self.install(stored.uuid());
                }
                // An agent process reconnects by itself, with its next heartbeat.
                RunnerInstallStatus::Ready if self.config.external_agents => {}
                RunnerInstallStatus::Ready => self.connect(stored.uuid()).await?,
                RunnerInstallStatus::Deleting => self.tear_down(stored.uuid()),
                RunnerInstallStatus::Failed | RunnerInstallStatus::Unspecified => {}
            }
        }
        Ok(())
    }

    /// On a reading connection: every heartbeat reads its runner.
    async fn read(&self, uuid: &str) -> anyhow::Result<Option<StoredRunner>> {
        let uuid = uuid.to_owned();
        self.store
            .read(move |connection| rows::get_by_uuid(connection, &uuid))
            .await
            .map_err(|e| e.context("reading the runner"))
    }

    /// Moves the install state from `from` to `to` if it still is `from`.
    async fn advance(
        &self,
        uuid: &str,
        from: RunnerInstallStatus,
        to: RunnerInstallStatus,
    ) -> anyhow::Result<bool> {
        let uuid = uuid.to_owned();
        self.store
            .run(move |connection| {
                rows::advance_install_state(connection, &uuid, from, to, &store::new_etag())
            })
            .await
            .map_err(|e| e.context("recording the install state"))
    }

    async fn set_state(
        &self,
        uuid: &str,
        status: RunnerInstallStatus,
        error: Option<InstallError>,
        active_revision: Option<i64>,
    ) -> anyhow::Result<()> {
        let uuid = uuid.to_owned();
        self.store
            .run(move |connection| -> Result<(), StoreError> {
                rows::set_install_state(
                    connection,
                    &uuid,
                    status,
                    error.as_ref(),
                    active_revision,
                    &store::new_etag(),
                )
            })
            .await
            .map_err(|e| e.context("recording the install state"))
    }
}
