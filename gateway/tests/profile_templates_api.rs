//! The profile-template routes, auth and error bodies, over real HTTP against a real
//! `sandbox-gateway` process.

mod common;

use std::path::Path;

use common::*;
use reqwest::StatusCode;
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

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

#[tokio::test]
async fn requests_without_a_valid_token_are_unauthenticated() {
    let gateway = gateway(&[]).await;
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
async fn the_caller_learns_its_organization_and_role_and_nobody_else_does() {
    let gateway = gateway(&[]).await;
    let path = "/v1beta2/sandbox/caller";
    for (token, expected) in [
        (
            ADMIN,
            json!({"organizationId": "acme", "role": "SANDBOX_ADMIN"}),
        ),
        (
            USER,
            json!({"organizationId": "acme", "role": "SANDBOX_USER"}),
        ),
        (
            OTHER_ADMIN,
            json!({"organizationId": "other", "role": "SANDBOX_ADMIN"}),
        ),
    ] {
        let answer = get(&gateway, path, token).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body, expected);
    }
    for token in [None, Some("wrong-token")] {
        let answer = call(&gateway, reqwest::Method::GET, path, token, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
        assert_eq!(answer.body["code"], 16);
    }
}

#[tokio::test]
async fn an_admin_creates_templates_that_only_its_organization_sees() {
    let gateway = gateway(&[]).await;
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
    let gateway = gateway(&[]).await;
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
    let gateway = gateway(&[]).await;
    let rejected = create(
        &gateway,
        ADMIN,
        json!({"id": "mine", "displayName": "Not A Label"}),
    )
    .await;
    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);
    assert_eq!(rejected.body["code"], 3);
    assert_eq!(rejected.violation_fields(), ["id", "display_name", "spec"]);
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
    assert_eq!(mistyped.violation_fields(), ["profileTemplate.labels"]);

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
    let gateway = gateway(&[]).await;
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
    let gateway = gateway(&[]).await;
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
    assert_eq!(bad_token.violation_fields(), ["page_token"]);
    let bad_size = list(&gateway, ADMIN, "?pageSize=many").await;
    assert_eq!(bad_size.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_size.violation_fields(), ["pageSize"]);
}

