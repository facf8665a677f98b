//! The gateway as an attacker on the same machine or on a web page, or a client that
//! never lets go, would try it: its files are private, its secrets never on a command
//! line and only the given ones accepted, other host names refused, quotas enforced,
//! every error a Status body, and SIGTERM stops it within its bound.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use reqwest::{Method, StatusCode};
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

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

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_sandbox-gateway"))
}

/// Runs `sandbox-gateway ARGS` expecting it to refuse to start; its stderr.
async fn refused_start(args: &[&str], envs: &[(&str, &str)]) -> String {
    let data = tempfile::tempdir().unwrap();
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(binary())
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .envs(envs.iter().copied())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("it exits at once")
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "{args:?} should not start: {stderr}"
    );
    stderr
}

fn private_file(dir: &Path, name: &str, text: &str, mode: u32) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path.to_string_lossy().into_owned()
}

async fn status_of(gateway: &Gateway, token: &str) -> StatusCode {
    get(gateway, "/v1beta2/sandboxes", token).await.status
}

#[tokio::test]
async fn tokens_come_from_a_private_file_or_the_environment_and_only_the_given_ones_work() {
    let secrets = tempfile::tempdir().unwrap();
    let lines = format!("# acme\nacme:SANDBOX_ADMIN:{ADMIN}\n");
    let open = private_file(secrets.path(), "open", &lines, 0o644);
    let refused = refused_start(&["serve", "--token-file", &open], &[]).await;
    assert!(refused.contains("chmod 600"), "{refused}");
    assert!(
        !refused.contains(ADMIN),
        "the secret is never echoed: {refused}"
    );

    let file = private_file(secrets.path(), "tokens", &lines, 0o600);
    let user_line = format!("acme:SANDBOX_USER:{USER}");
    let gateway = Gateway::start_with_env(
        binary(),
        &["--token-file", &file],
        &[("SANDBOX_GATEWAY_TOKENS", &user_line)],
    )
    .await
    .unwrap();
    assert_eq!(status_of(&gateway, ADMIN).await, StatusCode::OK);
    assert_eq!(status_of(&gateway, USER).await, StatusCode::OK);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", gateway.pid().unwrap())).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline);
    assert!(
        !cmdline.contains(ADMIN) && !cmdline.contains(USER),
        "{cmdline}"
    );

    // Started again without the environment: the user token stops working.
    let gateway = gateway
        .pause()
        .await
        .unwrap()
        .resume_with(&["--token-file", &file], &[])
        .await
        .unwrap();
    assert_eq!(status_of(&gateway, ADMIN).await, StatusCode::OK);
    assert_eq!(status_of(&gateway, USER).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn short_secrets_are_refused_and_secrets_on_the_command_line_are_warned_about() {
    let short = "acme:SANDBOX_ADMIN:only-31-characters-long-0123456";
    let refused = refused_start(&["serve", "--token", short], &[]).await;
    assert!(refused.contains("at least 32 characters"), "{refused}");
    let refused = refused_start(
        &["serve"],
        &[(
            "SANDBOX_GATEWAY_TOKENS",
            &format!("acme:SANDBOX_ADMIN:{ADMIN}\n{short}"),
        )],
    )
    .await;
    assert!(refused.contains("line 2"), "{refused}");
    assert!(!refused.contains("only-31"), "{refused}");

    let quiet = gateway(&[]).await;
    let log = std::fs::read_to_string(quiet.data_dir().join("gateway.log")).unwrap();
    assert!(!log.contains("--token puts secrets"), "{log}");
    let flagged = Gateway::start(
        binary(),
        &["--token", &format!("acme:SANDBOX_ADMIN:{ADMIN}")],
    )
    .await
    .unwrap();
    let log = std::fs::read_to_string(flagged.data_dir().join("gateway.log")).unwrap();
    assert!(
        log.contains("--token puts secrets where every process"),
        "{log}"
    );
}

#[tokio::test]
async fn an_agent_takes_its_token_from_a_private_file() {
    let gateway = gateway(&["--external-agents"]).await;
    runner_with_profiles(&gateway, "edge", &[("p", json!({}))]).await;
    let secrets = tempfile::tempdir().unwrap();
    let open = private_file(secrets.path(), "open", ADMIN, 0o640);
    let refused = refused_start(
        &[
            "agent",
            "--gateway",
            &gateway.url,
            "--runner-id",
            "edge",
            "--token-file",
            &open,
        ],
        &[],
    )
    .await;
    assert!(refused.contains("chmod 600"), "{refused}");

    let file = private_file(secrets.path(), "token", &format!("{ADMIN}\n"), 0o600);
    let _agent = Agent::start(&gateway, "edge", "", &["--token-file", &file]).await;
    let runner = wait_until_ready(&gateway, "edge").await;
    assert_eq!(
        runner["connectionStatus"], "RUNNER_CONNECTION_STATUS_CONNECTED",
        "{runner}"
    );
}

#[tokio::test]
async fn requests_naming_another_host_get_421_so_dns_rebinding_reaches_nothing() {
    let gateway = gateway(&["--allowed-host", "sandbox.lan"]).await;
    let port = gateway.url.rsplit(':').next().unwrap().to_owned();
    for host in [
        format!("attacker.example:{port}"),
        "127.0.0.1.nip.io".into(),
    ] {
        let refused = call_with_headers(
            &gateway,
            Method::GET,
            "/v1beta2/sandboxes",
            Some(ADMIN),
            None,
            &[("host", &host)],
        )
        .await;
        assert_eq!(refused.status.as_u16(), 421, "{host}: {}", refused.body);
        assert_eq!(refused.reason(), Some("CWSANDBOX_MISDIRECTED_REQUEST"));
    }
    for host in [
        format!("sandbox.lan:{port}"),
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
    ] {
        let served = call_with_headers(
            &gateway,
            Method::GET,
            "/v1beta2/sandboxes",
            Some(ADMIN),
            None,
            &[("host", &host)],
        )
        .await;
        assert_eq!(served.status, StatusCode::OK, "{host}: {}", served.body);
    }
}

/// Sends a raw request and reads the answer as a Status body.
async fn raw_status(gateway: &Gateway, method: Method, path: &str, body: Vec<u8>) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", gateway.url))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text:?}"));
    (status, body)
}

