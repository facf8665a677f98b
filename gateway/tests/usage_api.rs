//! Usage you can see, over real HTTP with real sandboxes: a sandbox burning CPU shows it
//! in `currentResourceUsage` and in its usage history within seconds, its runner and
//! the organization's fleet add it up, another organization sees none of it, and the
//! histories stay within their bound however long the gateway samples.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

/// At most this many points per history (`fleet::usage`: 300 samples, 1440 minutes).
const MOST_POINTS: usize = 300 + 1440;

fn number(value: &Value) -> i64 {
    match value {
        Value::String(text) => text.parse().unwrap_or(0),
        other => other.as_i64().unwrap_or(0),
    }
}

#[tokio::test]
async fn a_busy_sandbox_shows_its_usage_and_histories_stay_bounded() {
    let gateway = gateway(&["--usage-interval-ms", "20"]).await;
    runner_with_profiles(&gateway, "local", &[("web", internet_network())]).await;
    wait_until_ready(&gateway, "local").await;
    let busy = post(
        &gateway,
        "/v1beta2/sandboxes",
        USER,
        shell("while :; do :; done"),
    )
    .await;
    assert_eq!(busy.status, StatusCode::OK, "{}", busy.body);
    let id = busy.body["sandboxId"].as_str().unwrap().to_owned();
    wait_status(&gateway, &id, false).await;

    // Within seconds its CPU shows, near a whole core, with the memory it holds.
    let now = wait_for(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}"),
        USER,
        "the sandbox's CPU usage",
        |s| number(&s["currentResourceUsage"]["cpuMillicoresUsed"]) > 500,
    )
    .await;
    assert!(
        number(&now["currentResourceUsage"]["cpuMillicoresUsed"]) <= 1500,
        "{now}"
    );
    assert!(number(&now["currentResourceUsage"]["memoryMbUsed"]) >= 0);

    let history = get(&gateway, &format!("/v1beta2/sandboxes/{id}/usage"), USER).await;
    assert_eq!(history.status, StatusCode::OK);
    let points = history.body["points"].as_array().unwrap();
    assert!(
        points.iter().any(|p| number(&p["cpuMillicores"]) > 500),
        "{}",
        history.body
    );
    assert!(
        points.iter().all(|p| number(&p["memoryBytes"]) > 0),
        "{}",
        history.body
    );
    assert_eq!(history.body["intervalSeconds"], 0.02);

    for path in ["/v1beta2/runners/local/usage", "/v1beta2/usage"] {
        let totals = get(&gateway, path, USER).await;
        assert_eq!(totals.status, StatusCode::OK, "{path}: {}", totals.body);
        let last = totals.body["points"]
            .as_array()
            .unwrap()
            .last()
            .cloned()
            .unwrap();
        assert_eq!(last["runningSandboxes"], 1, "{path}: {last}");
        assert!(number(&last["cpuMillicores"]) > 300, "{path}: {last}");
    }

    // Another organization: the sandbox and the runner are not found, its fleet is empty.
    let theirs = get(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/usage"),
        OTHER_ADMIN,
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let runner = get(&gateway, "/v1beta2/runners/local/usage", OTHER_ADMIN).await;
    assert_eq!(runner.status, StatusCode::NOT_FOUND);
    let fleet = get(&gateway, "/v1beta2/usage", OTHER_ADMIN).await;
    assert_eq!(
        fleet.body["points"].as_array().map(Vec::len),
        Some(0),
        "{}",
        fleet.body
    );

    // A bounded soak: once the sandbox's history has taken its 300 recent samples (6 s
    // at 20 ms), sampling goes on, and every history holds at most its bound, the
    // recent samples replacing the oldest.
    let full = wait_for(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/usage"),
        USER,
        "300 samples",
        |h| h["points"].as_array().is_some_and(|p| p.len() >= 300),
    )
    .await;
    let oldest = full["points"][0]["time"].clone();
    wait_for(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/usage"),
        USER,
        "the oldest sample replaced",
        |h| h["points"][0]["time"] != oldest,
    )
    .await;
    for path in [
        format!("/v1beta2/sandboxes/{id}/usage"),
        "/v1beta2/runners/local/usage".to_owned(),
        "/v1beta2/usage".to_owned(),
    ] {
        let history = get(&gateway, &path, USER).await;
        let points = history.body["points"].as_array().unwrap();
        assert!(
            (300..=MOST_POINTS).contains(&points.len()),
            "{path}: {} points",
            points.len()
        );
        let times: Vec<time::OffsetDateTime> = points
            .iter()
            .map(|p| {
                let text = p["time"].as_str().unwrap();
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .unwrap()
            })
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{path}: oldest first"
        );
    }
}
