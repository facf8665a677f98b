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
    // SANDBOX_BENCH_GATEWAY=PATH measures another build (an earlier commit's, to compare).
    let binary = std::env::var_os("SANDBOX_BENCH_GATEWAY")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_BIN_EXE_sandbox-gateway")).to_owned());
    let gateway = Gateway::start(
        &binary,
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
    let empty_rss = rss_kib(&gateway);
    let seeded = Instant::now();
    create_runners(&client, &gateway, ADMIN, RUNNERS).await?;
    eprintln!(
        "seeded {RUNNERS} runners in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );

    let fleet_rss = rss_kib(&gateway);
    println!(
        "gateway RSS: {} MiB empty, {} MiB with {RUNNERS} runners and their in-process agents \
         ({:.1} KiB per runner)",
        empty_rss / 1024,
        fleet_rss / 1024,
        fleet_rss.saturating_sub(empty_rss) as f64 / RUNNERS as f64
    );
    println!();
    println!("| scenario | clients | requests/s | p50 | p99 | errors | gateway RSS after |");
    println!("|---|---|---|---|---|---|---|");
    // A start no runner can take: placement runs over every runner, nothing launches.
    let impossible = json!({"command": "true", "containerImage": "debian:12",
        "resources": {"cpu": "1000", "memory": "1Gi"}});
    let scenarios: [(&str, Request); 7] = [
        (
            "list runners, first page of 100 (full view)",
            Request::get("/v1beta2/runners?view=RUNNER_VIEW_FULL&pageSize=100"),
        ),
        (
            "list runners, first page of 100 (basic view)",
            Request::get("/v1beta2/runners?pageSize=100"),
        ),
        (
            "list runners, 1,000 per page",
            Request::get("/v1beta2/runners?pageSize=1000"),
        ),
        (
            "filtered by capacity and egress mode",
            Request::get(
                "/v1beta2/runners?minAvailableCpuMillicores=1000&egressMode=internet&pageSize=100",
            ),
        ),
        (
            "get one runner",
            Request::get("/v1beta2/runners/runner-05000"),
        ),
        (
            "list profiles, first page of 100",
            Request::get("/v1beta2/profiles?pageSize=100"),
        ),
        (
            "start refused by placement (every runner checked)",
            Request {
                path: "/v1beta2/sandboxes",
                body: Some(impossible),
                expected: 400,
            },
        ),
    ];
    // SANDBOX_BENCH_ONLY=text runs only the scenarios whose name contains it.
    let only = std::env::var("SANDBOX_BENCH_ONLY").unwrap_or_default();
    for (name, request) in scenarios.iter().filter(|(name, _)| name.contains(&only)) {
        for clients in [1, 8, 32, 128] {
            let measured =
                load(&client, &gateway, request, clients, Duration::from_secs(5)).await?;
            println!(
                "| {name} | {clients} | {:.0} | {:.1} ms | {:.1} ms | {} | {} MiB |",
                measured.rate,
                measured.p50 * 1e3,
                measured.p99 * 1e3,
                measured.errors,
                rss_kib(&gateway) / 1024
            );
        }
    }
    if only.is_empty() {
        followers(&client, &gateway).await?;
    }
    Ok(())
}

/// One request a load loop repeats, and the status it should get.
struct Request {
    path: &'static str,
    body: Option<Value>,
    expected: u16,
}

impl Request {
    fn get(path: &'static str) -> Request {
        Request {
            path,
            body: None,
            expected: 200,
        }
    }
}

struct Measured {
    rate: f64,
    p50: f64,
    p99: f64,
    /// Answers with another status than expected, and requests that failed.
    errors: usize,
}

/// `clients` concurrent loops sending `request` for `duration`.
async fn load(
    client: &reqwest::Client,
    gateway: &Gateway,
    request: &Request,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Measured> {
    let url = format!("{}{}", gateway.url, request.path);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, url, body, expected) = (
                client.clone(),
                url.clone(),
                request.body.clone(),
                request.expected,
            );
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0usize);
                while started.elapsed() < duration {
                    let t = Instant::now();
                    let call = match &body {
                        Some(body) => client.post(&url).json(body),
                        None => client.get(&url),
                    };
                    match call.bearer_auth(ADMIN).send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let read = response.bytes().await;
                            if status != expected || read.is_err() {
                                errors += 1;
                            }
                        }
                        Err(_) => errors += 1,
                    }
                    latencies.push(t.elapsed().as_secs_f64());
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (more, failed) = task.await?;
        latencies.extend(more);
        errors += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Ok(Measured {
        rate: latencies.len() as f64 / elapsed,
        p50: at(0.5),
        p99: at(0.99),
        errors,
    })
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