#[tokio::test]
async fn health_answers_and_unknown_api_routes_answer_a_status_body() {
    let gateway = gateway(&[]).await;
    let health = reqwest::get(format!("{}/healthz", gateway.url))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");
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
    let gateway = gateway(&[]).await;
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
    std::fs::write(
        dist.path().join("profiles.html"),
        "<!DOCTYPE html><title>editor</title>",
    )
    .unwrap();
    std::fs::write(
        dist.path().join("runner-admin.html"),
        "<!DOCTYPE html><title>admin</title>",
    )
    .unwrap();
    std::fs::write(
        dist.path().join("placement.html"),
        "<!DOCTYPE html><title>placement</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "export {};").unwrap();
    // What crates/precompress writes beside a bundle file (the server does not look
    // inside).
    std::fs::write(dist.path().join("app_bg.wasm"), "wasm").unwrap();
    std::fs::write(dist.path().join("app_bg.wasm.gz"), "gzipped wasm").unwrap();
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

    let page = get("/sign-in?next=/runners").await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert_eq!(
        page.text().await.unwrap(),
        "<!DOCTYPE html><title>console</title>"
    );
    let runners = get("/runners?zone=us-east").await.unwrap();
    assert_eq!(
        runners.text().await.unwrap(),
        "<!DOCTYPE html><title>placement</title>"
    );
    let runner = get("/runners/gpu-east").await.unwrap();
    assert_eq!(
        runner.text().await.unwrap(),
        "<!DOCTYPE html><title>placement</title>"
    );
    // The profile editor is a page of its own (sandbox_api::console_pages).
    let editor = get("/profiles/agent-allowlist").await.unwrap();
    assert_eq!(editor.status(), StatusCode::OK);
    assert_eq!(
        editor.text().await.unwrap(),
        "<!DOCTYPE html><title>editor</title>"
    );
    let admin = get("/managed-runners/gpu-east").await.unwrap();
    assert_eq!(
        admin.text().await.unwrap(),
        "<!DOCTYPE html><title>admin</title>"
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
    let client = reqwest::Client::new();
    let wasm = |encoding: &'static str| {
        client
            .get(format!("{}/app_bg.wasm", gateway.url))
            .header("accept-encoding", encoding)
            .send()
    };
    let precompressed = wasm("gzip, deflate, br").await.unwrap();
    assert_eq!(precompressed.headers()["content-encoding"], "gzip");
    assert_eq!(precompressed.headers()["vary"], "accept-encoding");
    assert_eq!(precompressed.text().await.unwrap(), "gzipped wasm");
    let plain = wasm("identity").await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.unwrap(), "wasm");
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

#[tokio::test]
async fn a_template_is_read_by_id_or_name_and_updated_by_mask_with_its_etag() {
    let gateway = gateway(&[]).await;
    let created = create(
        &gateway,
        ADMIN,
        json!({"displayName": "agent", "description": "old", "labels": {"a": "1"}, "spec": {}}),
    )
    .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let etag = created.body["etag"].as_str().unwrap().to_owned();
    assert_eq!(
        get(
            &gateway,
            &format!("/v1beta2/sandbox/profile-templates/{id}"),
            USER
        )
        .await
        .body,
        created.body
    );
    assert_eq!(
        get(&gateway, "/v1beta2/sandbox/profile-templates/agent", USER)
            .await
            .body,
        created.body
    );

    let patch = json!({"profileTemplate": {"description": "new", "labels": {}, "spec": {"runtimeClass": "gvisor"}}});
    let updated = call_with_headers(
        &gateway,
        reqwest::Method::PATCH,
        "/v1beta2/sandbox/profile-templates/agent?updateMask=description,spec",
        Some(ADMIN),
        Some(patch.clone()),
        &[("If-Match", &format!("\"{etag}\""))],
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["description"], "new");
    assert_eq!(
        updated.body["labels"],
        json!({"a": "1"}),
        "labels were not in the mask"
    );
    assert_eq!(updated.body["spec"]["runtimeClass"], "gvisor");
    assert_ne!(updated.body["etag"], etag);

    // The first etag is stale now, in the header or in the body: refused, nothing written.
    let mut stale_body = patch.clone();
    stale_body["profileTemplate"]["etag"] = json!(etag);
    stale_body["profileTemplate"]["description"] = json!("lost");
    let stale = call(
        &gateway,
        reqwest::Method::PATCH,
        "/v1beta2/sandbox/profile-templates/agent?updateMask=description",
        Some(ADMIN),
        Some(stale_body),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.reason(), Some("CWSANDBOX_STALE_ETAG"));
    assert_eq!(
        get(&gateway, "/v1beta2/sandbox/profile-templates/agent", ADMIN)
            .await
            .body["description"],
        "new"
    );

    let renamed = call(
        &gateway,
        reqwest::Method::PATCH,
        "/v1beta2/sandbox/profile-templates/agent?updateMask=description",
        Some(ADMIN),
        Some(json!({"profileTemplate": {"displayName": "other", "description": "x"}})),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST);
    assert_eq!(renamed.violation_fields(), ["display_name"]);
    let bad_mask = call(
        &gateway,
        reqwest::Method::PATCH,
        "/v1beta2/sandbox/profile-templates/agent?updateMask=etag",
        Some(ADMIN),
        Some(patch),
    )
    .await;
    assert_eq!(bad_mask.violation_fields(), ["update_mask"]);
    let bad_spec = call(
        &gateway,
        reqwest::Method::PATCH,
        "/v1beta2/sandbox/profile-templates/agent?updateMask=spec",
        Some(ADMIN),
        Some(json!({"profileTemplate": {"spec": {"networkConfigJson": "{\"egress\":{\"default\":\"x\"}}"}}})),
    )
    .await;
    assert_eq!(bad_spec.violation_fields(), ["spec.network.egress.default"]);
    assert_eq!(
        get(&gateway, "/v1beta2/sandbox/profile-templates/agent", ADMIN)
            .await
            .body["spec"]["runtimeClass"],
        "gvisor"
    );
    assert_eq!(
        get(&gateway, "/v1beta2/sandbox/profile-templates/nope", ADMIN)
            .await
            .reason(),
        Some("CWSANDBOX_PROFILE_NOT_FOUND")
    );
}

#[tokio::test]
async fn spec_rules_are_enforced_with_yaml_form_paths() {
    let gateway = gateway(&[]).await;
    let rejected = create(
        &gateway,
        ADMIN,
        json!({"displayName": "bad", "spec": {
            "resourceDefaults": {"cpuRequest": "4", "cpuLimit": "2"},
            "namespaceConfigJson": "{\"strategy\":\"static\"}",
            "networkConfigJson": "{\"egress\":{\"default\":\"a\",\"modes\":{\"a\":{\"type\":\"allowlist\",\"cidrs\":[\"10.0.0.1/8\"]}}}}"
        }}),
    )
    .await;
    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        rejected.violation_fields(),
        [
            "spec.resource_defaults.cpuRequest",
            "spec.namespace.staticNamespace",
            "spec.network.egress.modes.a.cidrs[0]"
        ]
    );
}

