//! The read model: a runner as discovery and placement see it: installed state,
//! connection, capacity minus what active sandboxes reserve, and bindings resolved to
//! their profiles. Three parts, each kept in memory:
//!
//! - the resolved runners of each organization, sorted by runner ID, rebuilt when the
//!   store's read-model generation moves ([`RunnerCache`]);
//! - what active sandboxes reserve on each runner, recomputed when the store's sandbox
//!   generation moves ([`ReservationCache`]);
//! - heartbeats and reported capacity ([`LiveRunners`]).
//!
//! Discovery reads them without SQLite once they are built ([`view`]); placement reads
//! them on the store's writing connection, inside the critical section in which it
//! reserves ([`load`]), so that two starts never take the same last capacity.

mod live;
mod liveness;

pub use live::{LiveRunner, LiveRunners, persist_periodically};
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
use crate::store::sandboxes::Reservations;
use crate::store::{self, Store, profile_templates, sandboxes};

/// Tag on discovery results whose capacity was declared by configuration, not measured.
pub const DECLARED_CAPACITY_TAG: &str = "capacity:declared";

/// The part of a runner's read model that only changes when an administrator or the
/// installer changes something: kept between requests (see `RunnerCache`).
pub struct CachedRunner {
    pub stored: StoredRunner,
    pub bindings: Arc<Vec<CandidateBinding>>,
    /// The modes each binding's effective spec offers, in binding order.
    modes: Vec<OfferedModes>,
}

/// Every organization's resolved runners, with the read-model generation they were
/// built at. Discovery over thousands of runners would otherwise parse every row again
/// on every request.
#[derive(Default)]
pub struct RunnerCache {
    entries: Mutex<HashMap<String, (i64, Arc<OrgRunners>)>>,
    /// Held while building, so that concurrent requests after a change build once.
    building: tokio::sync::Mutex<()>,
}

/// One organization's resolved runners, sorted by runner ID (the order discovery pages
/// in), shared by the requests that read them.
#[derive(Default)]
pub struct OrgRunners {
    sorted: Vec<Arc<CachedRunner>>,
    by_uuid: HashMap<String, usize>,
}

impl OrgRunners {
    fn new(runners: Vec<Arc<CachedRunner>>) -> OrgRunners {
        let mut sorted = runners;
        sorted.sort_by(|a, b| a.stored.runner_id().cmp(b.stored.runner_id()));
        let by_uuid = sorted
            .iter()
            .enumerate()
            .map(|(index, runner)| (runner.stored.uuid().to_owned(), index))
            .collect();
        OrgRunners { sorted, by_uuid }
    }

    /// Runners from the first whose ID sorts after `after` (or, `inclusive`, is
    /// `after` itself), in order.
    fn from(&self, after: &str, inclusive: bool) -> std::slice::Iter<'_, Arc<CachedRunner>> {
        let start = self.sorted.partition_point(|runner| {
            let id = runner.stored.runner_id();
            id < after || (!inclusive && id == after)
        });
        self.sorted[start..].iter()
    }

    /// A runner by runner ID or UUID.
    fn find(&self, key: &str) -> Option<&Arc<CachedRunner>> {
        let by_id = self
            .sorted
            .binary_search_by(|runner| runner.stored.runner_id().cmp(key))
            .ok();
        by_id
            .or_else(|| self.by_uuid.get(key).copied())
            .map(|index| &self.sorted[index])
    }
}

impl RunnerCache {
    fn get(&self, organization: &str, generation: i64) -> Option<Arc<OrgRunners>> {
        lock(&self.entries)
            .get(organization)
            .filter(|(built_at, _)| *built_at == generation)
            .map(|(_, runners)| Arc::clone(runners))
    }

    fn put(&self, organization: &str, generation: i64, runners: Arc<OrgRunners>) {
        lock(&self.entries).insert(organization.to_owned(), (generation, runners));
    }
}

/// What active sandboxes reserve on each runner, as of a sandbox generation.
#[derive(Default)]
pub struct ReservationCache {
    entry: Mutex<Option<(i64, Arc<Reservations>)>>,
    building: tokio::sync::Mutex<()>,
}

