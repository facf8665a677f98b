//! Load on a real gateway process over loopback HTTP: discovery over 10,000 runners
//! under concurrent clients, and many clients following one log. Prints a Markdown
//! table for the README. Run with `cargo bench -p sandbox-gateway --bench http_load`.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sandbox_e2e::fleet::{LARGE_FLEET, create_runners};
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

const ADMIN: &str = "bench-admin-secret-0123456789abcdef";
const RUNNERS: usize = LARGE_FLEET;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Under `cargo test --benches` (which clippy and CI do not run) there is nothing to do.
    if std::env::args().any(|a| a == "--test") {
        return Ok(());
    }
    let gateway = Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_sandbox-gateway")),
        &[
            "--token",
            &format!("bench:SANDBOX_ADMIN:{ADMIN}"),
            "--install-step-ms",
            "10",
            "--heartbeat-interval-ms",
            "20000",
        ],
    )
    .await?;
    let client = reqwest::Client::new();
    let seeded = Instant::now();
    create_runners(&client, &gateway, ADMIN, RUNNERS).await?;
    eprintln!(
        "seeded {RUNNERS} runners in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );

    println!("| scenario | clients | requests/s | p50 | p99 |");
    println!("|---|---|---|---|---|");
    for (name, path) in [
        (
            "list runners, first page of 100 (full view)",
            "/v1beta2/runners?view=RUNNER_VIEW_FULL&pageSize=100",
        ),
        (
            "list runners, 1,000 per page",
            "/v1beta2/runners?pageSize=1000",
        ),
        (
            "filtered by capacity and egress mode",
            "/v1beta2/runners?minAvailableCpuMillicores=1000&egressMode=internet&pageSize=100",
        ),
    ] {
        for clients in [1, 8, 32] {
            let (rate, p50, p99) =
                load(&client, &gateway, path, clients, Duration::from_secs(5)).await?;
            println!(
                "| {name} | {clients} | {rate:.0} | {:.1} ms | {:.1} ms |",
                p50 * 1e3,
                p99 * 1e3
            );
        }
    }
    followers(&client, &gateway).await
}

/// `clients` concurrent loops requesting `path` for `duration`: (requests/s, p50 s, p99 s).
async fn load(
    client: &reqwest::Client,
    gateway: &Gateway,
    path: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<(f64, f64, f64)> {
    let url = format!("{}{path}", gateway.url);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while started.elapsed() < duration {
                    let t = Instant::now();
                    let response = client.get(&url).bearer_auth(ADMIN).send().await?;
                    anyhow::ensure!(
                        response.status().is_success(),
                        "status {}",
                        response.status()
                    );
                    response.bytes().await?;
                    latencies.push(t.elapsed().as_secs_f64());
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Ok((latencies.len() as f64 / elapsed, at(0.5), at(0.99)))
}

/// 200 clients follow one sandbox's log from the start while it writes 2 MB; every one
/// must receive every byte. Reports the time to deliver and the gateway's memory.
async fn followers(client: &reqwest::Client, gateway: &Gateway) -> anyhow::Result<()> {
    const FOLLOWERS: usize = 200;
    let rss_before = rss_kib(gateway);
    let started: Value = post(client, gateway, "/v1beta2/sandboxes", json!({
        "command": "sh", "args": ["-c", "sleep 1; seq 1 300000; sleep 1"], "containerImage": "debian:12", "profileNames": ["web"]}))
    .await?;
    let id = started["sandboxId"].as_str().unwrap_or_default().to_owned();
    let expected = (1..=300_000).map(|n| format!("{n}\n").len()).sum::<usize>();
    let t = Instant::now();
    let tasks: Vec<_> = (0..FOLLOWERS)
        .map(|_| {
            let (client, url) = (
                client.clone(),
                format!("{}/v1beta2/sandboxes/{id}/logs?follow=true", gateway.url),
            );
            tokio::spawn(async move {
                let mut body = client
                    .get(&url)
                    .bearer_auth(ADMIN)
                    .send()
                    .await?
                    .bytes_stream();
                let mut pending = Vec::new();
                let mut bytes = 0usize;
                while let Some(chunk) = body.next().await {
                    pending.extend_from_slice(&chunk?);
                    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = pending.drain(..=end).collect();
                        let frame: Value = serde_json::from_slice(&line)?;
                        if let Some(data) = frame["data"]["data"].as_str() {
                            bytes += base64_len(data);
                        }
                    }
                }
                Ok::<usize, anyhow::Error>(bytes)
            })
        })
        .collect();
    let mut peak_rss = rss_before;
    let mut received = Vec::new();
    for task in tasks {
        peak_rss = peak_rss.max(rss_kib(gateway));
        received.push(task.await??);
    }
    let elapsed = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        received.iter().all(|b| *b == expected),
        "a follower missed bytes: {received:?}"
    );
    println!();
    println!(
        "| log followers | log size | all complete after | gateway RSS before | peak RSS while streaming |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {FOLLOWERS} | {:.1} MB | {elapsed:.1} s (the sandbox runs about 2 s) | {} MiB | {} MiB |",
        expected as f64 / 1e6,
        rss_before / 1024,
        peak_rss / 1024
    );
    Ok(())
}

fn base64_len(data: &str) -> usize {
    data.len() / 4 * 3 - data.bytes().rev().take_while(|b| *b == b'=').count()
}

fn rss_kib(gateway: &Gateway) -> u64 {
    gateway
        .pid()
        .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .and_then(|status| {
            status.lines().find_map(|l| {
                l.strip_prefix("VmRSS:")
                    .map(|v| v.trim().trim_end_matches("kB").trim().to_owned())
            })
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn post(
    client: &reqwest::Client,
    gateway: &Gateway,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let response = client
        .post(format!("{}{path}", gateway.url))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "POST {path}: {}",
        response.text().await?
    );
    Ok(response.json().await?)
}
