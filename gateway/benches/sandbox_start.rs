//! Sandbox start latency on a real gateway, with and without containers, in the same
//! run: 50 starts each, one after another, timed from the request to the answer (which
//! comes once the sandbox runs). Prints a Markdown table for the README. Run (as root,
//! with runc) with `cargo bench -p sandbox-gateway --bench sandbox_start`.

use std::path::Path;
use std::time::{Duration, Instant};

use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

const ADMIN: &str = "bench-admin-secret-0123456789abcdef";
const STARTS: usize = 50;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Under `cargo test --benches` (which clippy and CI do not run) there is nothing to do.
    if std::env::args().any(|a| a == "--test") {
        return Ok(());
    }
    println!("| isolation | starts | median | p95 | slowest |");
    println!("|---|---|---|---|---|");
    for (name, isolation, egress) in [
        ("none (host processes, before), egress none", "none", "none"),
        ("container (runc, after), egress none", "container", "none"),
        (
            "container (runc, after), egress internet (slirp4netns)",
            "container",
            "internet",
        ),
    ] {
        let mut times = start_times(isolation, egress).await?;
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        println!(
            "| {name} | {STARTS} | {} | {} | {} |",
            ms(at(0.5)),
            ms(at(0.95)),
            ms(times[times.len() - 1])
        );
    }
    Ok(())
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// The time each of [`STARTS`] starts took on a fresh gateway with `--isolation`, for
/// sandboxes whose egress is of type `egress`.
async fn start_times(isolation: &str, egress: &str) -> anyhow::Result<Vec<Duration>> {
    let gateway = Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_sandbox-gateway")),
        &[
            "--token",
            &format!("bench:SANDBOX_ADMIN:{ADMIN}"),
            "--install-step-ms",
            "10",
            "--isolation",
            isolation,
        ],
    )
    .await?;
    let client = reqwest::Client::new();
    let call = |path: &str, body: Value| {
        client
            .post(format!("{}{path}", gateway.url))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
    };
    let template: Value = call(
        "/v1beta2/sandbox/profile-templates",
        json!({"profileTemplate": {"displayName": "bench", "spec": {
            "resourceDefaults": {"cpuRequest": "10m", "memoryRequest": "16Mi"},
            "networkConfigJson": json!({"egress": {"default": "out", "modes": {"out": {"type": egress}}}}).to_string()
        }}}),
    )
    .await?
    .json()
    .await?;
    call(
        "/v1beta2/sandbox/managed-runners",
        json!({"runnerId": "bench", "runner": {
            "identity": {"zone": "bench-1a", "clusterName": "bench"},
            "profileBindings": [{"profileTemplateId": template["id"], "isDefault": true}]
        }}),
    )
    .await?
    .error_for_status()?;
    let ready = Instant::now();
    loop {
        let runner: Value = client
            .get(format!("{}/v1beta2/runners/bench", gateway.url))
            .bearer_auth(ADMIN)
            .send()
            .await?
            .json()
            .await?;
        if runner["healthy"] == true {
            break;
        }
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(30),
            "the runner never got ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut times = Vec::with_capacity(STARTS);
    for _ in 0..STARTS {
        let started = Instant::now();
        let answer: Value = call(
            "/v1beta2/sandboxes",
            json!({"command": "sleep", "args": ["60"], "containerImage": "bench:1"}),
        )
        .await?
        .error_for_status()?
        .json()
        .await?;
        times.push(started.elapsed());
        anyhow::ensure!(
            answer["sandboxStatus"] == "SANDBOX_STATUS_RUNNING",
            "{answer}"
        );
        let id = answer["sandboxId"].as_str().unwrap_or_default();
        client
            .delete(format!("{}/v1beta2/sandboxes/{id}", gateway.url))
            .bearer_auth(ADMIN)
            .send()
            .await?
            .error_for_status()?;
    }
    gateway.stop().await?;
    Ok(times)
}
