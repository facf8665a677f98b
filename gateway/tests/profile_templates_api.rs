//! The profile-template routes, auth and error bodies, over real HTTP against a real
//! `sandbox-gateway` process.

use std::path::Path;

use reqwest::StatusCode;
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

const ADMIN: &str = "acme-admin-secret";
const USER: &str = "acme-user-secret";
const OTHER_ADMIN: &str = "other-admin-secret";

async fn gateway() -> Gateway {
    Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_sandbox-gateway")),
        &[
            "--token",
            &format!("acme:SANDBOX_ADMIN:{ADMIN}"),
            "--token",
            &format!("acme:SANDBOX_USER:{USER}"),
            "--token",
            &format!("other:SANDBOX_ADMIN:{OTHER_ADMIN}"),
        ],
    )
    .await
    .expect("gateway starts")
}

struct Answer {
    status: StatusCode,
    body: Value,
}

async fn call(
    gateway: &Gateway,
    method: reqwest::Method,
    path_and_query: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut request =
        reqwest::Client::new().request(method, format!("{}{path_and_query}", gateway.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body, got {text:?}"));
    Answer { status, body }
}

async fn create(gateway: &Gateway, token: &str, template: Value) -> Answer {
    call(
        gateway,
        reqwest::Method::POST,
        "/v1beta2/sandbox/profile-templates",
        Some(token),
        Some(json!({ "profileTemplate": template })),
    )
    .await
}

async fn list(gateway: &Gateway, token: &str, query: &str) -> Answer {
    call(
        gateway,
        reqwest::Method::GET,
        &format!("/v1beta2/sandbox/profile-templates{query}"),
        Some(token),
        None,
    )
    .await
}

fn names(answer: &Answer) -> Vec<&str> {
    answer.body["profileTemplates"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| t["displayName"].as_str().expect("a name"))
        .collect()
}

fn violation_fields(answer: &Answer) -> Vec<&str> {
    answer.body["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter(|d| d["@type"] == "type.googleapis.com/google.rpc.BadRequest")
        .flat_map(|d| d["fieldViolations"].as_array().expect("violations"))
        .map(|v| v["field"].as_str().expect("a field"))
        .collect()
}

#[tokio::test]
async fn requests_without_a_valid_token_are_unauthenticated() {
    let gateway = gateway().await;
    let path = "/v1beta2/sandbox/profile-templates";
    for token in [None, Some("wrong-token")] {
        let answer = call(&gateway, reqwest::Method::GET, path, token, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.body["code"], 16);
        assert!(answer.body["message"].as_str().unwrap().contains("token"));
    }
    let basic = reqwest::Client::new()
        .get(format!("{}{path}", gateway.url))
        .basic_auth("admin", Some(ADMIN))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_admin_creates_templates_that_only_its_organization_sees() {
    let gateway = gateway().await;
    let created = create(
        &gateway,
        ADMIN,
        json!({"displayName": "gpu-workbench", "description": "GPU notebooks", "labels": {"team": "ml"},
               "spec": {"containerImage": "ghcr.io/example/ds:1", "networkConfigJson": "{\"egress\":{}}"}}),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let template = &created.body;
    assert_eq!(template["organizationId"], "acme");
    assert_eq!(template["spec"]["containerImage"], "ghcr.io/example/ds:1");
    assert_eq!(template["spec"]["networkConfigJson"], "{\"egress\":{}}");
    for output_only in ["id", "etag", "createdAt", "updatedAt"] {
        assert!(
            template[output_only]
                .as_str()
                .is_some_and(|v| !v.is_empty()),
            "{output_only}"
        );
    }

    let own = list(&gateway, USER, "").await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(names(&own), ["gpu-workbench"]);
    assert_eq!(own.body["profileTemplates"][0], created.body);
    assert_eq!(own.body["nextPageToken"], "");
    let other = list(&gateway, OTHER_ADMIN, "").await;
    assert_eq!(names(&other), Vec::<&str>::new());
}

#[tokio::test]
async fn a_user_may_list_but_not_create() {
    let gateway = gateway().await;
    let denied = create(&gateway, USER, json!({"displayName": "x", "spec": {}})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.body["code"], 7);
    assert!(
        denied.body["message"]
            .as_str()
            .unwrap()
            .contains("SANDBOX_ADMIN")
    );
    assert_eq!(names(&list(&gateway, ADMIN, "").await), Vec::<&str>::new());
}

#[tokio::test]
async fn an_invalid_template_gets_every_violation_and_nothing_is_saved() {
    let gateway = gateway().await;
    let rejected = create(
        &gateway,
        ADMIN,
        json!({"id": "mine", "displayName": "Not A Label"}),
    )
    .await;
    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);
    assert_eq!(rejected.body["code"], 3);
    assert_eq!(violation_fields(&rejected), ["id", "display_name", "spec"]);
    let reason = rejected.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")
        .expect("an ErrorInfo");
    assert_eq!(reason["reason"], "CWSANDBOX_INVALID_REQUEST");
    assert_eq!(reason["domain"], "cwsandbox.com");

    let mistyped = create(
        &gateway,
        ADMIN,
        json!({"displayName": "a", "labels": 5, "spec": {}}),
    )
    .await;
    assert_eq!(mistyped.status, StatusCode::BAD_REQUEST);
    assert_eq!(violation_fields(&mistyped), ["profileTemplate.labels"]);

    let garbage = call(
        &gateway,
        reqwest::Method::POST,
        "/v1beta2/sandbox/profile-templates",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(names(&list(&gateway, ADMIN, "").await), Vec::<&str>::new());
}

#[tokio::test]
async fn a_duplicate_display_name_conflicts() {
    let gateway = gateway().await;
    let template = json!({"displayName": "ci-ephemeral", "spec": {}});
    assert_eq!(
        create(&gateway, ADMIN, template.clone()).await.status,
        StatusCode::OK
    );
    let again = create(&gateway, ADMIN, template.clone()).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["code"], 6);
    assert!(
        again.body["message"]
            .as_str()
            .unwrap()
            .contains("ci-ephemeral")
    );
    // Names are unique per organization, not globally.
    assert_eq!(
        create(&gateway, OTHER_ADMIN, template).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn pages_follow_next_page_token_to_the_end() {
    let gateway = gateway().await;
    for name in ["e", "d", "c", "b", "a"] {
        assert_eq!(
            create(&gateway, ADMIN, json!({"displayName": name, "spec": {}}))
                .await
                .status,
            StatusCode::OK
        );
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = list(&gateway, ADMIN, &format!("?pageSize=2&pageToken={token}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(names(&page).into_iter().map(str::to_owned));
        pages += 1;
        token = page.body["nextPageToken"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);
    assert_eq!(pages, 3);

    let bad_token = list(&gateway, ADMIN, "?pageToken=zz").await;
    assert_eq!(bad_token.status, StatusCode::BAD_REQUEST);
    assert_eq!(violation_fields(&bad_token), ["page_token"]);
    let bad_size = list(&gateway, ADMIN, "?pageSize=many").await;
    assert_eq!(bad_size.status, StatusCode::BAD_REQUEST);
    assert_eq!(violation_fields(&bad_size), ["pageSize"]);
}

#[tokio::test]
async fn unknown_api_routes_answer_a_status_body() {
    let gateway = gateway().await;
    let answer = call(
        &gateway,
        reqwest::Method::GET,
        "/v1beta2/nothing-here",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.body["code"], 5);
}

#[tokio::test]
async fn data_survives_a_restart() {
    let gateway = gateway().await;
    create(&gateway, ADMIN, json!({"displayName": "kept", "spec": {}})).await;
    let gateway = gateway.restart().await.expect("restarts");
    assert_eq!(names(&list(&gateway, ADMIN, "").await), ["kept"]);
}

#[tokio::test]
async fn demo_mode_makes_tokens_once_and_seeds_profiles_once() {
    let gateway = Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_sandbox-gateway")),
        &["--demo"],
    )
    .await
    .expect("gateway starts");
    let printed = gateway.startup_output().join("\n");
    let token_after = |label: &str| {
        printed
            .lines()
            .find_map(|line| line.split_once(label).map(|(_, t)| t.trim().to_owned()))
            .unwrap_or_else(|| panic!("{label} in {printed}"))
    };
    let admin = token_after("(SANDBOX_ADMIN):");
    let user = token_after("(SANDBOX_USER):");
    let file = gateway.data_dir().join("tokens.txt");
    let mode = std::fs::metadata(&file).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    let database: Vec<u8> = ["gateway.db", "gateway.db-wal"]
        .iter()
        .flat_map(|f| std::fs::read(gateway.data_dir().join(f)).unwrap_or_default())
        .collect();
    assert!(database.len() > 4096, "the database was read");
    assert!(
        !database.windows(admin.len()).any(|w| w == admin.as_bytes()),
        "tokens are stored hashed"
    );

    let seeded = names(&list(&gateway, &admin, "").await).len();
    assert!(seeded >= 5, "{seeded} demo profiles");
    let denied = create(&gateway, &user, json!({"displayName": "x", "spec": {}})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    let gateway = gateway.restart().await.expect("restarts");
    assert!(
        gateway.startup_output().join("\n").contains(&admin),
        "same tokens after restart"
    );
    assert_eq!(
        names(&list(&gateway, &admin, "").await).len(),
        seeded,
        "seeded once"
    );
}

#[tokio::test]
async fn the_console_is_served_with_security_headers_and_deep_link_fallback() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!DOCTYPE html><title>console</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "export {};").unwrap();
    let gateway = Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_sandbox-gateway")),
        &[
            "--console-dir",
            &dist.path().to_string_lossy(),
            "--embed-allowed-origin",
            "https://host.example",
        ],
    )
    .await
    .expect("gateway starts");
    let get = |path: &str| reqwest::get(format!("{}{path}", gateway.url));

    let page = get("/profiles/agent-allowlist").await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert_eq!(
        page.text().await.unwrap(),
        "<!DOCTYPE html><title>console</title>"
    );
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval';"),
        "{policy}"
    );
    assert!(
        policy.contains("frame-ancestors 'self' https://host.example"),
        "{policy}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-cache");

    let script = get("/app.js").await.unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(
        get("/missing.js").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    let config: Value = get("/config.json").await.unwrap().json().await.unwrap();
    assert_eq!(
        config,
        json!({"controlPlaneUrl": "", "dataPlaneUrl": "", "embedAllowedOrigins": ["https://host.example"], "basePath": "/"})
    );
}
