//! The whole HTTP API under a stream of malformed requests, as a fuzzer would send them:
//! broken and deeply nested JSON, values of the wrong type in every field of a valid
//! body, invalid UTF-8 and huge values in paths, queries and bodies, unknown query
//! parameters, wrong methods and tokens. For a bounded time (`SANDBOX_FUZZ_SECONDS`,
//! default 20) and from a seed it prints (`SANDBOX_FUZZ_SEED` replays one): no answer is
//! a 5xx, every error is a `google.rpc.Status` body, nothing is written, and the gateway
//! still answers at the end.
//!
//! Unknown query parameters on reads are ignored (as unknown JSON fields are, SPEC §1),
//! so a read whose only flaw is one may succeed; every write must be refused.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use reqwest::{Method, StatusCode};
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

/// SplitMix64: small, seedable, and good enough to pick cases.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Path segments no resource has, each broken in its own way (percent-encoded).
const BAD_SEGMENTS: &[&str] = &[
    "%FF%FE",
    "%C0%AF",
    "%ED%A0%80",
    "%00",
    "..",
    "%2e%2e%2f%2e%2e",
    "%2F",
    "x%20y",
    "%F0%9F%98%80",
    "-1",
    "00000000-0000-0000-0000-000000000000",
    "a:b:c",
    "%25",
];

/// Query values that are wrong for any parameter that has a type.
const BAD_VALUES: &[&str] = &[
    "abc",
    "-1",
    "1e999",
    "99999999999999999999999",
    "%FF%FE",
    "%00",
    "maybe",
    "",
    "[]",
    "%7B%7D",
];

/// Every query parameter the API reads, and some it does not.
const QUERY_NAMES: &[&str] = &[
    "pageSize",
    "pageToken",
    "view",
    "tailLines",
    "resumeOffset",
    "resumeSessionId",
    "timestamps",
    "follow",
    "updateMask",
    "tags",
    "status",
    "includeStopped",
    "profileNames",
    "runnerIds",
    "zone",
    "connectionStatus",
    "healthyOnly",
    "excludeShared",
    "minAvailableCpuMillicores",
    "minAvailableMemoryBytes",
    "minAvailableGpuCount",
    "maxCpuMillicores",
    "gpuType",
    "architecture",
    "egressMode",
    "ingressMode",
    "runnerGroupId",
    "%FF",
    "unknownParameter",
];

/// Bodies that are not JSON, or not JSON the API can read.
fn broken_body(dice: &mut Dice) -> Vec<u8> {
    match dice.below(9) {
        0 => b"{".to_vec(),
        1 => b"{\"a\":}".to_vec(),
        2 => b"[1,".to_vec(),
        3 => b"nul".to_vec(),
        4 => [b"{\"name\": \"".as_slice(), &[0xff, 0xfe, 0xc0], b"\"}"].concat(),
        5 => "[".repeat(100_000).into_bytes(),
        6 => b"\"just a string\"".to_vec(),
        7 => b"42".to_vec(),
        _ => {
            // Valid JSON of a huge value where an object belongs.
            let mut huge = b"\"".to_vec();
            huge.extend(std::iter::repeat_n(b'x', 1 << 20));
            huge.push(b'"');
            huge
        }
    }
}

/// A value of another JSON type than `original`, which no typed field accepts in its
/// place (never null, which optional fields take; strings that are not numbers).
fn wrong_type(dice: &mut Dice, original: &Value) -> Value {
    let huge_text = || Value::String("\u{202e}x".repeat(20_000));
    let candidates: Vec<Value> = match original {
        Value::String(_) => vec![
            json!(7),
            json!(true),
            json!([1]),
            json!({"a": 1}),
            json!(1e300),
        ],
        Value::Array(_) => vec![json!("not a list"), json!(3), json!({"a": 1}), huge_text()],
        // Not an array: serde reads an array where a struct belongs as its fields in
        // order (a known leniency of serde's derive, left as it is).
        Value::Object(_) => vec![json!("not an object"), json!(-1), json!(false), huge_text()],
        Value::Number(_) => vec![json!("twelve"), json!([]), json!({}), json!(true)],
        Value::Bool(_) => vec![json!("yes"), json!(2), json!([])],
        Value::Null => vec![json!([])],
    };
    dice.pick(&candidates).clone()
}

