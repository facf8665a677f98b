//! When a runner counts as connected (SPEC §3.2).

use std::time::Duration;

use sandbox_api::runner::RunnerConnectionStatus;
use time::OffsetDateTime;

/// A runner without a heartbeat for this long, in milliseconds, is DISCONNECTED (SPEC
/// §3.2): the default of `serve --heartbeat-timeout-ms`.
pub const HEARTBEAT_TIMEOUT_MS: u64 = 30_000;

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