#[tokio::test]
async fn the_demo_serves_an_embedding_host_page_that_hands_over_the_user_token() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    let console = dist.path().to_string_lossy().to_string();
    let gateway = Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_sandbox-gateway")),
        &["--demo", "--console-dir", &console],
    )
    .await
    .expect("gateway starts");
    let user = gateway
        .startup_output()
        .iter()
        .find_map(|line| {
            line.split_once("(SANDBOX_USER):")
                .map(|(_, t)| t.trim().to_owned())
        })
        .expect("a user token");
    let page = reqwest::get(format!("{}/embed-demo.html", gateway.url))
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self' 'wasm-unsafe-eval'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"src="/runners?embed=1""#), "{html}");
    let script = reqwest::get(format!("{}/embed-demo.js", gateway.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !script.contains(&user),
        "the script never holds the token: any page can include a script"
    );
    assert!(script.contains("/embed-demo/token"), "{script}");
    // The page's own fetch gets it; anything a browser marks otherwise does not.
    let token_answer = |headers: &'static [(&'static str, &'static str)]| {
        let url = format!("{}/embed-demo/token", gateway.url);
        async move {
            let mut request = reqwest::Client::new().get(url);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, body) = token_answer(&[
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-dest", "empty"),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(&user), "{body}");
    for refused in [
        &[][..],
        &[
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-dest", "empty"),
        ][..],
        &[("sec-fetch-site", "same-site"), ("sec-fetch-dest", "empty")][..],
        &[
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-dest", "script"),
        ][..],
        &[
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-dest", "empty"),
            ("origin", "http://attacker.example"),
        ][..],
    ] {
        let (status, body) = token_answer(refused).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused:?}: {body}");
        assert!(!body.contains(&user), "{body}");
        let status_body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(status_body["code"], 7, "{body}");
    }
    let config: Value = reqwest::get(format!("{}/config.json", gateway.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        config["embedAllowedOrigins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == gateway.url.as_str()),
        "{config}"
    );

    // With tokens given on the command line there is no demo token to hand over.
    let without = Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_sandbox-gateway")),
        &[
            "--demo",
            "--console-dir",
            &console,
            "--token",
            &format!("acme:SANDBOX_ADMIN:{ADMIN}"),
        ],
    )
    .await
    .expect("gateway starts");
    let missing = reqwest::get(format!("{}/embed-demo.js", without.url))
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // Like any path that could be a console route, it gets the console's page.
    let no_token = reqwest::Client::new()
        .get(format!("{}/embed-demo/token", without.url))
        .header("sec-fetch-site", "same-origin")
        .header("sec-fetch-dest", "empty")
        .send()
        .await
        .unwrap();
    assert!(
        no_token.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        no_token.headers()
    );
}