impl ReservationCache {
    fn get(&self, generation: i64) -> Option<Arc<Reservations>> {
        lock(&self.entry)
            .as_ref()
            .filter(|(built_at, _)| *built_at == generation)
            .map(|(_, reserved)| Arc::clone(reserved))
    }
}

/// A runner as discovery and placement see it right now.
pub struct RunnerState {
    cached: Arc<CachedRunner>,
    pub connection: RunnerConnectionStatus,
    pub capacity: Arc<Capacity>,
    pub last_heartbeat_at: Option<OffsetDateTime>,
    pub reserved_cpu_millicores: i64,
    pub reserved_memory_bytes: i64,
    pub reserved_gpus: i64,
    pub running_sandboxes: i32,
}

impl RunnerState {
    fn new(
        cached: &Arc<CachedRunner>,
        live: LiveRunner,
        reserved: &Reservations,
        liveness: Liveness,
        now: OffsetDateTime,
    ) -> RunnerState {
        let (cpu, memory, gpus, count) = reserved
            .get(cached.stored.uuid())
            .copied()
            .unwrap_or_default();
        RunnerState {
            connection: liveness.connection(live.last_heartbeat_at, now),
            capacity: live.capacity.unwrap_or_default(),
            last_heartbeat_at: live.last_heartbeat_at,
            reserved_cpu_millicores: cpu,
            reserved_memory_bytes: memory,
            reserved_gpus: gpus,
            running_sandboxes: count,
            cached: Arc::clone(cached),
        }
    }
}

/// Every runner of `organization` with its live state, for placement: read on the
/// store's writing connection (`connection`), so it sees every reservation made before
/// it, and the caller reserves in the same critical section.
pub fn load(
    connection: &Connection,
    cache: &RunnerCache,
    live: &LiveRunners,
    organization: &str,
    liveness: Liveness,
) -> store::Result<Vec<RunnerState>> {
    let generation = read_model_generation(connection)?;
    let runners = match cache.get(organization, generation) {
        Some(runners) => runners,
        None => {
            let built = Arc::new(OrgRunners::new(build(connection, organization)?));
            cache.put(organization, generation, Arc::clone(&built));
            built
        }
    };
    let reserved = sandboxes::reservations(connection)?;
    let now = OffsetDateTime::now_utc();
    Ok(runners
        .sorted
        .iter()
        .map(|cached| {
            let live = live.get(cached.stored.uuid());
            RunnerState::new(cached, live, &reserved, liveness, now)
        })
        .collect())
}

/// What discovery reads: one organization's runners with the reservations and liveness
/// of the moment it was taken; live state is read as runners are looked at.
pub struct View {
    runners: Arc<OrgRunners>,
    reserved: Arc<Reservations>,
    live: LiveRunners,
    liveness: Liveness,
    now: OffsetDateTime,
}

/// Where the parts of the read model are kept (see the module's documentation).
#[derive(Clone, Copy)]
pub struct Parts<'a> {
    pub store: &'a Store,
    pub runners: &'a RunnerCache,
    pub reservations: &'a ReservationCache,
    pub live: &'a LiveRunners,
    pub liveness: Liveness,
}

/// The view of `organization` for discovery: from memory, reading the store only to
/// rebuild what a write made stale.
pub async fn view(parts: Parts<'_>, organization: &str) -> store::Result<View> {
    let (read_model, sandbox_generation) = parts.store.generations();
    let runners = match parts.runners.get(organization, read_model) {
        Some(runners) => runners,
        None => {
            let _building = parts.runners.building.lock().await;
            match parts.runners.get(organization, read_model) {
                Some(runners) => runners,
                None => {
                    let org = organization.to_owned();
                    let built = parts
                        .store
                        .read(move |connection| build(connection, &org))
                        .await?;
                    let built = Arc::new(OrgRunners::new(built));
                    parts
                        .runners
                        .put(organization, read_model, Arc::clone(&built));
                    built
                }
            }
        }
    };
    let reserved = match parts.reservations.get(sandbox_generation) {
        Some(reserved) => reserved,
        None => {
            let _building = parts.reservations.building.lock().await;
            match parts.reservations.get(sandbox_generation) {
                Some(reserved) => reserved,
                None => {
                    let reserved = Arc::new(parts.store.read(sandboxes::reservations).await?);
                    *lock(&parts.reservations.entry) =
                        Some((sandbox_generation, Arc::clone(&reserved)));
                    reserved
                }
            }
        }
    };
    Ok(View {
        runners,
        reserved,
        live: parts.live.clone(),
        liveness: parts.liveness,
        now: OffsetDateTime::now_utc(),
    })
}