#[tokio::test]
async fn every_error_is_a_status_body_and_an_oversized_body_is_413() {
    let gateway = gateway(&[]).await;
    let cases: Vec<(Method, &str, Vec<u8>, u16)> = vec![
        (Method::GET, "/v1beta2/sandboxes/%FF%FE", vec![], 400),
        (
            Method::GET,
            "/v1beta2/sandbox/managed-runners/%C0%AF",
            vec![],
            400,
        ),
        (Method::PUT, "/v1beta2/sandboxes", vec![], 405),
        (Method::GET, "/v1beta2/nothing-here", vec![], 404),
        (Method::POST, "/v1beta2/sandboxes", vec![b' '; 3 << 20], 413),
        (
            Method::POST,
            "/v1beta2/sandbox/profile-templates",
            [b"{\"name\": \"".as_slice(), &[0xff, 0xfe], b"\"}"].concat(),
            400,
        ),
    ];
    for (method, path, body, expected) in cases {
        let (status, answer) = raw_status(&gateway, method.clone(), path, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        assert!(answer["code"].as_i64().is_some_and(|c| c > 0), "{answer}");
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
    }
    let (_, too_large) = raw_status(
        &gateway,
        Method::POST,
        "/v1beta2/sandboxes",
        vec![b' '; 3 << 20],
    )
    .await;
    assert_eq!(
        too_large["details"][0]["reason"], "CWSANDBOX_BODY_TOO_LARGE",
        "{too_large}"
    );
}

#[tokio::test]
async fn quotas_refuse_with_resource_exhausted_naming_the_flag_and_the_limit() {
    let gateway = gateway(&[
        "--max-sandboxes-per-org",
        "2",
        "--max-execs-per-sandbox",
        "1",
        "--max-log-bytes",
        "10000",
    ])
    .await;
    runner_with_profiles(&gateway, "local", &[("internet", internet_network())]).await;
    wait_until_ready(&gateway, "local").await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let started = post(
            &gateway,
            "/v1beta2/sandboxes",
            USER,
            shell(WAITS_FOR_AN_EXEC),
        )
        .await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        ids.push(started.body["sandboxId"].as_str().unwrap().to_owned());
    }
    let refused = post(&gateway, "/v1beta2/sandboxes", USER, shell("sleep 60")).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert_eq!(refused.body["code"], 8, "RESOURCE_EXHAUSTED");
    assert_eq!(refused.reason(), Some("CWSANDBOX_QUOTA_EXCEEDED"));
    assert_eq!(refused.metadata()["quota"], "max-sandboxes-per-org");
    assert_eq!(refused.metadata()["limit"], "2");
    let message = refused.body["message"].as_str().unwrap();
    assert!(
        message.contains("--max-sandboxes-per-org") && message.contains("2"),
        "{message}"
    );

    // One exec at a time per sandbox: a second, while the first runs, is refused.
    wait_status(&gateway, &ids[0], false).await;
    let exec_path = format!("/v1beta2/sandboxes/{}/exec", ids[0]);
    let slow = {
        let (gateway_url, path) = (gateway.url.clone(), exec_path.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{gateway_url}{path}"))
                .bearer_auth(USER)
                .json(&json!({"command": exec_beginning("sleep 2")}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    // The slow exec holds the sandbox's one slot once it runs.
    wait_for_log(&gateway, &ids[0], "exec began").await;
    let second = post(&gateway, &exec_path, USER, json!({"command": ["true"]})).await;
    assert_eq!(
        second.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        second.body
    );
    assert_eq!(second.metadata()["quota"], "max-execs-per-sandbox");
    assert_eq!(slow.await.unwrap(), StatusCode::OK);
    let after = post(&gateway, &exec_path, USER, json!({"command": ["true"]})).await;
    assert_eq!(
        after.status,
        StatusCode::OK,
        "the slot came back: {}",
        after.body
    );

    // Stopping one frees a place; a loud sandbox's log stops at its limit and says so.
    let stopped = post(
        &gateway,
        &format!("/v1beta2/sandboxes/{}/stop", ids[1]),
        USER,
        json!({}),
    )
    .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    wait_status(&gateway, &ids[1], true).await;
    let loud = post(
        &gateway,
        "/v1beta2/sandboxes",
        USER,
        shell("head -c 100000 /dev/zero | tr '\\0' x; echo; echo after"),
    )
    .await;
    assert_eq!(loud.status, StatusCode::OK, "{}", loud.body);
    let loud = loud.body["sandboxId"].as_str().unwrap().to_owned();
    wait_status(&gateway, &loud, true).await;
    let log = log_text(&gateway, &loud).await;
    assert!(log.len() < 10_200, "{} bytes kept", log.len());
    assert!(log.starts_with(&"x".repeat(9000)), "{}", &log[..50]);
    assert_eq!(
        log.matches("reached its limit of 10000 bytes").count(),
        1,
        "{}",
        &log[9990..]
    );
    assert!(!log.contains("after"), "nothing past the limit");
}

#[tokio::test]
async fn out_of_open_files_the_gateway_refuses_new_sandboxes_and_keeps_answering() {
    // The gateway under a hard limit of 400 open files, as a service manager may set it.
    let wrapper_dir = tempfile::tempdir().unwrap();
    let wrapper = wrapper_dir.path().join("limited-gateway");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nulimit -S -n 400 && ulimit -H -n 400 && exec {} \"$@\"\n",
            binary().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o700)).unwrap();
    let tokens = format!("acme:SANDBOX_ADMIN:{ADMIN}\nacme:SANDBOX_USER:{USER}");
    let gateway = Gateway::start_with_env(
        &wrapper,
        &["--install-step-ms", "50", "--heartbeat-interval-ms", "200"],
        &[("SANDBOX_GATEWAY_TOKENS", &tokens)],
    )
    .await
    .unwrap();
    runner_with_profiles(&gateway, "local", &[("offline", offline_network())]).await;
    wait_until_ready(&gateway, "local").await;

    let mut started = 0;
    let refused = loop {
        let answer = post(
            &gateway,
            "/v1beta2/sandboxes",
            USER,
            with(
                shell("sleep 600"),
                json!({"resources": {"cpu": "10m", "memory": "64Mi"}}),
            ),
        )
        .await;
        if answer.status != StatusCode::OK {
            break answer;
        }
        started += 1;
        if started >= 64 {
            let listed = get(&gateway, "/v1beta2/sandboxes", USER).await;
            panic!("no refusal before the sandbox quota: {}", listed.body);
        }
    };
    assert!(
        started >= 5,
        "only {started} sandboxes started under 400 files: {}",
        refused.body
    );
    let message = refused.body.to_string();
    assert!(message.contains("out of open files"), "{message}");
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{message}");
    assert_eq!(refused.body["code"], 8, "RESOURCE_EXHAUSTED");
    println!("{started} sandboxes started under a limit of 400 open files");
    // The gateway still answers everyone.
    let listed = get(&gateway, "/v1beta2/sandboxes", USER).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body["sandboxes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["sandboxStatus"] == "SANDBOX_STATUS_RUNNING")
            .count(),
        started
    );
    let health = reqwest::get(format!("{}/healthz", gateway.url))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}
