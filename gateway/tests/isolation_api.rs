//! Sandboxes are sandboxed: each of the escapes a hostile developer with only a
//! SANDBOX_USER token tried against host-process sandboxes fails against containers
//! (real runc, real cgroups on this machine), and nothing a sandbox starts outlives it.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

/// A gateway with one runner binding `internet` (its default) and `offline` profiles.
async fn fleet(extra: &[&str]) -> Gateway {
    let gateway = gateway(extra).await;
    runner_with_profiles(
        &gateway,
        "local",
        &[
            ("internet", internet_network()),
            ("offline", offline_network()),
        ],
    )
    .await;
    wait_until_ready(&gateway, "local").await;
    gateway
}

/// Starts `request` as the user; its sandbox ID.
async fn start(gateway: &Gateway, request: Value) -> String {
    let started = post(gateway, "/v1beta2/sandboxes", USER, request).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    started.body["sandboxId"].as_str().unwrap().to_owned()
}

/// Polls (at most 15 s) until `condition` holds.
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The pids of this machine's processes running as `uid`.
fn processes_of(uid: u32) -> BTreeSet<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|status| {
                status.lines().any(|line| {
                    line.strip_prefix("Uid:")
                        .and_then(|ids| ids.split_whitespace().next())
                        .is_some_and(|real| real == uid.to_string())
                })
            })
        })
        .collect()
}