/// `body` with one of its values (at any depth) replaced by one of the wrong type.
fn mistyped(dice: &mut Dice, body: &Value) -> Value {
    let mut paths = Vec::new();
    collect_paths(body, &mut Vec::new(), &mut paths);
    let path = dice.pick(&paths).clone();
    let mut changed = body.clone();
    let mut slot = &mut changed;
    for step in &path {
        slot = match step {
            Step::Key(key) => &mut slot[key.as_str()],
            Step::Index(index) => &mut slot[*index],
        };
    }
    let replacement = wrong_type(dice, slot);
    *slot = replacement;
    changed
}

#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn collect_paths(value: &Value, at: &mut Vec<Step>, paths: &mut Vec<Vec<Step>>) {
    if !at.is_empty() {
        paths.push(at.clone());
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                at.push(Step::Key(key.clone()));
                collect_paths(child, at, paths);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                at.push(Step::Index(index));
                collect_paths(child, at, paths);
                at.pop();
            }
        }
        _ => {}
    }
}

/// A write's body: broken, or a valid one with a mistyped value.
fn bad_body(dice: &mut Dice, valid: &Value) -> Vec<u8> {
    if dice.chance(40) {
        broken_body(dice)
    } else {
        serde_json::to_vec(&mistyped(dice, valid)).unwrap()
    }
}

