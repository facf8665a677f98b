//! The gateway's operations: what each API call does, whatever the transport. Handlers
//! (`http`) extract and answer; `--demo` seeding calls the same functions. Operations
//! own the rules: roles, `sandbox-api` validation, etags, placement with reservation.
//! They read and write through the store, read runners through the read model, and
//! reach sandboxes through the fleet's agents.

pub mod caller;
pub mod discovery;
pub mod execs;
pub mod files;
pub mod heartbeats;
pub mod history;
mod page_token;
pub mod profile_templates;
pub mod quotas;
pub mod runners;
pub mod sandboxes;
pub mod usage;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sandbox_api::error::Code;

use crate::auth::{Caller, TokenHash};
use crate::error::ApiError;
use crate::fleet::usage::{self as sampling, UsageBook};
use crate::fleet::{AgentRegistry, FleetConfig, Installer};
use crate::read_model::{self, LiveRunners, Liveness, Parts, ReservationCache, RunnerCache, View};
use crate::store::{Store, StoreError, organizations};

use self::quotas::ExecSlots;
pub use sandboxes::SandboxPolicy;

/// What every operation works with, built once at start-up: the store, the read model
/// over it, the agent serving each runner, the installer, and the gateway's sandbox
/// policy. Cheap to clone.
#[derive(Clone)]
pub struct Platform {
    pub store: Store,
    pub runners: Arc<RunnerCache>,
    pub reservations: Arc<ReservationCache>,
    /// Heartbeats and reported capacity, by runner UUID.
    pub live: LiveRunners,
    pub liveness: Liveness,
    pub agents: AgentRegistry,
    pub installer: Installer,
    pub policy: SandboxPolicy,
    /// Execs running now, within the policy's limits.
    pub execs: ExecSlots,
    /// What sandboxes, runners and the fleet use, recently.
    pub usage: UsageBook,
    /// Callers by token hash, as found: the accepted tokens are fixed at start-up.
    callers: Arc<RwLock<HashMap<String, Caller>>>,
}

impl Platform {
    /// The platform over `store`, with the live state it last persisted; heartbeats are
    /// persisted every heartbeat interval from then on.
    pub async fn new(
        store: Store,
        config: FleetConfig,
        policy: SandboxPolicy,
    ) -> anyhow::Result<Platform> {
        let liveness = Liveness {
            heartbeat_timeout: config.heartbeat_timeout,
        };
        let live = store
            .read(LiveRunners::load)
            .await
            .map_err(|e| e.context("reading the runners' last heartbeats"))?;
        read_model::persist_periodically(live.clone(), store.clone(), config.heartbeat_interval);
        let agents = AgentRegistry::new(config.heartbeat_timeout)?;
        let usage = UsageBook::new(config.usage_interval);
        sampling::sample_periodically(store.clone(), agents.clone(), usage.clone());
        let installer = Installer::new(store.clone(), agents.clone(), live.clone(), config);
        Ok(Platform {
            store,
            runners: Arc::default(),
            reservations: Arc::default(),
            live,
            callers: Arc::default(),
            liveness,
            agents,
            installer,
            execs: ExecSlots::new(policy.max_execs_per_sandbox, policy.max_execs_per_org),
            usage,
            policy,
        })
    }

    pub fn config(&self) -> &FleetConfig {
        self.installer.config()
    }

    /// The runners of `organization` as discovery sees them now (see `read_model`).
    pub async fn discovery_view(&self, organization: &str) -> Result<View, ApiError> {
        let parts = Parts {
            store: &self.store,
            runners: &self.runners,
            reservations: &self.reservations,
            live: &self.live,
            liveness: self.liveness,
        };
        Ok(read_model::view(parts, organization).await?)
    }
}

/// The operation boundary for store failures: logged once with their cause, answered
/// without internals.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::internal("using the database", error)
    }
}

/// Who presents the bearer token `secret`. A token found once is remembered: the set of
/// accepted tokens only changes at start-up. Unknown ones are looked up each time (on a
/// reading connection), so that guessing cannot fill memory.
pub async fn authenticate(platform: &Platform, secret: &str) -> Result<Caller, ApiError> {
    let hash = TokenHash::of(secret);
    let known = platform
        .callers
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(hash.as_hex())
        .cloned();
    if let Some(caller) = known {
        return Ok(caller);
    }
    let key = hash.as_hex().to_owned();
    let caller = platform
        .store
        .read(move |connection| organizations::caller(connection, &hash))
        .await?
        .ok_or_else(|| ApiError::new(Code::Unauthenticated, "the token is not valid"))?;
    platform
        .callers
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, caller.clone());
    Ok(caller)
}