/// The first line of the sandbox's log that starts with `prefix`, once it is there.
async fn logged(gateway: &Gateway, id: &str, prefix: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(line) = log_text(gateway, id)
            .await
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
        {
            return line.to_owned();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{prefix:?} never appeared in the log of {id}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_sandbox_reaches_neither_the_gateway_its_files_nor_another_sandbox() {
    let gateway = fleet(&[]).await;
    let data = gateway.data_dir().canonicalize().unwrap();
    let gateway_pid = gateway.pid().unwrap();
    let neighbour = start(&gateway, shell("echo neighbour-secret > secret; sleep 300")).await;
    wait_status(&gateway, &neighbour, false).await;
    let neighbour_dir = data.join("sandboxes").join(&neighbour);
    // Where `--demo` keeps its tokens, with something to find.
    std::fs::write(data.join("tokens.txt"), "SANDBOX_ADMIN=secret\n").unwrap();

    // Each probe prints ESCAPED when it gets through.
    let probes = [
        format!("grep -q secret {}/tokens.txt", data.display()),
        "grep -q secret ../../../tokens.txt".to_owned(),
        format!("cat {}/gateway.db", data.display()),
        format!("ls {}", data.display()),
        "cat ../../../gateway.db".to_owned(),
        format!("cat {}/work/secret", neighbour_dir.display()),
        format!("cat /proc/{gateway_pid}/cmdline"),
        format!("cat /proc/{gateway_pid}/environ"),
        format!("kill -9 {gateway_pid}"),
        "nsenter -t 1 -n true".to_owned(),
        "nsenter --mount=/proc/1/ns/mnt true".to_owned(),
        "touch /usr/escaped".to_owned(),
        // Masked: it reads as empty.
        "grep -q root /etc/shadow".to_owned(),
        "mount -t tmpfs none /work".to_owned(),
        // Nothing of the runtime's own set-up leaks into its environment.
        "printenv TINI_VERBOSITY".to_owned(),
    ];
    let script = probes
        .iter()
        .map(|probe| format!("if {probe} >/dev/null 2>&1; then echo \"ESCAPED: {probe}\"; fi"))
        .chain([
            "echo \"uid=$(id -u)\"".to_owned(),
            "echo \"processes=$(ls /proc | grep -c '^[0-9]')\"".to_owned(),
        ])
        .collect::<Vec<_>>()
        .join("; ");
    let prober = start(&gateway, shell(&script)).await;
    let ended = wait_status(&gateway, &prober, true).await;
    assert_eq!(
        ended["sandboxStatus"], "SANDBOX_STATUS_COMPLETED",
        "{ended}"
    );
    let log = log_text(&gateway, &prober).await;
    assert!(!log.contains("ESCAPED"), "{log}");
    let uid: u32 = logged(&gateway, &prober, "uid=").await.parse().unwrap();
    assert!(
        uid >= 1_000_000_000,
        "a sandbox never runs as root or a uid of the machine: {uid}"
    );
    // Its own pid namespace: its init, its shell, and what the shell runs.
    let processes: u32 = logged(&gateway, &prober, "processes=")
        .await
        .parse()
        .unwrap();
    assert!(processes <= 5, "sees only its own processes: {processes}");
    assert!(ended.get("unisolated").is_none(), "{ended}");

    // The neighbour and the gateway are untouched.
    assert_eq!(
        std::fs::read_to_string(neighbour_dir.join("work/secret")).unwrap(),
        "neighbour-secret\n"
    );
    assert_eq!(
        get(&gateway, &format!("/v1beta2/sandboxes/{neighbour}"), USER)
            .await
            .body["sandboxStatus"],
        "SANDBOX_STATUS_RUNNING"
    );
    // An exec runs as the sandbox's user too, in its namespaces.
    let exec = post(
        &gateway,
        &format!("/v1beta2/sandboxes/{neighbour}/exec"),
        USER,
        json!({"command": ["sh", "-c", "id -u; cat secret; ls /proc | grep -c '^[0-9]'"]}),
    )
    .await;
    assert_eq!(exec.status, StatusCode::OK, "{}", exec.body);
    let stdout = decode(&exec.body["result"]["stdout"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[1], "neighbour-secret", "{stdout}");
    assert!(
        lines[0].parse::<u32>().unwrap() >= 1_000_000_000,
        "{stdout}"
    );
    assert_ne!(
        lines[0],
        uid.to_string(),
        "each sandbox has a uid of its own"
    );
}

#[tokio::test]
async fn a_memory_limit_ends_a_sandbox_as_oom_killed() {
    let gateway = fleet(&[]).await;
    // `tail` keeps the one endless line of /dev/zero in memory.
    let id = start(
        &gateway,
        json!({
            "command": "tail", "args": ["/dev/zero"], "containerImage": "debian:12",
            "resources": {"memory": "64Mi"}, "resourceLimits": {"memory": "64Mi"}
        }),
    )
    .await;
    let ended = wait_status(&gateway, &id, true).await;
    assert_eq!(ended["sandboxStatus"], "SANDBOX_STATUS_FAILED", "{ended}");
    let reason = ended["statusReason"].as_str().unwrap();
    assert!(reason.starts_with("OOMKilled"), "{reason}");
    assert!(reason.contains("64 MiB"), "{reason}");
}

#[tokio::test]
async fn a_fork_bomb_stays_under_the_process_limit_while_the_gateway_answers() {
    let gateway = fleet(&["--max-sandbox-processes", "64"]).await;
    let id = start(
        &gateway,
        with(
            // Each copy starts two more and stays, so they pile up to the limit; the main
            // process is a `sleep` (exec'd), which needs no fork once the bomb is lit.
            shell(
                "echo \"uid=$(id -u)\"; (bomb() { bomb & bomb & sleep 300; }; bomb) & exec sleep 300",
            ),
            json!({"resources": {"memory": "256Mi"}, "resourceLimits": {"memory": "1Gi"}}),
        ),
    )
    .await;
    let uid: u32 = logged(&gateway, &id, "uid=").await.parse().unwrap();
    let mut most = 0;
    for _ in 0..20 {
        let answered = tokio::time::timeout(
            Duration::from_secs(2),
            reqwest::get(format!("{}/healthz", gateway.url)),
        )
        .await;
        assert!(
            answered.is_ok_and(|response| response.is_ok_and(|r| r.status().is_success())),
            "the gateway answers while a sandbox forks without end"
        );
        most = most.max(processes_of(uid).len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(most <= 64, "{most} processes, over the limit of 64");
    // Near the limit (the limit counts threads and processes that come and go too).
    assert!(
        most >= 32,
        "the bomb forked up to the limit ({most} processes)"
    );
    let stop = post(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/stop"),
        USER,
        json!({"gracefulShutdownSeconds": 1}),
    )
    .await;
    assert_eq!(stop.status, StatusCode::OK, "{}", stop.body);
    wait_status(&gateway, &id, true).await;
    eventually("every process of the bomb to be gone", || {
        processes_of(uid).is_empty()
    })
    .await;
}

/// A sandbox that leaves processes behind in every way it can: a new session, a double
/// fork, nohup. Its uid, once it has said it is ready.
async fn start_escapist(gateway: &Gateway) -> (String, u32) {
    let id = start(
        gateway,
        shell(
            "setsid sleep 1001 & (sleep 1002 &) & nohup sleep 1003 >/dev/null 2>&1 & \
             echo \"uid=$(id -u)\"; sleep 1000",
        ),
    )
    .await;
    let uid: u32 = logged(gateway, &id, "uid=").await.parse().unwrap();
    eventually("the escapist's processes", || processes_of(uid).len() >= 5).await;
    (id, uid)
}

#[tokio::test]
async fn nothing_a_sandbox_started_outlives_stop_delete_or_a_killed_gateway() {
    let gateway = fleet(&[]).await;

    let (stopped, stopped_uid) = start_escapist(&gateway).await;
    let answer = post(
        &gateway,
        &format!("/v1beta2/sandboxes/{stopped}/stop"),
        USER,
        json!({"gracefulShutdownSeconds": 1}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    wait_status(&gateway, &stopped, true).await;
    eventually("nothing left after a stop", || {
        processes_of(stopped_uid).is_empty()
    })
    .await;

    let (deleted, deleted_uid) = start_escapist(&gateway).await;
    let answer = call(
        &gateway,
        reqwest::Method::DELETE,
        &format!("/v1beta2/sandboxes/{deleted}"),
        Some(USER),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    eventually("nothing left after a delete", || {
        processes_of(deleted_uid).is_empty()
    })
    .await;
    assert!(!gateway.data_dir().join("sandboxes").join(&deleted).exists());

    let (crashed, crashed_uid) = start_escapist(&gateway).await;
    let gateway = gateway.crash().await.unwrap().resume().await.unwrap();
    eventually(
        "nothing left after the gateway was killed and restarted",
        || processes_of(crashed_uid).is_empty(),
    )
    .await;
    let after = get(&gateway, &format!("/v1beta2/sandboxes/{crashed}"), USER)
        .await
        .body;
    assert_eq!(after["sandboxStatus"], "SANDBOX_STATUS_FAILED", "{after}");
    assert!(
        after["statusReason"]
            .as_str()
            .unwrap()
            .contains("restarted"),
        "{after}"
    );
}

#[tokio::test]
async fn unisolated_sandboxes_are_an_explicit_opt_out_and_flagged() {
    let gateway = fleet(&["--isolation", "none"]).await;
    let id = start(&gateway, shell("id -u")).await;
    let ended = wait_status(&gateway, &id, true).await;
    assert_eq!(ended["unisolated"], true, "{ended}");
    let listed = get(&gateway, "/v1beta2/sandboxes?includeStopped=true", USER).await;
    assert_eq!(
        listed.body["sandboxes"][0]["unisolated"], true,
        "{}",
        listed.body
    );
    assert!(
        gateway
            .startup_output()
            .iter()
            .chain(std::fs::read_to_string(gateway.data_dir().join("gateway.log")).iter())
            .any(|text| text.contains("--isolation none")),
        "the gateway says so at start"
    );
}

fn decode(value: &Value) -> String {
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn without_a_container_runtime_the_gateway_says_why_and_starts_no_sandbox() {
    let gateway = fleet(&["--runc", "/nonexistent/runc"]).await;
    let refused = post(&gateway, "/v1beta2/sandboxes", USER, shell("true")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let message = refused.body["message"].as_str().unwrap();
    assert!(
        message.contains("cannot isolate sandboxes") && message.contains("/nonexistent/runc"),
        "{message}"
    );
    let log = std::fs::read_to_string(gateway.data_dir().join("gateway.log")).unwrap();
    assert!(log.contains("sandboxes cannot be isolated"), "{log}");
    assert!(log.contains("--isolation none"), "{log}");
}

#[tokio::test]
async fn outbound_egress_has_a_network_of_its_own_and_allowlists_are_enforced() {
    let gateway = gateway(&[]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    // 10.0.2.2 is this machine's loopback as the user-mode network's host address.
    let allowlist = |cidr: &str| json!({"egress": {"default": "list", "modes": {"list": {"type": "allowlist", "cidrs": [cidr]}}}});
    runner_with_profiles(
        &gateway,
        "local",
        &[
            ("web", internet_network()),
            ("to-host", allowlist("10.0.2.2/32")),
            ("elsewhere", allowlist("203.0.113.0/24")),
        ],
    )
    .await;
    wait_until_ready(&gateway, "local").await;

    // Exits 0 when it connects to the host's listener at `address`.
    let reaches = |profile: &str, address: &str| {
        let request = json!({
            "command": "bash", "args": ["-c", format!("exec 3<>/dev/tcp/{address}/{port}")],
            "containerImage": "debian:12", "profileNames": [profile]
        });
        let gateway = &gateway;
        async move {
            let id = start(gateway, request).await;
            let ended = wait_status(gateway, &id, true).await;
            assert!(ended.get("unenforcedEgress").is_none(), "enforced: {ended}");
            ended["exitCode"] == 0
        }
    };
    assert!(
        !reaches("web", "127.0.0.1").await,
        "internet: its loopback is its own"
    );
    assert!(
        !reaches("web", "10.0.2.2").await,
        "internet: not this machine's services"
    );
    assert!(
        reaches("to-host", "10.0.2.2").await,
        "allowlisted: reachable"
    );
    assert!(
        !reaches("elsewhere", "10.0.2.2").await,
        "not allowlisted: refused"
    );
}
