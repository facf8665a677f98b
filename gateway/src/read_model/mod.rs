//! The read model: a runner as discovery and placement see it: installed state,
//! connection, capacity minus what active sandboxes reserve, and bindings resolved to
//! their profiles. Built from the store; the resolved part is cached per organization
//! until the store's read-model generation changes.

mod liveness;

pub use liveness::{HEARTBEAT_TIMEOUT_MS, Liveness};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use sandbox_api::discovery::{
    AvailableRunner, EgressMode, ProfileSummary, RunnerCapabilitySummary, RunnerResourceSummary,
    ServiceExposureMode,
};
use sandbox_api::layering::{Layers, effective_spec};
use sandbox_api::placement::{
    CandidateBinding, CandidateRunner, OfferedModes, offered_modes, resolve_bindings,
};
use sandbox_api::profile::ProfileSpec;
use sandbox_api::runner::{RunnerConnectionStatus, RunnerInstallStatus};
use time::OffsetDateTime;

use crate::capacity::Capacity;
use crate::mutex::lock;
use crate::store::migrations::read_model_generation;
use crate::store::runners::{self as runner_rows, StoredRunner};
use crate::store::{self, profile_templates, sandboxes};

/// Tag on discovery results whose capacity was declared by configuration, not measured.
pub const DECLARED_CAPACITY_TAG: &str = "capacity:declared";

/// The part of a runner's read model that only changes when an administrator or the
/// installer changes something: kept between requests (see `RunnerCache`).
pub struct CachedRunner {
    pub stored: StoredRunner,
    pub bindings: Vec<CandidateBinding>,
    /// The modes each binding's effective spec offers, in binding order.
    modes: Vec<OfferedModes>,
}

/// Every organization's cached runners, with the read-model generation they were built
/// at. Discovery over thousands of runners would otherwise parse every row again on
/// every request.
#[derive(Default)]
pub struct RunnerCache {
    entries: Mutex<HashMap<String, (i64, CachedRunners)>>,
}

/// One organization's cached runners, shared by the requests that read them.
type CachedRunners = Arc<Vec<Arc<CachedRunner>>>;

impl RunnerCache {
    fn get(&self, organization: &str, generation: i64) -> Option<CachedRunners> {
        lock(&self.entries)
            .get(organization)
            .filter(|(built_at, _)| *built_at == generation)
            .map(|(_, runners)| Arc::clone(runners))
    }

    fn put(&self, organization: &str, generation: i64, runners: CachedRunners) {
        lock(&self.entries).insert(organization.to_owned(), (generation, runners));
    }
}

/// A runner as discovery and placement see it right now.
pub struct RunnerState {
    cached: Arc<CachedRunner>,
    pub connection: RunnerConnectionStatus,
    pub capacity: Capacity,
    pub last_heartbeat_at: Option<OffsetDateTime>,
    pub reserved_cpu_millicores: i64,
    pub reserved_memory_bytes: i64,
    pub reserved_gpus: i64,
    pub running_sandboxes: i32,
}

/// Every runner of `organization` with its live state; `liveness` says which are
/// connected. The slow part comes from `cache` while nothing it depends on changed.
pub fn load(
    connection: &Connection,
    cache: &RunnerCache,
    organization: &str,
    liveness: Liveness,
) -> store::Result<Vec<RunnerState>> {
    let generation = read_model_generation(connection)?;
    let runners = match cache.get(organization, generation) {
        Some(runners) => runners,
        None => {
            let built = Arc::new(build(connection, organization)?);
            cache.put(organization, generation, Arc::clone(&built));
            built
        }
    };
    let live = runner_rows::live_state(connection, organization)?;
    let reservations = sandboxes::reservations(connection)?;
    let now = OffsetDateTime::now_utc();
    Ok(runners
        .iter()
        .map(|cached| {
            let (last_heartbeat_at, capacity) =
                live.get(cached.stored.uuid()).cloned().unwrap_or_default();
            let (cpu, memory, gpus, count) = reservations
                .get(cached.stored.uuid())
                .copied()
                .unwrap_or_default();
            RunnerState {
                connection: liveness.connection(last_heartbeat_at, now),
                capacity: capacity.unwrap_or_default(),
                last_heartbeat_at,
                reserved_cpu_millicores: cpu,
                reserved_memory_bytes: memory,
                reserved_gpus: gpus,
                running_sandboxes: count,
                cached: Arc::clone(cached),
            }
        })
        .collect())
}

/// Reads and resolves every runner of `organization` from the store.
fn build(connection: &Connection, organization: &str) -> store::Result<Vec<Arc<CachedRunner>>> {
    let templates: HashMap<String, (String, ProfileSpec)> =
        profile_templates::all(connection, organization)?
            .into_iter()
            .map(|t| (t.id, (t.display_name, t.spec.unwrap_or_default())))
            .collect();
    let runners = runner_rows::list(connection, Some(organization), "", u32::MAX)?;
    Ok(runners
        .into_iter()
        .map(|stored| {
            let bindings = resolve_bindings(&stored.runner.profile_bindings, |id| {
                templates.get(id).cloned()
            });
            let modes = bindings
                .iter()
                .map(|binding| {
                    let effective = effective_spec(Layers {
                        overrides: Some(&binding.overrides),
                        ..Layers::profile_only(&binding.profile)
                    });
                    offered_modes(&effective.spec)
                })
                .collect();
            Arc::new(CachedRunner {
                stored,
                bindings,
                modes,
            })
        })
        .collect())
}

impl RunnerState {
    pub fn stored(&self) -> &StoredRunner {
        &self.cached.stored
    }

    pub fn runner_id(&self) -> &str {
        self.cached.stored.runner_id()
    }

    pub fn is_installed(&self) -> bool {
        self.cached.stored.runner.install_status == RunnerInstallStatus::Ready
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
            install_status: self.cached.stored.runner.install_status,
            connection_status: self.connection,
            healthy: self.capacity.healthy,
            available_cpu_millicores: cpu,
            available_memory_bytes: memory,
            available_gpus: gpus,
            gpu_types: self.capacity.gpu_types.clone(),
            zone_defaults: ProfileSpec::default(),
            bindings: self.cached.bindings.clone(),
        }
    }

    /// The discovery view; `full` adds the live resources.
    pub fn available_runner(&self, full: bool) -> AvailableRunner {
        let (cpu, memory, gpus) = self.available();
        let identity = self
            .cached
            .stored
            .runner
            .identity
            .clone()
            .unwrap_or_default();
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
                .cached
                .bindings
                .iter()
                .map(|b| b.profile_name.clone())
                .collect(),
            connected_at: self.last_heartbeat_at,
            is_shared: false,
        }
    }

    /// One summary per binding, with the modes of its effective spec.
    pub fn profile_summaries(&self) -> Vec<ProfileSummary> {
        self.cached
            .bindings
            .iter()
            .zip(&self.cached.modes)
            .map(|(binding, modes)| ProfileSummary {
                profile_name: binding.profile_name.clone(),
                runner_id: self.runner_id().to_owned(),
                supported_gpu_types: self.capacity.gpu_types.clone(),
                supported_architectures: self.capacity.architectures.clone(),
                service_exposure_modes: modes
                    .ingress
                    .iter()
                    .map(|name| ServiceExposureMode { name: name.clone() })
                    .collect(),
                egress_modes: modes
                    .egress
                    .iter()
                    .map(|name| EgressMode { name: name.clone() })
                    .collect(),
            })
            .collect()
    }
}