fn query(dice: &mut Dice) -> String {
    let mut pairs = Vec::new();
    for _ in 0..dice.below(4) {
        let name = *dice.pick(QUERY_NAMES);
        let value = if dice.chance(5) {
            "y".repeat(10_000)
        } else {
            dice.pick(BAD_VALUES).to_string()
        };
        pairs.push(format!("{name}={value}"));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

/// The resources the requests aim at (valid IDs, so that requests get past lookups).
struct Targets {
    template: String,
    runner: &'static str,
    sandbox: String,
}

/// One malformed request: method, path and query, body, and whether it is a read.
fn request(dice: &mut Dice, targets: &Targets) -> (Method, String, Vec<u8>, bool) {
    let bad = |dice: &mut Dice| dice.pick(BAD_SEGMENTS).to_string();
    let template_body = json!({"profileTemplate": profile("fuzz", internet_network())});
    let runner_body = json!({"runnerId": "fuzz", "runner": {
        "displayName": "fuzz",
        "identity": {"zone": "us-test-1a", "clusterName": "fuzz"},
        "profileBindings": [{"profileTemplateId": targets.template, "isDefault": true}]
    }});
    let start_body = json!({
        "command": "sh", "args": ["-c", "true"], "containerImage": "debian:12",
        "environmentVariables": {"A": "b"}, "tags": ["x"], "maxLifetimeSeconds": 5,
        "resources": {"cpu": "1", "memory": "1Gi"}
    });
    let exec_body = json!({"command": ["true"], "args": ["x"], "maxTimeoutSeconds": 5});
    let stop_body = json!({"gracefulShutdownSeconds": 1, "maxTimeoutSeconds": 2});
    let heartbeat_body =
        json!({"agentUrl": "http://127.0.0.1:1", "agentKey": "k", "capacity": {}, "zone": ""});
    let q = query(dice);
    let (t, r, s) = (&targets.template, targets.runner, &targets.sandbox);
    let read_id = |dice: &mut Dice, valid: &str| {
        if dice.chance(50) {
            valid.to_owned()
        } else {
            bad(dice)
        }
    };
    match dice.below(22) {
        0 => (
            Method::GET,
            format!("/v1beta2/sandbox/profile-templates{q}"),
            vec![],
            true,
        ),
        1 => {
            let id = read_id(dice, t);
            (
                Method::GET,
                format!("/v1beta2/sandbox/profile-templates/{id}{q}"),
                vec![],
                true,
            )
        }
        2 => (
            Method::GET,
            format!("/v1beta2/sandbox/managed-runners{q}"),
            vec![],
            true,
        ),
        3 => {
            let id = read_id(dice, r);
            (
                Method::GET,
                format!("/v1beta2/sandbox/managed-runners/{id}{q}"),
                vec![],
                true,
            )
        }
        4 => (Method::GET, format!("/v1beta2/runners{q}"), vec![], true),
        5 => {
            let id = read_id(dice, r);
            (
                Method::GET,
                format!("/v1beta2/runners/{id}{q}"),
                vec![],
                true,
            )
        }
        6 => (Method::GET, format!("/v1beta2/profiles{q}"), vec![], true),
        7 => {
            let id = read_id(dice, "fuzz");
            (
                Method::GET,
                format!("/v1beta2/profiles/{id}{q}"),
                vec![],
                true,
            )
        }
        8 => (Method::GET, format!("/v1beta2/sandboxes{q}"), vec![], true),
        9 => {
            let id = read_id(dice, s);
            (
                Method::GET,
                format!("/v1beta2/sandboxes/{id}{q}"),
                vec![],
                true,
            )
        }
        10 => {
            // Never a valid follow: it would wait for output.
            let id = read_id(dice, s);
            let q = format!("{q}{}follow=maybe", if q.is_empty() { "?" } else { "&" });
            (
                Method::GET,
                format!("/v1beta2/sandboxes/{id}/logs{q}"),
                vec![],
                true,
            )
        }
        11 => {
            let body = bad_body(dice, &template_body);
            (
                Method::POST,
                format!("/v1beta2/sandbox/profile-templates{q}"),
                body,
                false,
            )
        }
        12 => {
            let body = bad_body(dice, &template_body);
            (
                Method::PATCH,
                format!("/v1beta2/sandbox/profile-templates/{t}{q}"),
                body,
                false,
            )
        }
        13 => {
            let body = bad_body(dice, &runner_body);
            (
                Method::POST,
                format!("/v1beta2/sandbox/managed-runners{q}"),
                body,
                false,
            )
        }
        14 => {
            let body = bad_body(dice, &runner_body["runner"]);
            (
                Method::PATCH,
                format!("/v1beta2/sandbox/managed-runners/{r}{q}"),
                body,
                false,
            )
        }
        15 => {
            let body = bad_body(dice, &start_body);
            (Method::POST, format!("/v1beta2/sandboxes{q}"), body, false)
        }
        16 => {
            let body = bad_body(dice, &exec_body);
            (
                Method::POST,
                format!("/v1beta2/sandboxes/{s}/exec{q}"),
                body,
                false,
            )
        }
        17 => {
            let body = bad_body(dice, &stop_body);
            (
                Method::POST,
                format!("/v1beta2/sandboxes/{s}/stop{q}"),
                body,
                false,
            )
        }
        18 => {
            let body = bad_body(dice, &heartbeat_body);
            (
                Method::POST,
                format!("/v1beta2/internal/runners/{r}:heartbeat{q}"),
                body,
                false,
            )
        }
        19 => {
            // Deletes and custom methods only on what does not exist.
            let (kind, id) = (
                *dice.pick(&[
                    "sandbox/profile-templates",
                    "sandbox/managed-runners",
                    "sandboxes",
                ]),
                bad(dice),
            );
            (
                Method::DELETE,
                format!("/v1beta2/{kind}/{id}{q}"),
                vec![],
                false,
            )
        }
        20 => {
            let id = bad(dice);
            let method = *dice.pick(&["applyUpdate", "bogus", ""]);
            (
                Method::POST,
                format!("/v1beta2/sandbox/managed-runners/{id}:{method}{q}"),
                vec![],
                false,
            )
        }
        _ => {
            let method = dice
                .pick(&[Method::PUT, Method::OPTIONS, Method::TRACE, Method::PATCH])
                .clone();
            let path = dice.pick(&[
                "/v1beta2/sandboxes",
                "/v1beta2/runners",
                "/v1beta2/",
                "/v1beta2/%FF",
            ]);
            (method, format!("{path}{q}"), broken_body(dice), false)
        }
    }
}

/// What must not change: every resource's identity and version.
async fn snapshot(gateway: &Gateway) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    for (path, list, version) in [
        (
            "/v1beta2/sandbox/profile-templates",
            "profileTemplates",
            "etag",
        ),
        ("/v1beta2/sandbox/managed-runners", "runners", "etag"),
        ("/v1beta2/sandboxes", "sandboxes", "sandboxStatus"),
    ] {
        let answer = get(gateway, path, ADMIN).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        for item in answer.body[list].as_array().unwrap() {
            let id = item["id"]
                .as_str()
                .or(item["runnerId"].as_str())
                .or(item["sandboxId"].as_str())
                .unwrap()
                .to_owned();
            seen.insert(format!("{list}/{id}"), item[version].to_string());
        }
    }
    seen
}

#[tokio::test]
async fn malformed_requests_never_get_a_5xx_always_get_a_status_body_and_write_nothing() {
    let seconds: u64 = std::env::var("SANDBOX_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("SANDBOX_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("SANDBOX_FUZZ_SEED={seed}");

    let gateway = gateway(&[]).await;
    runner_with_profiles(&gateway, "local", &[("fuzz", internet_network())]).await;
    wait_until_ready(&gateway, "local").await;
    let template = get(&gateway, "/v1beta2/sandbox/profile-templates", ADMIN)
        .await
        .body["profileTemplates"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = post(&gateway, "/v1beta2/sandboxes", USER, shell("sleep 600")).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let sandbox = started.body["sandboxId"].as_str().unwrap().to_owned();
    wait_status(&gateway, &sandbox, false).await;
    let targets = Targets {
        template,
        runner: "local",
        sandbox,
    };
    let before = snapshot(&gateway).await;

    // A fresh connection per request: an answer given before a large body was read
    // closes its connection, which a pooled client could otherwise try to reuse.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut dice = Dice(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut sent, mut by_status) = (0usize, BTreeMap::<u16, usize>::new());
    let mut answered_before_the_body = 0usize;
    while Instant::now() < deadline {
        let (method, path, body, is_read) = request(&mut dice, &targets);
        let mut call = client
            .request(method.clone(), format!("{}{path}", gateway.url))
            .body(body.clone());
        call = match dice.below(10) {
            0 => call,
            1 => call.bearer_auth("not-a-token"),
            2 => call.bearer_auth(USER),
            _ => call.bearer_auth(ADMIN),
        };
        if dice.chance(80) {
            call = call.header("content-type", "application/json");
        }
        let response = match call.send().await {
            Ok(response) => response,
            // A refusal that needs no body (no token, no route) is sent at once, and the
            // connection closed while a large body is still being written.
            Err(e) if body.len() > 64 * 1024 && format!("{e:?}").contains("BodyWrite") => {
                answered_before_the_body += 1;
                continue;
            }
            Err(e) => panic!(
                "{method} {path:.300} with {} bytes: no answer: {e:?}",
                body.len()
            ),
        };
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let shown_body = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        let case = format!("{method} {:.300} with {shown_body:?}", path);
        sent += 1;
        *by_status.entry(status.as_u16()).or_default() += 1;
        assert!(!status.is_server_error(), "{case}: {status} {text:.500}");
        if status.is_success() {
            assert!(is_read, "{case}: a malformed write succeeded: {text:.500}");
            continue;
        }
        let status_body: Value = serde_json::from_str(&text).unwrap_or_else(|_| {
            panic!("{case}: {status} with a body that is not JSON: {text:.500}")
        });
        assert!(
            status_body["code"].as_i64().is_some_and(|c| c > 0)
                && status_body["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
            "{case}: {status} with a body that is not a Status: {text:.500}"
        );
    }
    println!(
        "{sent} malformed requests in {seconds} s; answers by status: {by_status:?}; \
         {answered_before_the_body} large bodies refused before they were read"
    );
    assert!(sent > 100, "only {sent} requests were sent");

    assert_eq!(snapshot(&gateway).await, before, "nothing was written");
    let health = reqwest::get(format!("{}/healthz", gateway.url))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}
