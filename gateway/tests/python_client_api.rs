//! The platform's real Python client (`cwsandbox` 0.26.2, from the package registry into
//! `.venv` by scripts/bootstrap) against a real gateway over gRPC:
//! `tests/python/client_basics.py` does what a developer would, and checks each answer.

mod common;

use std::time::Duration;

use common::*;
use sandbox_e2e::python;
use serde_json::json;

#[tokio::test]
async fn the_cwsandbox_client_discovers_runs_execs_reads_logs_and_stops_sandboxes() {
    let gateway = gateway(&["--external-agents"]).await;
    let web = create_template(&gateway, ADMIN, profile("web", internet_network())).await;
    let offline = create_template(&gateway, ADMIN, profile("offline", offline_network())).await;
    create_runner(
        &gateway,
        ADMIN,
        "local",
        json!([{"profileTemplateId": web, "isDefault": true}, {"profileTemplateId": offline}]),
    )
    .await;
    create_runner(
        &gateway,
        ADMIN,
        "gpu",
        json!([{"profileTemplateId": web, "isDefault": true}]),
    )
    .await;
    let _local = Agent::start(&gateway, "local", ADMIN, &[]).await;
    let _gpu = Agent::start(
        &gateway,
        "gpu",
        ADMIN,
        &["--gpus", "1", "--gpu-type", "H100"],
    )
    .await;
    wait_until_ready(&gateway, "local").await;
    wait_until_ready(&gateway, "gpu").await;

    let script = sandbox_e2e::workspace_root().join("tests/python/client_basics.py");
    let output = python::run(&gateway, USER, true, &[&script.to_string_lossy()])
        .await
        .expect("the script runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{stderr}");

    // What the client started is there for the console too, stopped.
    let id = stdout
        .lines()
        .find_map(|line| line.strip_prefix("sandbox "))
        .expect("the script names its sandbox")
        .to_owned();
    let seen = get(&gateway, &format!("/v1beta2/sandboxes/{id}"), USER).await;
    assert_eq!(
        seen.body["sandboxStatus"], "SANDBOX_STATUS_TERMINATED",
        "{}",
        seen.body
    );
}

#[tokio::test]
async fn the_launch_pages_python_snippet_runs_as_shown() {
    let gateway = gateway(&[]).await;
    runner_with_profiles(&gateway, "local", &[("web", internet_network())]).await;
    wait_until_ready(&gateway, "local").await;
    let request: sandbox_api::sandbox::StartSandboxRequest = serde_json::from_value(json!({
        "command": "sh",
        "args": ["-c", "echo \"snippet $MODE\"; sleep 60"],
        "containerImage": "debian:12",
        "profileNames": ["web"],
        "tags": ["snippet"],
        "resources": {"cpu": "500m", "memory": "256Mi"},
        "network": {"egressMode": "web"},
        "environmentVariables": {"MODE": "fast"},
        "maxLifetimeSeconds": 120
    }))
    .unwrap();
    let snippet = sandbox_api::sdk_snippet::python_snippet(&request, &gateway.url);

    // As the page shows it: the address comes from the snippet itself.
    let output = python::run(&gateway, USER, false, &["-c", &snippet])
        .await
        .expect("the snippet runs");
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        output.status.success(),
        "{snippet}\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let started = wait_status(&gateway, &stdout, false).await;
    assert_eq!(started["appliedEgressMode"], "web", "{started}");
    let tagged = get(&gateway, "/v1beta2/sandboxes?tags=snippet", USER)
        .await
        .body;
    assert_eq!(
        tagged["sandboxes"][0]["sandboxId"],
        stdout.as_str(),
        "{tagged}"
    );
    // The log is written as the command runs; give its first line a moment.
    let mut log = String::new();
    for _ in 0..50 {
        log = log_text(&gateway, &stdout).await;
        if log.contains("snippet fast") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(log.contains("snippet fast"), "{log}");
}

#[tokio::test]
async fn sigterm_ends_an_exec_stream_with_a_last_frame_at_once() {
    let gateway = gateway(&[]).await;
    runner_with_profiles(&gateway, "local", &[("web", internet_network())]).await;
    wait_until_ready(&gateway, "local").await;
    let started = post(
        &gateway,
        "/v1beta2/sandboxes",
        USER,
        shell(WAITS_FOR_AN_EXEC),
    )
    .await;
    let id = started.body["sandboxId"].as_str().unwrap().to_owned();
    wait_status(&gateway, &id, false).await;
    let command = serde_json::to_string(&exec_beginning("sleep 60")).unwrap();
    let script = format!(
        "from cwsandbox import Sandbox\n\
         sandbox = Sandbox.from_id({id:?}).result()\n\
         try:\n\
         \x20   print('exit', sandbox.exec({command}).result().returncode)\n\
         except Exception as error:\n\
         \x20   print('ended:', error)\n"
    );
    let client = {
        let (url, script) = (gateway.url.clone(), script.clone());
        tokio::spawn(async move {
            tokio::process::Command::new(sandbox_e2e::workspace_root().join(".venv/bin/python"))
                .args(["-c", &script])
                .env("CWSANDBOX_BASE_URL", url)
                .env("CWSANDBOX_API_KEY", USER)
                .kill_on_drop(true)
                .output()
                .await
        })
    };
    wait_for_log(&gateway, &id, "exec began").await;
    let asked = std::time::Instant::now();
    gateway.stop().await.expect("a clean exit after SIGTERM");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "stopped after {:?}: the exec stream held it up",
        asked.elapsed()
    );
    let output = tokio::time::timeout(Duration::from_secs(30), client)
        .await
        .expect("the client ends")
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ended:") && stdout.contains("stopping"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
