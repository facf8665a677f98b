//! What each object's history costs in the gateway's database: a real gateway records
//! typical changes through its API (a profile edited, a runner's default binding moved,
//! sandboxes started, stopped and deleted), then SQLite's own page accounting
//! (`dbstat`, through the `sqlite3` CLI) says how many bytes the history table and its
//! indexes take. Prints a Markdown table for the README. Run with
//! `cargo bench -p sandbox-gateway --bench history_storage` (needs `sqlite3`).

use std::path::Path;
use std::time::Duration;

use reqwest::Client;
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

const ADMIN: &str = "bench-admin-secret-0123456789abcdef";
/// Rounds of each kind of change.
const ROUNDS: usize = 100;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Under `cargo test --benches` (which clippy and CI do not run) there is nothing to do.
    if std::env::args().any(|a| a == "--test") {
        return Ok(());
    }
    // The token in the environment, as an operator gives it, not on the command line.
    let gateway = Gateway::start_with_env(
        Path::new(env!("CARGO_BIN_EXE_sandbox-gateway")),
        &["--install-step-ms", "10", "--isolation", "none"],
        &[(
            "SANDBOX_GATEWAY_TOKENS",
            &format!("bench:SANDBOX_ADMIN:{ADMIN}"),
        )],
    )
    .await?;
    let http = Client::new();
    let api = |path: &str| format!("{}{path}", gateway.url);
    let send = |request: reqwest::RequestBuilder| async move {
        let response = request.bearer_auth(ADMIN).send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{status}: {body}");
        anyhow::Ok(body)
    };

    let mut templates = Vec::new();
    for name in ["small", "large"] {
        let template = json!({"profileTemplate": {"displayName": name, "spec": {
            "containerImage": "python:3.12-slim",
            "resourceDefaults": {"cpuRequest": "500m", "memoryRequest": "512Mi", "memoryLimit": "2Gi"},
            "networkConfigJson": r#"{"egress":{"default":"web","modes":{"web":{"type":"internet"}}}}"#
        }}});
        let created = send(
            http.post(api("/v1beta2/sandbox/profile-templates"))
                .json(&template),
        )
        .await?;
        templates.push(created["id"].as_str().unwrap_or_default().to_owned());
    }
    send(http.post(api("/v1beta2/sandbox/managed-runners")).json(&json!({
        "runnerId": "r", "runner": {"displayName": "r", "identity": {"zone": "z", "clusterName": "c"},
        "profileBindings": [{"profileTemplateId": templates[0], "isDefault": true}, {"profileTemplateId": templates[1]}]}
    })))
    .await?;
    wait(&http, &api("/v1beta2/sandbox/managed-runners/r"), |r| {
        r["installStatus"] == "RUNNER_INSTALL_STATUS_READY"
    })
    .await?;

    for round in 0..ROUNDS {
        // A profile edited: its description and memory limit.
        let limit = format!("{}Gi", 2 + round % 4);
        send(
            http.patch(api(&format!(
                "/v1beta2/sandbox/profile-templates/{}?updateMask=description,spec",
                templates[0]
            )))
            .json(&json!({"profileTemplate": {"description": format!("edit {round}"), "spec": {
                "containerImage": "python:3.12-slim",
                "resourceDefaults": {"cpuRequest": "500m", "memoryRequest": "512Mi", "memoryLimit": limit},
                "networkConfigJson": r#"{"egress":{"default":"web","modes":{"web":{"type":"internet"}}}}"#
            }}})),
        )
        .await?;
        // The runner's default binding moved to the other profile.
        let default = round % 2;
        send(
            http.patch(api(
                "/v1beta2/sandbox/managed-runners/r?updateMask=profileBindings",
            ))
            .json(&json!({"runner": {"profileBindings": [
                {"profileTemplateId": templates[0], "isDefault": default == 0},
                {"profileTemplateId": templates[1], "isDefault": default == 1}
            ]}})),
        )
        .await?;
        // A sandbox started, stopped and deleted (five entries).
        let started = send(http.post(api("/v1beta2/sandboxes")).json(&json!({
            "command": "sleep", "args": ["600"], "containerImage": "debian:12",
            "environmentVariables": {"MODE": "bench", "TOKEN": "secret"}, "tags": ["bench"]
        })))
        .await?;
        let id = started["sandboxId"].as_str().unwrap_or_default().to_owned();
        send(
            http.post(api(&format!("/v1beta2/sandboxes/{id}/stop")))
                .json(&json!({})),
        )
        .await?;
        wait(&http, &api(&format!("/v1beta2/sandboxes/{id}")), |s| {
            s["sandboxStatus"] == "SANDBOX_STATUS_TERMINATED"
        })
        .await?;
        send(http.delete(api(&format!("/v1beta2/sandboxes/{id}")))).await?;
    }

    let database = gateway.data_dir().join("gateway.db");
    let query = |sql: &str| -> anyhow::Result<String> {
        let output = std::process::Command::new("sqlite3")
            .arg("-readonly")
            .arg(&database)
            .arg(sql)
            .output()?;
        anyhow::ensure!(
            output.status.success(),
            "sqlite3: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    };
    let entries: f64 = query("SELECT count(*) FROM history")?.parse()?;
    let on_disk: f64 = query(
        "SELECT sum(pgsize) FROM dbstat WHERE name IN \
         ('history', 'history_by_object', 'history_by_organization', 'history_by_time')",
    )?
    .parse()?;
    let per_entry = on_disk / entries;
    println!("| object | change | entries per change | stored bytes per entry (row) |");
    println!("|---|---|---|---|");
    let rows = query(
        "SELECT object_kind, action, count(*), \
         avg(length(changes_json) + length(actor_json) + length(object_id) + length(object_name) \
             + length(at) + length(action) + length(object_kind)) \
         FROM history GROUP BY 1, 2 ORDER BY 1, 2",
    )?;
    for row in rows.lines() {
        let parts: Vec<&str> = row.split('|').collect();
        if let [kind, action, count, bytes] = parts[..] {
            let per_change = count.parse::<f64>()? / ROUNDS as f64;
            let bytes: f64 = bytes.parse()?;
            println!("| {kind} | {action} | {per_change:.0} | {bytes:.0} |");
        }
    }
    println!();
    println!(
        "{entries} entries take {:.1} KiB on disk with their indexes: {per_entry:.0} bytes per entry.",
        on_disk / 1024.0
    );
    Ok(())
}

/// Polls `url` until `done` holds (at most 20 s).
async fn wait(http: &Client, url: &str, done: impl Fn(&Value) -> bool) -> anyhow::Result<()> {
    for _ in 0..400 {
        let body: Value = http
            .get(url)
            .bearer_auth(ADMIN)
            .send()
            .await?
            .json()
            .await?;
        if done(&body) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("timed out waiting on {url}")
}
