//! What every gateway test needs: a real gateway process and JSON calls to it.

#![allow(dead_code)] // each test file uses a different part of this module

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use base64::Engine;
use reqwest::{Method, StatusCode};
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const ADMIN: &str = "acme-admin-secret-0123456789abcdef";
pub const USER: &str = "acme-user-secret-0123456789abcdef0";
pub const OTHER_ADMIN: &str = "other-admin-secret-0123456789abcdef";

/// A gateway with two organizations (acme: admin + user; other: admin) and quick
/// runner installs and heartbeats.
pub async fn gateway(extra: &[&str]) -> Gateway {
    // As an operator should give them: not on the command line.
    let tokens = format!(
        "acme:SANDBOX_ADMIN:{ADMIN}\nacme:SANDBOX_USER:{USER}\nother:SANDBOX_ADMIN:{OTHER_ADMIN}"
    );
    let mut args = vec![
        "--install-step-ms".to_owned(),
        "50".to_owned(),
        "--heartbeat-interval-ms".to_owned(),
        "200".to_owned(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Gateway::start_with_env(
        Path::new(env!("CARGO_BIN_EXE_sandbox-gateway")),
        &args,
        &[("SANDBOX_GATEWAY_TOKENS", &tokens)],
    )
    .await
    .expect("gateway starts")
}

#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    pub fn violation_fields(&self) -> Vec<&str> {
        self.details("type.googleapis.com/google.rpc.BadRequest")
            .flat_map(|d| d["fieldViolations"].as_array().expect("violations"))
            .map(|v| v["field"].as_str().expect("a field"))
            .collect()
    }

    pub fn violation_messages(&self) -> Vec<&str> {
        self.details("type.googleapis.com/google.rpc.BadRequest")
            .flat_map(|d| d["fieldViolations"].as_array().expect("violations"))
            .map(|v| v["description"].as_str().expect("a description"))
            .collect()
    }

    pub fn reason(&self) -> Option<&str> {
        self.details("type.googleapis.com/google.rpc.ErrorInfo")
            .next()
            .and_then(|d| d["reason"].as_str())
    }

    pub fn metadata(&self) -> &Value {
        self.details("type.googleapis.com/google.rpc.ErrorInfo")
            .next()
            .map_or(&Value::Null, |d| &d["metadata"])
    }

    fn details(&self, kind: &str) -> impl Iterator<Item = &Value> {
        let kind = kind.to_owned();
        self.body["details"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(move |d| d["@type"] == kind.as_str())
    }
}

pub async fn call(
    gateway: &Gateway,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    call_with_headers(gateway, method, path, token, body, &[]).await
}

pub async fn call_with_headers(
    gateway: &Gateway,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", gateway.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body, got {text:?}"));
    Answer { status, body }
}

pub async fn get(gateway: &Gateway, path: &str, token: &str) -> Answer {
    call(gateway, Method::GET, path, Some(token), None).await
}

pub async fn post(gateway: &Gateway, path: &str, token: &str, body: Value) -> Answer {
    call(gateway, Method::POST, path, Some(token), Some(body)).await
}

