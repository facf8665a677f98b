//! Runners served by agent processes (`sandbox-gateway agent`) of a gateway started with
//! `--external-agents`, over real HTTP: connecting, declared capacity, sandboxes running
//! in the agent, stop, exec, logs, a crashed agent, refused agents, several agents.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

/// A gateway that waits for agent processes, with one `internet` profile and a runner
/// binding it for each of `runner_ids` (zone us-test-1a).
async fn gateway_with_runners(extra: &[&str], runner_ids: &[&str]) -> Gateway {
    let mut args = vec!["--external-agents"];
    args.extend(extra);
    let gateway = gateway(&args).await;
    let internet = create_template(&gateway, ADMIN, profile("internet", internet_network())).await;
    for runner_id in runner_ids {
        let created = create_runner(
            &gateway,
            ADMIN,
            runner_id,
            json!([{"profileTemplateId": internet, "isDefault": true}]),
        )
        .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    }
    gateway
}

fn runner_path(runner_id: &str) -> String {
    format!("/v1beta2/sandbox/managed-runners/{runner_id}")
}

async fn start_on(gateway: &Gateway, runner_id: &str, script: &str) -> String {
    let started = post(
        gateway,
        "/v1beta2/sandboxes",
        USER,
        json!({"command": "sh", "args": ["-c", script], "containerImage": "debian:12", "runnerIds": [runner_id]}),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(started.body["runnerId"], runner_id);
    started.body["sandboxId"].as_str().unwrap().to_owned()
}

async fn wait_sandbox(gateway: &Gateway, id: &str, what: &str, statuses: &[&str]) -> Value {
    wait_for(
        gateway,
        &format!("/v1beta2/sandboxes/{id}"),
        USER,
        what,
        |s| statuses.contains(&s["sandboxStatus"].as_str().unwrap_or_default()),
    )
    .await
}

async fn wait_running(gateway: &Gateway, id: &str) {
    wait_sandbox(
        gateway,
        id,
        "the sandbox to run",
        &["SANDBOX_STATUS_RUNNING"],
    )
    .await;
}

async fn wait_ended(gateway: &Gateway, id: &str) -> Value {
    wait_sandbox(
        gateway,
        id,
        "the sandbox to end",
        &[
            "SANDBOX_STATUS_COMPLETED",
            "SANDBOX_STATUS_FAILED",
            "SANDBOX_STATUS_TERMINATED",
        ],
    )
    .await
}

/// Every frame of a log read through the gateway, until the stream ends.
async fn log_frames(gateway: &Gateway, id: &str, query: &str) -> Vec<Value> {
    let response = reqwest::Client::new()
        .get(format!(
            "{}/v1beta2/sandboxes/{id}/logs?{query}",
            gateway.url
        ))
        .bearer_auth(USER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-ndjson",
        "logs are streamed as NDJSON"
    );
    let mut body = response.bytes_stream();
    let mut text = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(chunk) = body.next().await {
            text.extend_from_slice(&chunk.unwrap());
        }
    })
    .await;
    assert!(read.is_ok(), "the log stream did not end within 30 s");
    String::from_utf8(text)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The bytes of the data frames, as text.
fn log_text(frames: &[Value]) -> String {
    let bytes: Vec<u8> = frames
        .iter()
        .filter_map(|frame| frame["data"]["data"].as_str())
        .flat_map(|data| {
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap()
        })
        .collect();
    String::from_utf8(bytes).unwrap()
}

fn decode(value: &Value) -> String {
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .unwrap(),
    )
    .unwrap()
}

/// Whether sandbox `id` ran in `agent` (its script wrote `ran-here` in its working
/// directory, which lies in the data directory of the agent process that ran it).
fn ran_in(agent: &Agent, id: &str) -> bool {
    let proof = agent
        .data_dir()
        .join("sandboxes")
        .join(id)
        .join("work")
        .join("ran-here");
    std::fs::read_to_string(proof).is_ok_and(|text| text == "proof\n")
}

