//! Sandboxes as real processes, over real HTTP (SPEC §4): lifecycle, stop, lifetime,
//! exec, egress, placement rejections, reservations, logs and restarts.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use reqwest::{Method, StatusCode};
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

/// A gateway with one runner on this machine binding `internet` (default, a network of
/// its own with outbound access), `offline` (no network) and `org-only` (an `org` egress
/// mode, which cannot be enforced locally).
async fn fleet(extra: &[&str]) -> Gateway {
    let gateway = gateway(extra).await;
    let org_only =
        json!({"egress": {"default": "colleagues", "modes": {"colleagues": {"type": "org"}}}});
    runner_with_profiles(
        &gateway,
        "local",
        &[
            ("internet", internet_network()),
            ("offline", offline_network()),
            ("org-only", org_only),
        ],
    )
    .await;
    wait_until_ready(&gateway, "local").await;
    gateway
}

async fn start(gateway: &Gateway, request: Value) -> Answer {
    post(gateway, "/v1beta2/sandboxes", USER, request).await
}

#[tokio::test]
async fn a_sandbox_runs_logs_and_records_its_exit() {
    let gateway = fleet(&[]).await;
    let started = start(
        &gateway,
        with(
            shell("echo hello; echo oops >&2; echo \"$GREETING\"; exit 3"),
            json!({"environmentVariables": {"GREETING": "hi there"}, "tags": ["t1"]}),
        ),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(started.body["runnerId"], "local");
    assert_eq!(started.body["appliedEgressMode"], "web");
    let id = started.body["sandboxId"].as_str().unwrap().to_owned();
    let ended = wait_status(&gateway, &id, true).await;
    assert_eq!(ended["sandboxStatus"], "SANDBOX_STATUS_FAILED");
    assert_eq!(ended["exitCode"], 3);
    assert!(
        ended["statusReason"].as_str().unwrap().contains('3'),
        "{ended}"
    );
    let log = log_text(&gateway, &id).await;
    for line in ["hello", "oops", "hi there"] {
        assert!(log.contains(line), "{line:?} missing from {log:?}");
    }
    let listed = get(&gateway, "/v1beta2/sandboxes", USER).await;
    assert_eq!(
        listed.body["sandboxes"],
        json!([]),
        "terminal sandboxes are left out by default"
    );
    let stopped = get(
        &gateway,
        "/v1beta2/sandboxes?includeStopped=true&tags=t1",
        USER,
    )
    .await;
    assert_eq!(stopped.body["sandboxes"][0]["sandboxId"], id.as_str());
    assert_eq!(
        get(&gateway, &format!("/v1beta2/sandboxes/{id}"), OTHER_ADMIN)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let ok = start(&gateway, shell("exit 0")).await;
    let id = ok.body["sandboxId"].as_str().unwrap();
    assert_eq!(
        wait_status(&gateway, id, true).await["sandboxStatus"],
        "SANDBOX_STATUS_COMPLETED"
    );
}

#[tokio::test]
async fn stop_and_lifetime_end_a_sandbox() {
    let gateway = fleet(&[]).await;
    let running = start(&gateway, shell("trap '' TERM; sleep 60")).await;
    let id = running.body["sandboxId"].as_str().unwrap().to_owned();
    wait_status(&gateway, &id, false).await;
    let stopped = post(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/stop"),
        USER,
        json!({"gracefulShutdownSeconds": 1}),
    )
    .await;
    assert_eq!(stopped.body["success"], true, "{}", stopped.body);
    let ended = wait_status(&gateway, &id, true).await;
    assert_eq!(ended["sandboxStatus"], "SANDBOX_STATUS_TERMINATED");

    let limited = start(
        &gateway,
        with(shell("sleep 60"), json!({"maxLifetimeSeconds": 1})),
    )
    .await;
    let id = limited.body["sandboxId"].as_str().unwrap().to_owned();
    let ended = wait_status(&gateway, &id, true).await;
    assert_eq!(ended["sandboxStatus"], "SANDBOX_STATUS_TERMINATED");
    assert!(
        ended["statusReason"].as_str().unwrap().contains("lifetime"),
        "{ended}"
    );

    let deleted = call(
        &gateway,
        Method::DELETE,
        &format!("/v1beta2/sandboxes/{id}"),
        Some(USER),
        None,
    )
    .await;
    assert_eq!(deleted.body["success"], true);
    assert_eq!(
        get(&gateway, &format!("/v1beta2/sandboxes/{id}"), USER)
            .await
            .reason(),
        Some("CWSANDBOX_SANDBOX_NOT_FOUND")
    );
}

#[tokio::test]
async fn exec_runs_in_the_sandbox_and_times_out() {
    let gateway = fleet(&[]).await;
    let running = start(&gateway, with(shell("sleep 60"), json!({"environmentVariables": {"FOO": "bar"}, "mountedFiles": [{"mountPath": "/etc/app/config.txt", "fileContent": "Y29uZmln"}]}))).await;
    let id = running.body["sandboxId"].as_str().unwrap().to_owned();
    wait_status(&gateway, &id, false).await;
    let answer = post(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/exec"),
        USER,
        json!({"command": ["sh", "-c", "echo $FOO; cat etc/app/config.txt; echo err >&2; exit 7"]}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let decode = |v: &Value| {
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap_or_default())
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(decode(&answer.body["result"]["stdout"]), "bar\nconfig");
    assert_eq!(decode(&answer.body["result"]["stderr"]), "err\n");
    assert_eq!(answer.body["result"]["exitCode"], 7);
    let slow = post(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/exec"),
        USER,
        json!({"command": ["sleep", "30"], "maxTimeoutSeconds": 1}),
    )
    .await;
    assert_eq!(slow.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(slow.reason(), Some("CWSANDBOX_COMMAND_TIMEOUT"));
    post(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/stop"),
        USER,
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn egress_none_really_has_no_network_and_unenforceable_modes_are_refused() {
    let gateway = fleet(&[]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    let connect = format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected");
    let bash = |profile: &str| json!({"command": "bash", "args": ["-c", connect], "containerImage": "debian:12", "profileNames": [profile]});

    let online = start(&gateway, bash("internet")).await;
    let online = wait_status(&gateway, online.body["sandboxId"].as_str().unwrap(), true).await;
    assert_ne!(
        online["exitCode"], 0,
        "internet egress has a network of its own, whose loopback is not this machine's: {online}"
    );
    let offline = start(&gateway, bash("offline")).await;
    assert_eq!(offline.body["appliedEgressMode"], "none");
    let offline = wait_status(&gateway, offline.body["sandboxId"].as_str().unwrap(), true).await;
    assert_ne!(
        offline["exitCode"], 0,
        "egress none cannot connect: {offline}"
    );

    let refused = start(
        &gateway,
        with(shell("true"), json!({"profileNames": ["org-only"]})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("--allow-unenforced-egress"),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn unenforced_egress_runs_only_when_allowed() {
    let gateway = fleet(&["--allow-unenforced-egress"]).await;
    let started = start(
        &gateway,
        with(shell("true"), json!({"profileNames": ["org-only"]})),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(started.body["appliedEgressMode"], "colleagues");
    let id = started.body["sandboxId"].as_str().unwrap();
    let shown = get(&gateway, &format!("/v1beta2/sandboxes/{id}"), USER).await;
    assert_eq!(
        shown.body["unenforcedEgress"], true,
        "flagged: {}",
        shown.body
    );
    let enforced = start(&gateway, shell("true")).await;
    let id = enforced.body["sandboxId"].as_str().unwrap();
    assert!(
        get(&gateway, &format!("/v1beta2/sandboxes/{id}"), USER)
            .await
            .body
            .get("unenforcedEgress")
            .is_none()
    );
}

#[tokio::test]
async fn placement_rejections_say_why_and_reservations_are_released() {
    let gateway = fleet(&[]).await;
    let too_big = start(
        &gateway,
        with(
            shell("true"),
            json!({"resources": {"cpu": "15", "memory": "1Gi"}}),
        ),
    )
    .await;
    assert_eq!(too_big.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_big.body["code"], 9);
    assert_eq!(too_big.reason(), Some("CWSANDBOX_NO_SUITABLE_RUNNER"));
    assert_eq!(
        too_big.metadata()["local/internet"],
        "INSUFFICIENT_CPU",
        "{}",
        too_big.body
    );
    let mismatch = start(
        &gateway,
        with(
            shell("true"),
            json!({"profileNames": ["offline"], "network": {"egressMode": "web"}}),
        ),
    )
    .await;
    assert_eq!(mismatch.reason(), Some("CWSANDBOX_PROFILE_MISMATCH"));
    assert!(
        mismatch.body["message"]
            .as_str()
            .unwrap()
            .contains("egress mode \"web\" is not offered"),
        "{}",
        mismatch.body
    );
    let invalid = start(
        &gateway,
        json!({"containerImage": "debian:12", "resources": {"cpu": "lots"}}),
    )
    .await;
    assert_eq!(invalid.violation_fields(), ["command", "resources.cpu"]);

    let free = |body: &Value| {
        body["resources"]["availableCpuMillicores"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    let before = free(&get(&gateway, "/v1beta2/runners/local", USER).await.body);
    let running = start(
        &gateway,
        with(shell("sleep 60"), json!({"resources": {"cpu": "1"}})),
    )
    .await;
    let id = running.body["sandboxId"].as_str().unwrap().to_owned();
    let during = get(&gateway, "/v1beta2/runners/local", USER).await.body;
    assert_eq!(free(&during), before - 1000);
    assert_eq!(during["resources"]["runningSandboxes"], 1);
    post(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/stop"),
        USER,
        json!({"gracefulShutdownSeconds": 1}),
    )
    .await;
    wait_status(&gateway, &id, true).await;
    assert_eq!(
        free(&get(&gateway, "/v1beta2/runners/local", USER).await.body),
        before
    );
}

#[tokio::test]
async fn a_restart_fails_running_sandboxes_and_keeps_their_logs() {
    let gateway = fleet(&[]).await;
    let started = start(&gateway, shell("echo before-restart; sleep 60")).await;
    let id = started.body["sandboxId"].as_str().unwrap().to_owned();
    wait_status(&gateway, &id, false).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !log_text(&gateway, &id).await.contains("before-restart") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no output before the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gateway = gateway.restart().await.expect("restarts");
    let after = get(&gateway, &format!("/v1beta2/sandboxes/{id}"), USER)
        .await
        .body;
    assert_eq!(after["sandboxStatus"], "SANDBOX_STATUS_FAILED");
    assert!(
        after["statusReason"]
            .as_str()
            .unwrap()
            .contains("restarted"),
        "{after}"
    );
    assert!(log_text(&gateway, &id).await.contains("before-restart"));
    wait_until_ready(&gateway, "local").await;
}