impl View {
    fn state(&self, cached: &Arc<CachedRunner>) -> RunnerState {
        let live = self.live.get(cached.stored.uuid());
        RunnerState::new(cached, live, &self.reserved, self.liveness, self.now)
    }

    /// Installed runners whose ID sorts after `after`, in runner ID order, built as
    /// they are asked for (a page stops early).
    pub fn installed_after<'a>(&'a self, after: &str) -> impl Iterator<Item = RunnerState> + 'a {
        self.installed(self.runners.from(after, false))
    }

    /// Installed runners from `first` (by runner ID) on, in order.
    pub fn installed_from<'a>(&'a self, first: &str) -> impl Iterator<Item = RunnerState> + 'a {
        self.installed(self.runners.from(first, true))
    }

    fn installed<'a>(
        &'a self,
        runners: impl Iterator<Item = &'a Arc<CachedRunner>> + 'a,
    ) -> impl Iterator<Item = RunnerState> + 'a {
        runners
            .filter(|cached| cached.stored.runner.install_status == RunnerInstallStatus::Ready)
            .map(|cached| self.state(cached))
    }

    /// An installed runner by runner ID or UUID.
    pub fn find_installed(&self, key: &str) -> Option<RunnerState> {
        self.runners
            .find(key)
            .filter(|cached| cached.stored.runner.install_status == RunnerInstallStatus::Ready)
            .map(|cached| self.state(cached))
    }
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
                bindings: Arc::new(bindings),
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
            bindings: Arc::clone(&self.cached.bindings),
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

#[cfg(test)]
mod tests {
    use sandbox_api::runner::{Runner, RunnerIdentity};

    use super::*;

    fn cached(runner_id: &str, installed: bool) -> Arc<CachedRunner> {
        Arc::new(CachedRunner {
            stored: StoredRunner {
                organization: "acme".into(),
                runner: Runner {
                    id: format!("uuid-{runner_id}"),
                    identity: Some(RunnerIdentity {
                        runner_id: runner_id.into(),
                        ..RunnerIdentity::default()
                    }),
                    install_status: if installed {
                        RunnerInstallStatus::Ready
                    } else {
                        RunnerInstallStatus::Provisioning
                    },
                    ..Runner::default()
                },
                capacity: None,
            },
            bindings: Arc::default(),
            modes: Vec::new(),
        })
    }

    fn view(runners: Vec<Arc<CachedRunner>>) -> View {
        View {
            runners: Arc::new(OrgRunners::new(runners)),
            reserved: Arc::default(),
            live: LiveRunners::default(),
            liveness: Liveness {
                heartbeat_timeout: std::time::Duration::from_secs(30),
            },
            now: OffsetDateTime::now_utc(),
        }
    }

    fn ids(states: impl Iterator<Item = RunnerState>) -> Vec<String> {
        states.map(|s| s.runner_id().to_owned()).collect()
    }

    #[test]
    fn runners_page_in_id_order_from_any_key_skipping_uninstalled_ones() {
        let view = view(vec![
            cached("c", true),
            cached("a", true),
            cached("b", false),
            cached("d", true),
        ]);
        assert_eq!(ids(view.installed_after("")), ["a", "c", "d"]);
        assert_eq!(ids(view.installed_after("a")), ["c", "d"]);
        // A key between runners (one deleted since the page was served) still works.
        assert_eq!(ids(view.installed_after("bb")), ["c", "d"]);
        assert_eq!(ids(view.installed_from("c")), ["c", "d"]);
        assert!(ids(view.installed_after("d")).is_empty());
    }

    #[test]
    fn a_runner_is_found_by_id_or_uuid_if_installed() {
        let view = view(vec![cached("a", true), cached("b", false)]);
        assert_eq!(view.find_installed("a").unwrap().runner_id(), "a");
        assert_eq!(view.find_installed("uuid-a").unwrap().runner_id(), "a");
        assert!(view.find_installed("b").is_none());
        assert!(view.find_installed("z").is_none());
    }
}
