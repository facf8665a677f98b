//! The NDJSON log stream over HTTP (SPEC §4): follow, tail, timestamps, and resume after
//! a dropped connection with no loss and no duplicates, byte for byte on a 10 MB log.

mod common;

use base64::Engine;
use common::*;
use futures_util::StreamExt;
use reqwest::StatusCode;
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

async fn runner(gateway: &Gateway) {
    let internet = create_template(
        gateway,
        ADMIN,
        profile(
            "p",
            json!({"egress": {"default": "web", "modes": {"web": {"type": "internet"}}}}),
        ),
    )
    .await;
    create_runner(
        gateway,
        ADMIN,
        "local",
        json!([{"profileTemplateId": internet, "isDefault": true}]),
    )
    .await;
    wait_until_ready(gateway, "local").await;
}

async fn start(gateway: &Gateway, script: &str) -> String {
    let answer = post(
        gateway,
        "/v1beta2/sandboxes",
        USER,
        json!({"command": "sh", "args": ["-c", script], "containerImage": "debian:12"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["sandboxId"].as_str().unwrap().to_owned()
}

/// Reads a log stream: the frames, stopping early (dropping the connection) once
/// `stop_after_bytes` of data arrived.
async fn read_frames(
    gateway: &Gateway,
    id: &str,
    query: &str,
    stop_after_bytes: Option<usize>,
) -> Vec<Value> {
    let response = reqwest::Client::new()
        .get(format!(
            "{}/v1beta2/sandboxes/{id}/logs?{query}",
            gateway.url
        ))
        .bearer_auth(USER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let mut body = response.bytes_stream();
    let mut pending = Vec::new();
    let mut frames = Vec::new();
    let mut data_bytes = 0;
    while let Some(chunk) = body.next().await {
        pending.extend_from_slice(&chunk.unwrap());
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let frame: Value = serde_json::from_slice(&line).unwrap();
            data_bytes += frame["data"]["data"]
                .as_str()
                .map_or(0, |d| d.len() * 3 / 4);
            frames.push(frame);
            if stop_after_bytes.is_some_and(|limit| data_bytes >= limit) {
                return frames;
            }
        }
    }
    frames
}

fn data(frames: &[Value]) -> Vec<u8> {
    frames
        .iter()
        .filter_map(|f| f["data"]["data"].as_str())
        .flat_map(|d| base64::engine::general_purpose::STANDARD.decode(d).unwrap())
        .collect()
}

#[tokio::test]
async fn a_ten_megabyte_log_resumes_byte_for_byte_after_dropped_connections() {
    let gateway = gateway(&[]).await;
    runner(&gateway).await;
    let expected: Vec<u8> = (1..=1_400_000)
        .map(|n| format!("{n}\n"))
        .collect::<String>()
        .into_bytes();
    assert!(expected.len() > 10_000_000);
    let id = start(&gateway, "sleep 0.5; seq 1 1400000").await;

    let mut received = Vec::new();
    let mut resume = String::new();
    // Cut the stream four times at different sizes, then read to the end.
    for cut in [
        Some(1_000_000),
        Some(3_000_000),
        Some(50),
        Some(2_500_000),
        None,
    ] {
        let frames = read_frames(&gateway, &id, &format!("follow=true{resume}"), cut).await;
        received.extend(data(&frames));
        let last = frames
            .iter()
            .rev()
            .find(|f| f.get("data").is_some())
            .expect("some data each time");
        resume = format!(
            "&resumeSessionId={}&resumeOffset={}",
            last["data"]["sessionId"].as_str().unwrap(),
            last["data"]["offset"].as_str().unwrap()
        );
        if cut.is_none() {
            assert!(
                frames.last().unwrap().get("complete").is_some(),
                "the stream ends with complete"
            );
        }
    }
    assert_eq!(received.len(), expected.len());
    assert!(
        received == expected,
        "the reassembled log differs from the output"
    );
}

#[tokio::test]
async fn tail_timestamps_and_resume_errors() {
    let gateway = gateway(&[]).await;
    runner(&gateway).await;
    let id = start(&gateway, "printf 'one\\ntwo\\nthree\\nfour\\n'").await;
    wait_for(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}"),
        USER,
        "the end",
        |s| s["sandboxStatus"] == "SANDBOX_STATUS_COMPLETED",
    )
    .await;
    let tail = read_frames(&gateway, &id, "tailLines=2&timestamps=true", None).await;
    assert_eq!(String::from_utf8(data(&tail)).unwrap(), "three\nfour\n");
    assert!(
        tail[0]["data"]["timestamp"]
            .as_str()
            .is_some_and(|t| t.contains('T')),
        "{}",
        tail[0]
    );
    assert!(tail.last().unwrap().get("complete").is_some());
    let plain = read_frames(&gateway, &id, "", None).await;
    assert!(plain[0]["data"].get("timestamp").is_none(), "{}", plain[0]);

    let session = plain[0]["data"]["sessionId"].as_str().unwrap();
    let unknown = read_frames(&gateway, &id, "resumeSessionId=nope&resumeOffset=0", None).await;
    assert_eq!(
        unknown[0]["error"]["code"], "SESSION_NOT_FOUND",
        "{:?}",
        unknown
    );
    let gap = read_frames(
        &gateway,
        &id,
        &format!("resumeSessionId={session}&resumeOffset=999999"),
        None,
    )
    .await;
    assert_eq!(gap[0]["error"]["code"], "REPLAY_GAP", "{:?}", gap);
    let rest = read_frames(
        &gateway,
        &id,
        &format!("resumeSessionId={session}&resumeOffset=8"),
        None,
    )
    .await;
    assert_eq!(String::from_utf8(data(&rest)).unwrap(), "three\nfour\n");
}
