//! The gateway's operations: what each API call does, whatever the transport. Handlers
//! (`http`) extract and answer; `--demo` seeding calls the same functions. Operations
//! own the rules: roles, `sandbox-api` validation, etags, placement with reservation.
//! They read and write through the store, read runners through the read model, and
//! reach sandboxes through the fleet's agents.

pub mod discovery;
pub mod heartbeats;
mod page_token;
pub mod profile_templates;
pub mod quotas;
pub mod runners;
pub mod sandboxes;

use std::sync::Arc;

use sandbox_api::error::Code;

use crate::auth::{Caller, TokenHash};
use crate::error::ApiError;
use crate::fleet::{AgentRegistry, FleetConfig, Installer};
use crate::read_model::{self, Liveness, RunnerCache, RunnerState};
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
    pub liveness: Liveness,
    pub agents: AgentRegistry,
    pub installer: Installer,
    pub policy: SandboxPolicy,
    /// Execs running now, within the policy's limits.
    pub execs: ExecSlots,
}

impl Platform {
    pub fn new(
        store: Store,
        config: FleetConfig,
        policy: SandboxPolicy,
    ) -> anyhow::Result<Platform> {
        let liveness = Liveness {
            heartbeat_timeout: config.heartbeat_timeout,
        };
        let agents = AgentRegistry::new(config.heartbeat_timeout)?;
        let installer = Installer::new(store.clone(), agents.clone(), config);
        Ok(Platform {
            store,
            runners: Arc::default(),
            liveness,
            agents,
            installer,
            execs: ExecSlots::new(policy.max_execs_per_sandbox, policy.max_execs_per_org),
            policy,
        })
    }

    pub fn config(&self) -> &FleetConfig {
        self.installer.config()
    }

    /// Every runner of `organization` as the read model sees it now.
    pub async fn runner_states(&self, organization: &str) -> Result<Vec<RunnerState>, ApiError> {
        let (cache, liveness) = (Arc::clone(&self.runners), self.liveness);
        let organization = organization.to_owned();
        self.store
            .run(move |connection| {
                Ok(read_model::load(
                    connection,
                    &cache,
                    &organization,
                    liveness,
                )?)
            })
            .await
    }
}

/// The operation boundary for store failures: logged once with their cause, answered
/// without internals.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::internal("using the database", error)
    }
}

/// Who presents the bearer token `secret`.
pub async fn authenticate(platform: &Platform, secret: &str) -> Result<Caller, ApiError> {
    let hash = TokenHash::of(secret);
    platform
        .store
        .run(move |connection| organizations::caller(connection, &hash))
        .await?
        .ok_or_else(|| ApiError::new(Code::Unauthenticated, "the token is not valid"))
}