#[tokio::test]
async fn a_runner_stays_provisioning_until_its_agent_connects_then_is_ready_with_the_declared_capacity()
 {
    let gateway = gateway_with_runners(&[], &["edge"]).await;
    wait_for(
        &gateway,
        &runner_path("edge"),
        ADMIN,
        "the install to reach PROVISIONING",
        |r| r["installStatus"] == "RUNNER_INSTALL_STATUS_PROVISIONING",
    )
    .await;
    // Twenty install steps later it still waits: only an agent can make it READY.
    for _ in 0..20 {
        let runner = get(&gateway, &runner_path("edge"), ADMIN).await.body;
        assert_eq!(
            runner["installStatus"], "RUNNER_INSTALL_STATUS_PROVISIONING",
            "{runner}"
        );
        assert_eq!(
            runner["connectionStatus"], "RUNNER_CONNECTION_STATUS_DISCONNECTED",
            "{runner}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let _agent = Agent::start(
        &gateway,
        "edge",
        ADMIN,
        &[
            "--cpu-millicores",
            "64000",
            "--memory-bytes",
            "274877906944",
            "--gpus",
            "8",
            "--gpu-type",
            "H100",
            "--arch",
            "amd64",
            "--arch",
            "arm64",
            "--zone",
            "us-test-1a",
        ],
    )
    .await;
    let ready = wait_until_ready(&gateway, "edge").await;
    assert_eq!(ready["activeRevision"], ready["targetRevision"], "{ready}");
    assert_ne!(ready["rolloutInProgress"], true, "{ready}");

    let discovered = get(&gateway, "/v1beta2/runners/edge", USER).await.body;
    assert_eq!(discovered["healthy"], true, "{discovered}");
    assert_eq!(
        discovered["capabilities"],
        json!({
            "maxCpuMillicores": "64000",
            "maxMemoryBytes": "274877906944",
            "maxGpuCount": "8",
            "supportedGpuTypes": ["H100"],
            "supportedArchitectures": ["amd64", "arm64"]
        }),
        "{discovered}"
    );
    assert!(
        discovered["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("capacity:declared")),
        "{discovered}"
    );

    // A binding change is rolled out by the agent's heartbeats.
    let patched = call(
        &gateway,
        Method::PATCH,
        &format!("{}?updateMask=profile_bindings", runner_path("edge")),
        Some(ADMIN),
        Some(json!({"runner": {"profileBindings": [
            {"profileTemplateId": ready["profileBindings"][0]["profileTemplateId"], "profileName": "web", "isDefault": true}
        ]}})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["targetRevision"], "2");
    wait_for(
        &gateway,
        &runner_path("edge"),
        ADMIN,
        "the agent to roll out revision 2",
        |r| r["activeRevision"] == "2" && r["rolloutInProgress"] != true,
    )
    .await;
}

#[tokio::test]
async fn a_sandbox_on_an_agent_runs_in_the_agent_process_and_its_log_and_exit_code_reach_the_gateway()
 {
    let gateway = gateway_with_runners(&[], &["edge"]).await;
    let agent = Agent::start(&gateway, "edge", ADMIN, &[]).await;
    wait_until_ready(&gateway, "edge").await;

    let id = start_on(
        &gateway,
        "edge",
        "echo proof > ran-here; pwd; echo oops >&2; exit 3",
    )
    .await;
    let ended = wait_ended(&gateway, &id).await;
    assert_eq!(ended["sandboxStatus"], "SANDBOX_STATUS_FAILED", "{ended}");
    assert_eq!(ended["exitCode"], 3, "{ended}");
    assert!(
        ended["statusReason"].as_str().unwrap().contains("code 3"),
        "{ended}"
    );
    let log = log_text(&log_frames(&gateway, &id, "").await);
    assert!(
        ran_in(&agent, &id),
        "the sandbox ran in the agent process's data directory"
    );
    assert!(
        log.contains("/work\n"),
        "it runs in its own working directory: {log:?}"
    );
    assert!(log.contains("oops\n"), "{log:?}");
    assert!(
        !gateway.data_dir().join("sandboxes").join(&id).exists(),
        "nothing of it is in the gateway's data directory"
    );

    // Following streams the output as the agent writes it; resuming gets exactly the rest.
    let id = start_on(
        &gateway,
        "edge",
        "for i in 1 2 3; do echo line-$i; sleep 0.2; done",
    )
    .await;
    let followed = log_frames(&gateway, &id, "follow=true").await;
    assert_eq!(log_text(&followed), "line-1\nline-2\nline-3\n");
    assert_eq!(followed.last().unwrap(), &json!({"complete": {}}));
    let first = &followed[0]["data"];
    let offset: usize = first["offset"].as_str().unwrap().parse().unwrap();
    let resumed = log_frames(
        &gateway,
        &id,
        &format!(
            "resumeSessionId={}&resumeOffset={offset}",
            first["sessionId"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(
        log_text(&resumed),
        "line-1\nline-2\nline-3\n"[offset..].to_owned()
    );
    assert_eq!(
        wait_ended(&gateway, &id).await["sandboxStatus"],
        "SANDBOX_STATUS_COMPLETED"
    );
}

#[tokio::test]
async fn stop_exec_and_delete_reach_the_sandbox_through_its_agent() {
    let gateway = gateway_with_runners(&[], &["edge"]).await;
    let agent = Agent::start(&gateway, "edge", ADMIN, &[]).await;
    wait_until_ready(&gateway, "edge").await;
    let started = post(
        &gateway,
        "/v1beta2/sandboxes",
        USER,
        json!({
            "command": "sh", "args": ["-c", "trap '' TERM; sleep 60"], "containerImage": "debian:12",
            "environmentVariables": {"FOO": "bar"},
            "mountedFiles": [{"mountPath": "/etc/app/config.txt", "fileContent": "Y29uZmln"}]
        }),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let id = started.body["sandboxId"].as_str().unwrap().to_owned();
    wait_running(&gateway, &id).await;
    let exec = |body: Value| {
        let (gateway, path) = (&gateway, format!("/v1beta2/sandboxes/{id}/exec"));
        async move { post(gateway, &path, USER, body).await }
    };

    let answer = exec(
        json!({"command": ["sh", "-c", "echo $FOO; cat etc/app/config.txt; echo err >&2; exit 7"]}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        decode(&answer.body["result"]["stdout"]),
        "bar\nconfig",
        "{}",
        answer.body
    );
    assert_eq!(decode(&answer.body["result"]["stderr"]), "err\n");
    assert_eq!(answer.body["result"]["exitCode"], 7);
    let slow = exec(json!({"command": ["sleep", "30"], "maxTimeoutSeconds": 1})).await;
    assert_eq!(slow.status, StatusCode::GATEWAY_TIMEOUT, "{}", slow.body);
    assert_eq!(slow.reason(), Some("CWSANDBOX_COMMAND_TIMEOUT"));
    let missing = exec(json!({"command": ["no-such-command-here"]})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.body);
    assert_eq!(missing.violation_fields(), ["command"]);

    let stopped = post(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/stop"),
        USER,
        json!({"gracefulShutdownSeconds": 1}),
    )
    .await;
    assert_eq!(stopped.body["success"], true, "{}", stopped.body);
    let ended = wait_ended(&gateway, &id).await;
    assert_eq!(
        ended["sandboxStatus"], "SANDBOX_STATUS_TERMINATED",
        "{ended}"
    );
    assert_eq!(ended["statusReason"], "stopped by a user", "{ended}");

    let sandbox_dir = agent.data_dir().join("sandboxes").join(&id);
    assert!(sandbox_dir.exists(), "the agent keeps the sandbox's files");
    let deleted = call(
        &gateway,
        Method::DELETE,
        &format!("/v1beta2/sandboxes/{id}"),
        Some(USER),
        None,
    )
    .await;
    assert_eq!(deleted.body["success"], true, "{}", deleted.body);
    assert!(
        !sandbox_dir.exists(),
        "deleting the sandbox removes its files on the agent"
    );
}

#[tokio::test]
async fn a_killed_agent_leaves_its_runner_disconnected_and_its_running_sandbox_failed_with_a_reason()
 {
    let gateway = gateway_with_runners(&["--heartbeat-timeout-ms", "1500"], &["edge"]).await;
    let mut agent = Agent::start(&gateway, "edge", ADMIN, &[]).await;
    wait_until_ready(&gateway, "edge").await;
    // The sandbox ends by itself once the agent is gone, so no process outlives the test.
    let id = start_on(
        &gateway,
        "edge",
        &format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.1; done",
            agent.pid()
        ),
    )
    .await;
    wait_running(&gateway, &id).await;

    agent.kill().await;
    let runner = wait_for(
        &gateway,
        &runner_path("edge"),
        ADMIN,
        "the runner to be DISCONNECTED",
        |r| r["connectionStatus"] == "RUNNER_CONNECTION_STATUS_DISCONNECTED",
    )
    .await;
    assert_eq!(runner["installStatus"], "RUNNER_INSTALL_STATUS_READY");
    let failed = wait_ended(&gateway, &id).await;
    assert_eq!(failed["sandboxStatus"], "SANDBOX_STATUS_FAILED", "{failed}");
    let reason = failed["statusReason"].as_str().unwrap();
    assert!(
        reason.contains("lost contact with the runner's agent"),
        "{reason}"
    );

    let frames = log_frames(&gateway, &id, "").await;
    assert!(
        frames.last().unwrap()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("agent"),
        "the log says its agent cannot be reached: {frames:?}"
    );
    let refused = post(
        &gateway,
        "/v1beta2/sandboxes",
        USER,
        json!({"command": "true", "containerImage": "debian:12"}),
    )
    .await;
    assert_eq!(
        refused.reason(),
        Some("CWSANDBOX_NO_SUITABLE_RUNNER"),
        "{}",
        refused.body
    );

    // A new agent takes the runner over.
    let agent = Agent::start(&gateway, "edge", ADMIN, &[]).await;
    wait_until_ready(&gateway, "edge").await;
    let id = start_on(&gateway, "edge", "echo proof > ran-here").await;
    wait_ended(&gateway, &id).await;
    assert!(ran_in(&agent, &id), "the new agent ran the sandbox");
}

#[tokio::test]
async fn after_a_gateway_restart_sandboxes_on_agents_are_followed_again_or_failed_if_their_agent_is_gone()
 {
    let gateway =
        gateway_with_runners(&["--heartbeat-timeout-ms", "2000"], &["edge", "gone"]).await;
    let edge = Agent::start(&gateway, "edge", ADMIN, &[]).await;
    let mut gone = Agent::start(&gateway, "gone", ADMIN, &[]).await;
    wait_until_ready(&gateway, "edge").await;
    wait_until_ready(&gateway, "gone").await;
    // Waits for a file the test writes into its working directory (in the agent's data
    // directory, seen from the host).
    let kept = start_on(
        &gateway,
        "edge",
        "echo before; while [ ! -e go ]; do sleep 0.1; done; echo after",
    )
    .await;
    let flag = edge
        .data_dir()
        .join("sandboxes")
        .join(&kept)
        .join("work")
        .join("go");
    // Ends by itself once its agent is gone (its output has nowhere to go), so no process
    // outlives the test.
    let lost = start_on(&gateway, "gone", "while echo alive; do sleep 0.2; done").await;
    wait_running(&gateway, &kept).await;
    wait_running(&gateway, &lost).await;

    // The gateway stops; meanwhile one agent goes away too.
    let paused = gateway.pause().await.unwrap();
    gone.kill().await;
    let gateway = paused.resume().await.unwrap();

    // Until its agent reports, a sandbox cannot be stopped: the stop could not reach it.
    let refused = post(
        &gateway,
        &format!("/v1beta2/sandboxes/{lost}/stop"),
        USER,
        json!({}),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("has not reported since the gateway restarted"),
        "{}",
        refused.body
    );

    // Not failed at start-up: its agent still runs it, and the gateway follows it again.
    let sandbox = get(&gateway, &format!("/v1beta2/sandboxes/{kept}"), USER)
        .await
        .body;
    assert_eq!(
        sandbox["sandboxStatus"], "SANDBOX_STATUS_RUNNING",
        "{sandbox}"
    );
    wait_until_ready(&gateway, "edge").await;
    std::fs::write(&flag, "").unwrap();
    let ended = wait_ended(&gateway, &kept).await;
    assert_eq!(
        ended["sandboxStatus"], "SANDBOX_STATUS_COMPLETED",
        "{ended}"
    );
    assert_eq!(
        log_text(&log_frames(&gateway, &kept, "").await),
        "before\nafter\n"
    );

    // The other agent never reported again: its sandbox is failed, saying why.
    let failed = wait_ended(&gateway, &lost).await;
    assert_eq!(failed["sandboxStatus"], "SANDBOX_STATUS_FAILED", "{failed}");
    let reason = failed["statusReason"].as_str().unwrap_or_default();
    assert!(reason.contains("did not report within"), "{reason}");
    drop(edge);
}

#[tokio::test]
async fn an_agent_with_a_wrong_token_a_user_token_another_organization_or_another_zone_is_refused_and_says_why()
 {
    let gateway = gateway_with_runners(&[], &["edge"]).await;
    let cases: [(&str, &[&str], &[&str]); 4] = [
        (
            "not-a-valid-token",
            &[],
            &["HTTP 401", "the token is not valid"],
        ),
        (USER, &[], &["HTTP 403", "SANDBOX_ADMIN"]),
        (OTHER_ADMIN, &[], &["HTTP 404", "runner \"edge\" not found"]),
        (
            ADMIN,
            &["--zone", "eu-west-9z"],
            &["HTTP 400", "\"eu-west-9z\"", "\"us-test-1a\""],
        ),
    ];
    for (token, extra, expected) in cases {
        let agent = Agent::start(&gateway, "edge", token, extra).await;
        let (status, stderr) = agent.exited().await;
        assert!(!status.success(), "a refused agent fails: {stderr}");
        assert!(
            stderr.contains("refused runner edge's first heartbeat"),
            "{stderr}"
        );
        for words in expected {
            assert!(stderr.contains(words), "{words:?} missing from {stderr}");
        }
    }
    let runner = get(&gateway, &runner_path("edge"), ADMIN).await.body;
    assert_eq!(
        runner["installStatus"], "RUNNER_INSTALL_STATUS_PROVISIONING",
        "{runner}"
    );
    assert_eq!(
        runner["connectionStatus"], "RUNNER_CONNECTION_STATUS_DISCONNECTED",
        "{runner}"
    );
}

#[tokio::test]
async fn a_gateway_running_in_process_agents_refuses_agent_processes() {
    let gateway = gateway(&[]).await;
    let template = create_template(&gateway, ADMIN, profile("p", json!({}))).await;
    create_runner(
        &gateway,
        ADMIN,
        "local",
        json!([{"profileTemplateId": template, "isDefault": true}]),
    )
    .await;
    wait_until_ready(&gateway, "local").await;
    let (status, stderr) = Agent::start(&gateway, "local", ADMIN, &[])
        .await
        .exited()
        .await;
    assert!(!status.success());
    assert!(stderr.contains("--external-agents"), "{stderr}");
}

#[tokio::test]
async fn two_runners_are_served_by_two_agents_each_running_its_own_sandboxes() {
    let gateway = gateway_with_runners(&[], &["left", "right"]).await;
    let left = Agent::start(&gateway, "left", ADMIN, &["--cpu-millicores", "8000"]).await;
    let right = Agent::start(&gateway, "right", ADMIN, &["--cpu-millicores", "16000"]).await;
    wait_until_ready(&gateway, "left").await;
    wait_until_ready(&gateway, "right").await;
    for (runner_id, agent, cpu) in [("left", &left, "8000"), ("right", &right, "16000")] {
        let discovered = get(&gateway, &format!("/v1beta2/runners/{runner_id}"), USER)
            .await
            .body;
        assert_eq!(
            discovered["capabilities"]["maxCpuMillicores"], cpu,
            "{discovered}"
        );
        let id = start_on(&gateway, runner_id, "echo proof > ran-here").await;
        assert_eq!(
            wait_ended(&gateway, &id).await["sandboxStatus"],
            "SANDBOX_STATUS_COMPLETED"
        );
        assert!(
            ran_in(agent, &id),
            "runner {runner_id}'s sandbox runs in its own agent"
        );
        let other = if runner_id == "left" { &right } else { &left };
        assert!(!ran_in(other, &id), "and not in the other one");
    }
    // Placement picks the runner with the most free CPU: the bigger agent's.
    let placed = post(
        &gateway,
        "/v1beta2/sandboxes",
        USER,
        json!({"command": "true", "containerImage": "debian:12"}),
    )
    .await;
    assert_eq!(placed.body["runnerId"], "right", "{}", placed.body);
}

#[tokio::test]
async fn deleting_a_runner_stops_its_sandboxes_on_the_agent_and_the_agent_exits() {
    let gateway = gateway_with_runners(&[], &["edge"]).await;
    let agent = Agent::start(&gateway, "edge", ADMIN, &[]).await;
    wait_until_ready(&gateway, "edge").await;
    let id = start_on(&gateway, "edge", "sleep 60").await;
    wait_running(&gateway, &id).await;

    let deleting = call(
        &gateway,
        Method::DELETE,
        &runner_path("edge"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(deleting.status, StatusCode::OK, "{}", deleting.body);
    let ended = wait_ended(&gateway, &id).await;
    assert_eq!(
        ended["sandboxStatus"], "SANDBOX_STATUS_TERMINATED",
        "{ended}"
    );
    wait_for(
        &gateway,
        &runner_path("edge"),
        ADMIN,
        "the runner to be gone",
        |r| r["code"] == 5,
    )
    .await;
    let (status, stderr) = agent.exited().await;
    assert!(!status.success());
    assert!(stderr.contains("no longer knows runner edge"), "{stderr}");
}
