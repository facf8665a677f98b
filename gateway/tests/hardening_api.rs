//! The gateway as an attacker on the same machine, or a client that never lets go,
//! would try it: its files are private, and SIGTERM stops it within its bound.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use sandbox_e2e::gateway::Gateway;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_data_directory_and_every_file_in_it_are_private_to_the_gateway() {
    // --demo without tokens: it writes tokens.txt and seeds sandboxes that leave logs.
    let gateway = Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_sandbox-gateway")),
        &["--demo"],
    )
    .await
    .unwrap();
    let data = gateway.data_dir();
    assert_eq!(mode(data), 0o700, "the data directory");
    for file in ["gateway.db", "tokens.txt"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    let sandboxes: Vec<_> = std::fs::read_dir(data.join("sandboxes"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert!(!sandboxes.is_empty(), "the demo left sandboxes");
    for sandbox in sandboxes {
        assert_eq!(mode(&sandbox), 0o700, "{}", sandbox.display());
        assert_eq!(
            mode(&sandbox.join("logs")),
            0o700,
            "{}'s logs",
            sandbox.display()
        );
    }
}

#[tokio::test]
async fn sigterm_ends_log_follows_with_a_last_frame_and_stops_the_gateway_at_once() {
    let gateway = gateway(&[]).await;
    runner_with_profiles(&gateway, "local", &[("internet", internet_network())]).await;
    wait_until_ready(&gateway, "local").await;
    let started = post(
        &gateway,
        "/v1beta2/sandboxes",
        USER,
        shell("while true; do echo tick; sleep 0.2; done"),
    )
    .await;
    let id = started.body["sandboxId"].as_str().unwrap().to_owned();
    let mut follower = reqwest::Client::new()
        .get(format!(
            "{}/v1beta2/sandboxes/{id}/logs?follow=true",
            gateway.url
        ))
        .bearer_auth(USER)
        .send()
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(15), follower.chunk())
        .await
        .expect("a first frame")
        .unwrap();
    assert!(first.is_some(), "the follower is reading");

    let asked = Instant::now();
    gateway.stop().await.expect("a clean exit after SIGTERM");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "stopped after {:?}, though the shutdown timeout is 10 s: the follow did not hold it up",
        asked.elapsed()
    );
    // The follower's stream ended with a frame that says to resume later.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(chunk)) = follower.chunk().await {
            rest.extend_from_slice(&chunk);
        }
    })
    .await
    .expect("the follower's stream ended");
    let last = String::from_utf8_lossy(&rest);
    let last = last.lines().last().unwrap_or_default();
    assert!(
        last.contains("\"error\"") && last.contains("stopping"),
        "{last}"
    );
}
