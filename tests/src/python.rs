//! The platform's Python client (`cwsandbox`) as a developer runs it: `.venv`'s Python
//! (made by scripts/bootstrap), pointed at a gateway by its environment variables.

use std::process::{Output, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::gateway::Gateway;

/// Runs `python ARGS` with `CWSANDBOX_BASE_URL` (unless `base_url` is false) and
/// `CWSANDBOX_API_KEY` set for `gateway` and `token`, for at most two minutes.
pub async fn run(
    gateway: &Gateway,
    token: &str,
    base_url: bool,
    args: &[&str],
) -> anyhow::Result<Output> {
    let python = crate::workspace_root().join(".venv/bin/python");
    anyhow::ensure!(
        python.is_file(),
        "{} is missing: scripts/bootstrap makes the virtual environment",
        python.display()
    );
    let mut command = tokio::process::Command::new(&python);
    command
        .args(args)
        .env("CWSANDBOX_API_KEY", token)
        .env_remove("CWSANDBOX_BASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if base_url {
        command.env("CWSANDBOX_BASE_URL", &gateway.url);
    }
    tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .context("the Python client did not finish within 2 minutes")?
        .context("running the Python client")
}
