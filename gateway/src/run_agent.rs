//! `sandbox-gateway agent`: serve the agent API, heartbeat to the gateway, and stop the
//! sandboxes when leaving.
//!
//! Heartbeats (local decision): the first one must be accepted before the agent counts
//! as started. Until the gateway answers at all, the agent keeps trying; if the gateway
//! refuses it (a bad token, a role other than SANDBOX_ADMIN, an unknown runner, another
//! zone), the agent says why on stderr and exits. Later, a refusal or a failure is
//! logged and the agent keeps beating, except when the runner no longer exists (404):
//! then there is nothing left to serve and it exits.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::StatusCode;
use sandbox_api::error::Status;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::agent::client::describe;
use crate::agent::host::{HostIsolation, SandboxHost};
use crate::agent::machine::machine_capacity;
use crate::agent::server::{self, AgentKey};
use crate::agent::wire::{HeartbeatRequest, HeartbeatResponse};
use crate::auth::generate_secret;
use crate::capacity::Capacity;
use crate::cli::{AgentArgs, DeclaredCapacity, IsolationMode};
use crate::private_files;
use crate::shutdown::shutdown_signal;
use crate::token_sources;

/// How long the agent's sandboxes get between SIGTERM and SIGKILL when it exits.
const EXIT_GRACE: Duration = Duration::from_secs(5);
/// How long one heartbeat may take before it counts as failed.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    let token = token_sources::agent_token(args.token.as_deref(), args.token_file.as_deref())?;
    if args.token.is_some() && std::env::var_os("SANDBOX_AGENT_TOKEN").is_none() {
        tracing::warn!(
            "--token puts the agent's secret where every process on this machine can read \
             it (/proc/PID/cmdline); use --token-file or SANDBOX_AGENT_TOKEN instead"
        );
    }
    private_files::make_private(&args.data_dir)?;
    let open_files = crate::process::open_files::raise_limit();
    tracing::debug!(open_files, "open-file limit");
    let isolation = HostIsolation::start(
        args.isolation == IsolationMode::Container,
        args.runc.as_deref(),
        &args.data_dir,
    )
    .await;
    let measured = {
        let isolation = isolation.clone();
        tokio::task::spawn_blocking(move || machine_capacity(&isolation))
            .await
            .context("measuring this machine")?
    };
    let capacity = reported_capacity(&args.capacity, measured);
    let key = generate_secret()?;
    let host = Arc::new(SandboxHost::new(args.data_dir.clone(), isolation));

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    let agent_url = match &args.advertise_url {
        Some(url) => url.clone(),
        None if address.ip().is_unspecified() => bail!(
            "listening on {address}, which the gateway cannot dial: give --advertise-url \
             with an address it can reach"
        ),
        None => format!("http://{address}"),
    };
    let (stop_serving, serving_stopped) = watch::channel(false);
    let server = tokio::spawn(
        axum::serve(
            listener,
            server::router(Arc::clone(&host), AgentKey::new(&key)),
        )
        .with_graceful_shutdown(async move {
            let mut stopped = serving_stopped;
            // An error means the sender is gone, which also means: stop.
            let _ = stopped.wait_for(|stop| *stop).await;
        })
        .into_future(),
    );
    // Scripts and tests read this line to learn where the agent listens.
    println!("agent listening on {agent_url}");

    let heartbeats = Heartbeats {
        http: reqwest::Client::new(),
        url: format!(
            "{}/v1beta2/internal/runners/{}:heartbeat",
            args.gateway, args.runner_id
        ),
        token,
        interval: Duration::from_millis(args.heartbeat_interval_ms),
        runner_id: args.runner_id.clone(),
        report: HeartbeatRequest {
            agent_url,
            agent_key: key,
            capacity,
            zone: args.zone.clone().unwrap_or_default(),
        },
    };
    let ended = tokio::select! {
        ended = heartbeats.run(&args.gateway) => ended,
        () = shutdown_signal() => Ok(()),
    };
    host.stop_all(EXIT_GRACE).await;
    let _ = stop_serving.send(true);
    server
        .await
        .context("the agent API task failed")?
        .context("serving the agent API")?;
    ended
}

