//! A runner as discovery and placement see it: installed state, connection, capacity
//! minus what active sandboxes reserve, and bindings resolved to their profiles.

use rusqlite::Connection;
use sandbox_api::discovery::{
    AvailableRunner, EgressMode, ProfileSummary, RunnerCapabilitySummary, RunnerResourceSummary,
    ServiceExposureMode,
};
use sandbox_api::layering::{Layers, effective_spec};
use sandbox_api::placement::{CandidateBinding, CandidateRunner, offered_modes, resolve_bindings};
use sandbox_api::profile::ProfileSpec;
use sandbox_api::runner::{RunnerConnectionStatus, RunnerInstallStatus};
use time::OffsetDateTime;

use crate::fleet::Liveness;
use crate::store::runners::{self as runner_rows, Capacity, StoredRunner};
use crate::store::{profile_templates, sandboxes};

/// Tag on discovery results whose capacity was declared by configuration, not measured.
pub const DECLARED_CAPACITY_TAG: &str = "capacity:declared";

pub struct RunnerState {
    pub stored: StoredRunner,
    pub connection: RunnerConnectionStatus,
    pub capacity: Capacity,
    pub reserved_cpu_millicores: i64,
    pub reserved_memory_bytes: i64,
    pub reserved_gpus: i64,
    pub running_sandboxes: i32,
    pub bindings: Vec<CandidateBinding>,
}

/// Every runner of `organization` with its live state; `liveness` says which are
/// connected.
pub fn load(
    connection: &Connection,
    organization: &str,
    liveness: Liveness,
) -> anyhow::Result<Vec<RunnerState>> {
    let templates: std::collections::HashMap<String, (String, ProfileSpec)> =
        profile_templates::all(connection, organization)?
            .into_iter()
            .map(|t| (t.id, (t.display_name, t.spec.unwrap_or_default())))
            .collect();
    let reservations = sandboxes::reservations(connection)?;
    let now = OffsetDateTime::now_utc();
    let runners = runner_rows::list(connection, Some(organization), "", u32::MAX)?;
    Ok(runners
        .into_iter()
        .map(|stored| {
            let (cpu, memory, gpus, count) =
                reservations.get(stored.uuid()).copied().unwrap_or_default();
            let bindings = resolve_bindings(&stored.runner.profile_bindings, |id| {
                templates.get(id).cloned()
            });
            RunnerState {
                connection: liveness.connection(stored.runner.last_heartbeat_at, now),
                capacity: stored.capacity.clone().unwrap_or_default(),
                reserved_cpu_millicores: cpu,
                reserved_memory_bytes: memory,
                reserved_gpus: gpus,
                running_sandboxes: count,
                bindings,
                stored,
            }
        })
        .collect())
}

impl RunnerState {
    pub fn runner_id(&self) -> &str {
        self.stored.runner_id()
    }

    pub fn is_installed(&self) -> bool {
        self.stored.runner.install_status == RunnerInstallStatus::Ready
    }

    pub fn healthy(&self) -> bool {
        self.is_installed()
            && self.connection == RunnerConnectionStatus::Connected
            && self.capacity.healthy
    }

    fn available(&self) -> (i64, i64, i64) {
        (
            (self.capacity.cpu_millicores - self.reserved_cpu_millicores).max(0),
            (self.capacity.memory_bytes - self.reserved_memory_bytes).max(0),
            (self.capacity.gpus - self.reserved_gpus).max(0),
        )
    }

    pub fn candidate(&self) -> CandidateRunner {
        let (cpu, memory, gpus) = self.available();
        CandidateRunner {
            runner_id: self.runner_id().to_owned(),
            install_status: self.stored.runner.install_status,
            connection_status: self.connection,
            healthy: self.capacity.healthy,
            available_cpu_millicores: cpu,
            available_memory_bytes: memory,
            available_gpus: gpus,
            gpu_types: self.capacity.gpu_types.clone(),
            zone_defaults: ProfileSpec::default(),
            bindings: self.bindings.clone(),
        }
    }

    /// The discovery view; `full` adds the live resources.
    pub fn available_runner(&self, full: bool) -> AvailableRunner {
        let (cpu, memory, gpus) = self.available();
        let identity = self.stored.runner.identity.clone().unwrap_or_default();
        let mut tags = vec![format!("zone:{}", identity.zone)];
        if self.capacity.declared {
            tags.push(DECLARED_CAPACITY_TAG.to_owned());
        }
        AvailableRunner {
            runner_id: self.runner_id().to_owned(),
            runner_group_id: identity.runner_group_id,
            tags,
            healthy: self.healthy(),
            capabilities: Some(RunnerCapabilitySummary {
                max_cpu_millicores: self.capacity.cpu_millicores,
                max_memory_bytes: self.capacity.memory_bytes,
                max_gpu_count: self.capacity.gpus,
                supported_gpu_types: self.capacity.gpu_types.clone(),
                supported_architectures: self.capacity.architectures.clone(),
                supports_privileged: false,
                available_storage_classes: Vec::new(),
            }),
            resources: full.then_some(RunnerResourceSummary {
                available_cpu_millicores: cpu,
                available_memory_bytes: memory,
                available_gpu_count: gpus,
                running_sandboxes: self.running_sandboxes,
            }),
            profile_names: self
                .bindings
                .iter()
                .map(|b| b.profile_name.clone())
                .collect(),
            connected_at: self.stored.runner.last_heartbeat_at,
            is_shared: false,
        }
    }

    /// One summary per binding, with the modes of its effective spec.
    pub fn profile_summaries(&self) -> Vec<ProfileSummary> {
        self.bindings
            .iter()
            .map(|binding| {
                let effective = effective_spec(Layers {
                    overrides: Some(&binding.overrides),
                    ..Layers::profile_only(&binding.profile)
                });
                let modes = offered_modes(&effective.spec);
                ProfileSummary {
                    profile_name: binding.profile_name.clone(),
                    runner_id: self.runner_id().to_owned(),
                    supported_gpu_types: self.capacity.gpu_types.clone(),
                    supported_architectures: self.capacity.architectures.clone(),
                    service_exposure_modes: modes
                        .ingress
                        .into_iter()
                        .map(|name| ServiceExposureMode { name })
                        .collect(),
                    egress_modes: modes
                        .egress
                        .into_iter()
                        .map(|name| EgressMode { name })
                        .collect(),
                }
            })
            .collect()
    }
}
