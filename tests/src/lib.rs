//! The end-to-end harness: a real `sandbox-gateway` process on a free port with its own
//! data directory, and headless Chromium driven over WebDriver. Nothing here builds
//! anything: `scripts/test` builds the gateway and the release console first.

pub mod browser;
pub mod cutting_proxy;
pub mod demo;
pub mod fleet;
pub mod gateway;
pub mod host_page;
pub mod python;
pub mod transfer;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Polls `check` until it yields `Some`, or fails after `timeout` with the last reason
/// it gave. Tests wait for conditions, never for fixed times.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => "condition not met yet".to_owned(),
            Err(e) => format!("{e:#}"),
        };
        if Instant::now() >= deadline {
            anyhow::bail!("timed out after {timeout:?} waiting for {what}: {last}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
