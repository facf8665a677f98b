//! Placement under concurrent starts: the reservation is made in the same critical
//! section as the placement, so however many starts race for a runner's last capacity,
//! exactly as many as fit get it.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn two_hundred_concurrent_starts_on_room_for_one_hundred_start_exactly_one_hundred() {
    let gateway = gateway(&["--external-agents", "--max-sandboxes-per-org", "1000"]).await;
    runner_with_profiles(&gateway, "edge", &[("offline", offline_network())]).await;
    // Room for exactly 100 sandboxes of 100 millicores; memory is no constraint.
    let _agent = Agent::start(
        &gateway,
        "edge",
        ADMIN,
        &[
            "--cpu-millicores",
            "10000",
            "--memory-bytes",
            &(1u64 << 40).to_string(),
        ],
    )
    .await;
    wait_until_ready(&gateway, "edge").await;

    let request = with(
        shell("sleep 120"),
        json!({"resources": {"cpu": "100m", "memory": "16Mi"}}),
    );
    let starts = (0..200).map(|_| {
        let (url, request) = (gateway.url.clone(), request.clone());
        tokio::spawn(async move {
            let response = reqwest::Client::new()
                .post(format!("{url}/v1beta2/sandboxes"))
                .bearer_auth(USER)
                .timeout(Duration::from_secs(120))
                .json(&request)
                .send()
                .await
                .expect("the gateway answers");
            let status = response.status();
            let body: Value = response.json().await.expect("a JSON body");
            (status, body)
        })
    });
    let answers = futures_util::future::join_all(starts).await;

    let mut started = 0;
    let mut refused = Vec::new();
    for answer in answers {
        let (status, body) = answer.expect("the start task ran");
        if status == StatusCode::OK {
            started += 1;
        } else {
            refused.push(body);
        }
    }
    assert_eq!(started, 100, "refusals: {:?}", refused.first());
    for body in &refused {
        let reason = body["details"][0]["reason"].as_str().unwrap_or_default();
        assert_eq!(reason, "CWSANDBOX_NO_SUITABLE_RUNNER", "{body}");
        assert!(body.to_string().contains("INSUFFICIENT_CPU"), "{body}");
    }
    let runner = get(&gateway, "/v1beta2/runners/edge", USER).await.body;
    // Zero is left out of the JSON, as proto3 JSON does.
    let free = runner["resources"]["availableCpuMillicores"]
        .as_str()
        .unwrap_or("0");
    assert_eq!(free, "0", "{runner}");
    assert_eq!(runner["resources"]["runningSandboxes"], 100, "{runner}");
    let listed = get(&gateway, "/v1beta2/sandboxes", USER).await.body;
    assert_eq!(listed["sandboxes"].as_array().unwrap().len(), 100);
}