/// What the agent reports: this machine as measured, with whatever was declared on the
/// command line instead; declared as a whole if anything was.
fn reported_capacity(declared: &DeclaredCapacity, measured: Capacity) -> Capacity {
    let or_measured = |given: &[String], measured: Vec<String>| {
        if given.is_empty() {
            measured
        } else {
            given.to_vec()
        }
    };
    Capacity {
        cpu_millicores: declared.cpu_millicores.unwrap_or(measured.cpu_millicores),
        memory_bytes: declared.memory_bytes.unwrap_or(measured.memory_bytes),
        gpus: declared.gpus.unwrap_or(measured.gpus),
        gpu_types: or_measured(&declared.gpu_types, measured.gpu_types),
        architectures: or_measured(&declared.architectures, measured.architectures),
        declared: !declared.is_empty(),
        healthy: measured.healthy,
        network_isolation: measured.network_isolation,
        isolation: measured.isolation,
        isolation_problem: measured.isolation_problem,
        outbound_networking: measured.outbound_networking,
    }
}

struct Heartbeats {
    http: reqwest::Client,
    url: String,
    token: String,
    interval: Duration,
    runner_id: String,
    report: HeartbeatRequest,
}

/// Why a heartbeat was not accepted.
enum Missed {
    /// The gateway answered with an error.
    Refused(StatusCode, String),
    /// No answer.
    Failed(String),
}

impl Heartbeats {
    /// Beats until the runner is gone; returns only with the reason to stop.
    async fn run(&self, gateway: &str) -> anyhow::Result<()> {
        let mut active_revision = self.first(gateway).await?;
        println!(
            "connected to {gateway} as the agent of runner {} (revision {active_revision})",
            self.runner_id
        );
        loop {
            tokio::time::sleep(self.interval).await;
            match self.beat().await {
                Ok(answer) => {
                    if answer.active_revision != active_revision {
                        tracing::info!(
                            revision = answer.active_revision,
                            "rolled out a new revision"
                        );
                        active_revision = answer.active_revision;
                    }
                }
                Err(Missed::Refused(StatusCode::NOT_FOUND, message)) => bail!(
                    "the gateway no longer knows runner {} ({message}); the agent stops",
                    self.runner_id
                ),
                Err(Missed::Refused(code, message)) => {
                    tracing::warn!("the gateway refused a heartbeat (HTTP {code}): {message}");
                }
                Err(Missed::Failed(why)) => tracing::warn!("a heartbeat failed: {why}"),
            }
        }
    }

    /// The first accepted heartbeat's active revision; retried until the gateway answers.
    async fn first(&self, gateway: &str) -> anyhow::Result<i64> {
        loop {
            match self.beat().await {
                Ok(answer) => return Ok(answer.active_revision),
                Err(Missed::Refused(code, message)) => bail!(
                    "the gateway at {gateway} refused runner {}'s first heartbeat (HTTP {code}): \
                     {message}; the agent does not start",
                    self.runner_id
                ),
                Err(Missed::Failed(why)) => {
                    tracing::warn!(
                        "cannot reach the gateway at {gateway} ({why}); trying again in {:?}",
                        self.interval
                    );
                    tokio::time::sleep(self.interval).await;
                }
            }
        }
    }

    async fn beat(&self) -> Result<HeartbeatResponse, Missed> {
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&self.report)
            .timeout(HEARTBEAT_TIMEOUT)
            .send()
            .await
            .map_err(|e| Missed::Failed(describe(&e)))?;
        let code = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| Missed::Failed(describe(&e)))?;
        if code.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                Missed::Failed(format!("the gateway's answer could not be read: {e}"))
            });
        }
        let message = serde_json::from_slice::<Status>(&body)
            .map(|status| status.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
        if code.is_client_error() {
            Err(Missed::Refused(code, message))
        } else {
            Err(Missed::Failed(format!("HTTP {code}: {message}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured() -> Capacity {
        Capacity {
            cpu_millicores: 2000,
            memory_bytes: 1 << 30,
            gpus: 0,
            gpu_types: Vec::new(),
            architectures: vec!["amd64".into()],
            declared: false,
            healthy: true,
            network_isolation: true,
            ..Capacity::default()
        }
    }

    #[test]
    fn without_capacity_flags_the_machine_is_reported_as_measured() {
        assert_eq!(
            reported_capacity(&DeclaredCapacity::default(), measured()),
            measured()
        );
    }

    #[test]
    fn capacity_flags_replace_what_they_name_and_make_the_report_declared() {
        let declared = DeclaredCapacity {
            gpus: Some(8),
            gpu_types: vec!["H100".into()],
            ..DeclaredCapacity::default()
        };
        assert_eq!(
            reported_capacity(&declared, measured()),
            Capacity {
                gpus: 8,
                gpu_types: vec!["H100".into()],
                declared: true,
                ..measured()
            }
        );
    }
}