/// Creates a profile template and returns its UUID.
pub async fn create_template(gateway: &Gateway, token: &str, template: Value) -> String {
    let answer = post(
        gateway,
        "/v1beta2/sandbox/profile-templates",
        token,
        json!({ "profileTemplate": template }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["id"].as_str().expect("an id").to_owned()
}

/// A profile with the given network (API form).
pub fn profile(name: &str, network: Value) -> Value {
    json!({
        "displayName": name,
        "spec": {
            "resourceDefaults": {"cpuRequest": "500m", "memoryRequest": "256Mi"},
            "networkConfigJson": network.to_string()
        }
    })
}

/// A profile network whose only egress mode, `web` (the default), is the internet.
pub fn internet_network() -> Value {
    json!({"egress": {"default": "web", "modes": {"web": {"type": "internet"}}}})
}

/// A profile network whose only egress mode, `none` (the default), is no network.
pub fn offline_network() -> Value {
    json!({"egress": {"default": "none", "modes": {"none": {"type": "none"}}}})
}

/// Creates a profile template for each `(name, network)` and runner `runner_id` binding
/// them all, the first as its default.
pub async fn runner_with_profiles(gateway: &Gateway, runner_id: &str, profiles: &[(&str, Value)]) {
    let mut bindings = Vec::new();
    for (name, network) in profiles {
        let id = create_template(gateway, ADMIN, profile(name, network.clone())).await;
        bindings.push(json!({"profileTemplateId": id, "isDefault": bindings.is_empty()}));
    }
    let created = create_runner(gateway, ADMIN, runner_id, Value::Array(bindings)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
}

pub async fn create_runner(
    gateway: &Gateway,
    token: &str,
    runner_id: &str,
    bindings: Value,
) -> Answer {
    post(
        gateway,
        "/v1beta2/sandbox/managed-runners",
        token,
        json!({"runnerId": runner_id, "runner": {
            "displayName": format!("runner {runner_id}"),
            "identity": {"zone": "us-test-1a", "clusterName": format!("cluster-{runner_id}")},
            "profileBindings": bindings
        }}),
    )
    .await
}

/// Polls `GET path` until `done` holds for its body (at most 15 s).
pub async fn wait_for(
    gateway: &Gateway,
    path: &str,
    token: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let answer = get(gateway, path, token).await;
        if done(&answer.body) {
            return answer.body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}; last answer {}",
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn wait_until_ready(gateway: &Gateway, runner_id: &str) -> Value {
    wait_for(
        gateway,
        &format!("/v1beta2/sandbox/managed-runners/{runner_id}"),
        ADMIN,
        "the runner to be READY",
        |r| {
            r["installStatus"] == "RUNNER_INSTALL_STATUS_READY"
                && r["connectionStatus"] == "RUNNER_CONNECTION_STATUS_CONNECTED"
        },
    )
    .await
}

/// A `sandbox-gateway agent` process serving one runner, with its own data directory.
/// Dropped while it runs, it is stopped with SIGTERM (it then stops its sandboxes'
/// containers) and killed only if it has not exited within 10 s.
pub struct Agent {
    child: Child,
    /// Where its agent API listens.
    pub url: String,
    root: TempDir,
}

impl Agent {
    /// Starts an agent for `runner_id` of `gateway` with `token` (heartbeats every
    /// 200 ms) and EXTRA arguments, and waits until its API listens. Whether the gateway
    /// accepts it is for the caller to find out.
    pub async fn start(gateway: &Gateway, runner_id: &str, token: &str, extra: &[&str]) -> Agent {
        let root = tempfile::tempdir().expect("a temporary directory");
        // Canonical, so that it compares equal to what a sandbox's `pwd` prints.
        let data_dir = root
            .path()
            .canonicalize()
            .expect("a canonical path")
            .join("data");
        let stderr = std::fs::File::create(root.path().join("agent.log")).expect("a log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_sandbox-gateway"));
        // As an operator should give it: never on the command line. (A test of
        // --token-file passes an empty `token`.)
        if !token.is_empty() {
            command.env("SANDBOX_AGENT_TOKEN", token);
        }
        let mut child = command
            .args(["agent", "--gateway", &gateway.url, "--runner-id", runner_id])
            .args(["--heartbeat-interval-ms", "200", "--data-dir"])
            .arg(&data_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("the agent starts");
        let mut lines = BufReader::new(child.stdout.take().expect("the agent's stdout")).lines();
        let listening = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("agent listening on ") {
                    return Some(url.trim().to_owned());
                }
            }
            None
        })
        .await;
        let Ok(Some(url)) = listening else {
            let log = std::fs::read_to_string(root.path().join("agent.log")).unwrap_or_default();
            panic!("the agent did not start listening within 30 s; its stderr:\n{log}");
        };
        // Keep draining stdout so the agent never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Agent { child, url, root }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the agent is running")
    }

    /// Where its sandboxes' directories are (`DATA_DIR/sandboxes/<id>`).
    pub fn data_dir(&self) -> PathBuf {
        self.root
            .path()
            .canonicalize()
            .expect("a canonical path")
            .join("data")
    }

    /// What it has written to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.root.path().join("agent.log")).unwrap_or_default()
    }

    /// Waits (at most 15 s) for the agent to exit by itself; its exit status and stderr.
    pub async fn exited(mut self) -> (ExitStatus, String) {
        let status = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the agent did not exit; its stderr:\n{}", self.stderr()))
            .expect("waiting for the agent");
        (status, self.stderr())
    }

    /// Kills the agent at once (SIGKILL), as a crash would.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("killing the agent");
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let Some(pid) = self.child.id() else { return };
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// A sandbox request running `sh -c script`.
pub fn shell(script: &str) -> Value {
    json!({"command": "sh", "args": ["-c", script], "containerImage": "debian:12"})
}

/// `request` with the fields of `extra` set.
pub fn with(mut request: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        request[k] = v.clone();
    }
    request
}

/// Waits until sandbox `id` runs, or (`terminal`) has ended; its last answer.
pub async fn wait_status(gateway: &Gateway, id: &str, terminal: bool) -> Value {
    wait_for(
        gateway,
        &format!("/v1beta2/sandboxes/{id}"),
        USER,
        "the sandbox status",
        |s| {
            let status = s["sandboxStatus"].as_str().unwrap_or_default();
            let is_terminal = [
                "SANDBOX_STATUS_COMPLETED",
                "SANDBOX_STATUS_FAILED",
                "SANDBOX_STATUS_TERMINATED",
            ]
            .contains(&status);
            if terminal {
                is_terminal
            } else {
                status == "SANDBOX_STATUS_RUNNING"
            }
        },
    )
    .await
}

/// The log's data, decoded, from a non-follow read.
pub async fn log_text(gateway: &Gateway, id: &str) -> String {
    let text = reqwest::Client::new()
        .get(format!("{}/v1beta2/sandboxes/{id}/logs", gateway.url))
        .bearer_auth(USER)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut bytes = Vec::new();
    for line in text.lines() {
        let frame: Value = serde_json::from_str(line).unwrap();
        if let Some(data) = frame["data"]["data"].as_str() {
            bytes.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .unwrap(),
            );
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// A sandbox's main command that waits for an exec to begin (see [`exec_beginning`])
/// and then says so in its log: a test knows an exec runs without looking at the
/// machine's processes (what they are called depends on the isolation).
pub const WAITS_FOR_AN_EXEC: &str =
    "while [ ! -e exec-began ]; do sleep 0.1; done; echo exec began; sleep 600";

/// An exec command that first tells a [`WAITS_FOR_AN_EXEC`] sandbox it has begun, then
/// runs `script`.
pub fn exec_beginning(script: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        format!("touch exec-began && {script}"),
    ]
}

/// Waits (at most 60 s: a client may be slow to start on a loaded machine) until
/// sandbox `id`'s log contains `needle`.
pub async fn wait_for_log(gateway: &Gateway, id: &str, needle: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let log = log_text(gateway, id).await;
        if log.contains(needle) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{needle:?} not in the log within 60 s: {log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
