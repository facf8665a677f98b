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

#[tokio::test]
async fn details_say_what_a_sandbox_was_started_with_and_what_it_holds() {
    let gateway = fleet(&[]).await;
    let secret_file = base64::engine::general_purpose::STANDARD.encode("file-secret-9271");
    let started = start(
        &gateway,
        json!({
            "command": "sh", "args": ["-c", "trap 'exit 0' TERM; sleep 60 & wait"],
            "containerImage": "debian:12", "tags": ["nightly", "team-a"],
            "resourceRequests": {"cpu": "250m", "memory": "64Mi"},
            "resourceLimits": {"cpu": "500m", "memory": "128Mi"},
            "environmentVariables": {"API_KEY": "env-secret-4813"},
            "mountedFiles": [{"mountPath": "/etc/app/key.txt", "fileContent": secret_file}],
        }),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let id = started.body["sandboxId"].as_str().unwrap().to_owned();
    wait_status(&gateway, &id, false).await;
    let answer = get(&gateway, &format!("/v1beta2/sandboxes/{id}"), USER).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let details = &answer.body["details"];
    assert_eq!(details["containerImage"], "debian:12", "{details}");
    assert_eq!(details["command"], "sh");
    assert_eq!(
        details["args"],
        json!(["-c", "trap 'exit 0' TERM; sleep 60 & wait"])
    );
    assert_eq!(details["tags"], json!(["nightly", "team-a"]));
    assert_eq!(
        details["resourceRequests"],
        json!({"cpu": "250m", "memory": "64Mi"})
    );
    assert_eq!(
        details["resourceLimits"],
        json!({"cpu": "500m", "memory": "128Mi"})
    );
    // int64 as strings (proto3 JSON); no GPU reserved, so no `gpuCount`.
    assert_eq!(
        details["reserved"],
        json!({"cpuMillicores": "250", "memoryBytes": "67108864"})
    );
    let created = details["createdAtTime"].as_str().expect("createdAtTime");
    assert!(details.get("endedAtTime").is_none(), "{details}");
    let known = [
        "containerImage",
        "command",
        "args",
        "tags",
        "resourceRequests",
        "resourceLimits",
        "reserved",
        "createdAtTime",
    ];
    let mut fields: Vec<&str> = details
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    let mut expected = known.to_vec();
    expected.sort_unstable();
    assert_eq!(fields, expected, "{details}");
    // The typed form reads it too.
    let typed: sandbox_api::sandbox::GetSandboxResponse =
        serde_json::from_value(answer.body.clone()).unwrap();
    let typed = typed.details.expect("details");
    assert_eq!(
        (
            typed.reserved.cpu_millicores,
            typed.reserved.memory_bytes,
            typed.reserved.gpu_count
        ),
        (250, 64 << 20, 0)
    );
    // Secrets stay out: neither the environment nor the mounted files.
    let text = answer.body.to_string();
    for secret in [
        "API_KEY",
        "env-secret-4813",
        "key.txt",
        secret_file.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    post(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/stop"),
        USER,
        json!({"gracefulShutdownSeconds": 1}),
    )
    .await;
    let ended = wait_status(&gateway, &id, true).await;
    let details = &ended["details"];
    assert_eq!(details["createdAtTime"], created, "{details}");
    let parse = |field: &str| {
        sandbox_api::json::parse_rfc3339(details[field].as_str().unwrap_or_default())
            .unwrap_or_else(|| panic!("{field} is a timestamp: {details}"))
    };
    assert!(
        parse("endedAtTime") > parse("createdAtTime"),
        "ended after created: {details}"
    );

    // `resources` given instead of `resourceRequests` is shown as the requests.
    let plain = start(
        &gateway,
        with(shell("exit 0"), json!({"resources": {"cpu": "100m"}})),
    )
    .await;
    let id = plain.body["sandboxId"].as_str().unwrap().to_owned();
    let ended = wait_status(&gateway, &id, true).await;
    assert_eq!(
        ended["details"]["resourceRequests"],
        json!({"cpu": "100m"}),
        "{ended}"
    );
    assert!(ended["details"].get("resourceLimits").is_none(), "{ended}");
    assert_eq!(ended["details"]["reserved"]["cpuMillicores"], "100");
    assert!(ended["details"].get("tags").is_none(), "{ended}");
}

#[tokio::test]
async fn the_image_may_come_from_the_profile_but_must_come_from_somewhere() {
    let gateway = gateway(&[]).await;
    let mut imaged = profile("imaged", offline_network());
    imaged["spec"]["containerImage"] = json!("debian:12");
    let imaged = create_template(&gateway, ADMIN, imaged).await;
    let bare = create_template(&gateway, ADMIN, profile("bare", offline_network())).await;
    let created = create_runner(
        &gateway,
        ADMIN,
        "local",
        json!([{"profileTemplateId": imaged, "isDefault": true},
               {"profileTemplateId": bare, "isDefault": false}]),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    wait_until_ready(&gateway, "local").await;
    let no_image = |profile: &str| json!({"command": "sh", "args": ["-c", "exit 0"], "profileNames": [profile]});

    // The profile names one: the sandbox runs with it.
    let ran = start(&gateway, no_image("imaged")).await;
    assert_eq!(ran.status, StatusCode::OK, "{}", ran.body);
    let id = ran.body["sandboxId"].as_str().unwrap().to_owned();
    let ended = wait_status(&gateway, &id, true).await;
    assert_eq!(
        ended["sandboxStatus"], "SANDBOX_STATUS_COMPLETED",
        "{ended}"
    );
    assert_eq!(ended["details"]["containerImage"], "debian:12");

    // Neither the request nor the profile does: placement passes the binding over,
    // saying why (as the console's preview does), and nothing is stored.
    let recorded = sandbox_history_len(&gateway).await;
    let refused = start(&gateway, no_image("bare")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.reason(), Some("CWSANDBOX_PROFILE_MISMATCH"));
    let message = refused.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("/bare: no image: the request names none and this profile sets none"),
        "{message}"
    );
    let listed = get(&gateway, "/v1beta2/sandboxes?includeStopped=true", USER).await;
    let ids: Vec<&str> = listed.body["sandboxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sandboxId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()], "{}", listed.body);
    assert_eq!(sandbox_history_len(&gateway).await, recorded);

    // An image in the request is enough, whatever the profile.
    let named = start(
        &gateway,
        with(no_image("bare"), json!({"containerImage": "busybox:1.36"})),
    )
    .await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);
    let id = named.body["sandboxId"].as_str().unwrap().to_owned();
    let ended = wait_status(&gateway, &id, true).await;
    assert_eq!(ended["details"]["containerImage"], "busybox:1.36");
}

/// How many history entries the organization's sandboxes have.
async fn sandbox_history_len(gateway: &Gateway) -> usize {
    get(
        gateway,
        "/v1beta2/history?objectKind=sandbox&pageSize=100",
        ADMIN,
    )
    .await
    .body["entries"]
        .as_array()
        .map_or(0, Vec::len)
}
