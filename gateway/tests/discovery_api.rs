//! Discovery over the demo fleet (SPEC §4): every filter narrows, filters combine with
//! AND, paging walks everything once.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

fn runner_ids(body: &Value) -> Vec<String> {
    body["runners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["runnerId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn runner_filters_narrow_and_combine() {
    let gateway = gateway(&["--demo"]).await;
    let list = |query: &'static str| {
        let gateway = &gateway;
        async move {
            let answer = get(gateway, &format!("/v1beta2/runners?{query}"), USER).await;
            assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.body);
            runner_ids(&answer.body)
        }
    };
    assert_eq!(
        list("").await,
        ["arm-central", "cpu-west", "gpu-east"],
        "installed runners only"
    );
    assert_eq!(list("gpuType=H100").await, ["gpu-east"]);
    assert_eq!(
        list("gpuType=a100").await,
        ["arm-central"],
        "GPU types compare without case"
    );
    assert_eq!(list("architecture=arm64").await, ["arm-central"]);
    assert_eq!(list("runnerGroupId=cpu").await, ["cpu-west"]);
    assert_eq!(list("profileName=sandboxed-python").await, ["arm-central"]);
    assert_eq!(list("minAvailableGpuCount=5").await, ["gpu-east"]);
    assert_eq!(
        list("minAvailableCpuMillicores=40000").await,
        ["arm-central", "gpu-east"]
    );
    assert_eq!(
        list("minAvailableMemoryBytes=500000000000").await,
        ["gpu-east"]
    );
    assert_eq!(list("egressMode=allowlist").await, ["cpu-west", "gpu-east"]);
    assert_eq!(list("ingressMode=public").await, ["cpu-west", "gpu-east"]);
    assert_eq!(
        list("egressMode=allowlist&architecture=amd64&gpuType=H100").await,
        ["gpu-east"]
    );
    assert_eq!(
        list("healthyOnly=true&minAvailableGpuCount=9").await,
        Vec::<String>::new()
    );

    let bad = get(&gateway, "/v1beta2/runners?minAvailableGpuCount=lots", USER).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.violation_fields(), ["minAvailableGpuCount"]);
}

#[tokio::test]
async fn the_full_view_shows_live_resources_and_declared_capacity() {
    let gateway = gateway(&["--demo"]).await;
    let basic = get(&gateway, "/v1beta2/runners?gpuType=H100", USER).await;
    assert!(
        basic.body["runners"][0].get("resources").is_none(),
        "{}",
        basic.body
    );
    let full = get(
        &gateway,
        "/v1beta2/runners?gpuType=H100&view=RUNNER_VIEW_FULL",
        USER,
    )
    .await;
    let runner = &full.body["runners"][0];
    assert_eq!(runner["capabilities"]["maxCpuMillicores"], "96000");
    assert_eq!(runner["capabilities"]["maxGpuCount"], "8");
    assert_eq!(runner["resources"]["availableGpuCount"], "8");
    assert!(
        runner["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "capacity:declared"),
        "{runner}"
    );
    let one = get(&gateway, "/v1beta2/runners/gpu-east", USER).await;
    assert_eq!(one.body["resources"], runner["resources"]);
    assert_eq!(
        get(&gateway, "/v1beta2/runners/nope", USER).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&gateway, "/v1beta2/runners", OTHER_ADMIN).await.body["runners"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn profiles_are_listed_once_per_binding_and_filtered() {
    let gateway = gateway(&["--demo"]).await;
    let pairs = |body: &Value| -> Vec<String> {
        body["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{}/{}",
                    p["runnerId"].as_str().unwrap(),
                    p["profileName"].as_str().unwrap()
                )
            })
            .collect()
    };
    let all = get(&gateway, "/v1beta2/profiles", USER).await;
    assert_eq!(pairs(&all.body).len(), 10, "{}", all.body);
    let internet = get(
        &gateway,
        "/v1beta2/profiles?egressMode=internet&runnerId=arm-central",
        USER,
    )
    .await;
    assert_eq!(
        pairs(&internet.body),
        ["arm-central/ci-ephemeral", "arm-central/gpu-workbench"]
    );
    let public = get(
        &gateway,
        "/v1beta2/profiles?ingressMode=public&gpuType=H100",
        USER,
    )
    .await;
    assert_eq!(pairs(&public.body), ["gpu-east/internal-worker"]);

    let mut walked = Vec::new();
    let mut token = String::new();
    loop {
        let page = get(
            &gateway,
            &format!("/v1beta2/profiles?pageSize=3&pageToken={token}"),
            USER,
        )
        .await;
        walked.extend(pairs(&page.body));
        token = page.body["nextPageToken"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(walked, pairs(&all.body));

    let one = get(
        &gateway,
        "/v1beta2/profiles/agent-allowlist?runnerId=cpu-west",
        USER,
    )
    .await;
    assert_eq!(
        one.body["egressModes"],
        serde_json::json!([{"name": "allowlist"}, {"name": "deny-all"}])
    );
    assert_eq!(
        get(&gateway, "/v1beta2/profiles/nope", USER).await.reason(),
        Some("CWSANDBOX_PROFILE_NOT_FOUND")
    );
}

#[tokio::test]
async fn discovery_reflects_every_change_at_once() {
    let gateway = gateway(&[]).await;
    let a = create_template(&gateway, ADMIN, profile("a", serde_json::json!({"egress": {"default": "web", "modes": {"web": {"type": "internet"}}}}))).await;
    let b = create_template(&gateway, ADMIN, profile("b", serde_json::json!({}))).await;
    create_runner(
        &gateway,
        ADMIN,
        "r",
        serde_json::json!([{"profileTemplateId": a, "isDefault": true}]),
    )
    .await;
    wait_until_ready(&gateway, "r").await;
    let names = |body: &Value| body["profileNames"].clone();
    assert_eq!(
        names(&get(&gateway, "/v1beta2/runners/r", USER).await.body),
        serde_json::json!(["a"])
    );

    // A binding change, an alias, then a template's network: each shows on the next read.
    let patched = call(
        &gateway,
        reqwest::Method::PATCH,
        "/v1beta2/sandbox/managed-runners/r?updateMask=profile_bindings",
        Some(ADMIN),
        Some(serde_json::json!({"runner": {"profileBindings": [
            {"profileTemplateId": a, "isDefault": true}, {"profileTemplateId": b, "profileName": "bee"}]}})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        names(&get(&gateway, "/v1beta2/runners/r", USER).await.body),
        serde_json::json!(["a", "bee"])
    );
    let offline =
        serde_json::json!({"egress": {"default": "none", "modes": {"none": {"type": "none"}}}})
            .to_string();
    let updated = call(
        &gateway,
        reqwest::Method::PATCH,
        "/v1beta2/sandbox/profile-templates/a?updateMask=spec",
        Some(ADMIN),
        Some(serde_json::json!({"profileTemplate": {"spec": {"networkConfigJson": offline}}})),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let profile = get(&gateway, "/v1beta2/profiles/a?runnerId=r", USER).await;
    assert_eq!(
        profile.body["egressModes"],
        serde_json::json!([{"name": "none"}])
    );
    assert_eq!(
        runner_ids(
            &get(&gateway, "/v1beta2/runners?egressMode=web", USER)
                .await
                .body
        ),
        Vec::<String>::new()
    );

    // Reservations are always current: a running sandbox takes its CPU at once.
    let before =
        get(&gateway, "/v1beta2/runners/r", USER).await.body["resources"]["availableCpuMillicores"]
            .clone();
    let started = post(&gateway, "/v1beta2/sandboxes", USER, serde_json::json!({"command": "sleep", "args": ["30"], "containerImage": "x", "resources": {"cpu": "1"}})).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let during =
        get(&gateway, "/v1beta2/runners/r", USER).await.body["resources"]["availableCpuMillicores"]
            .clone();
    assert_ne!(before, during);
}

#[tokio::test]
async fn page_tokens_stay_valid_while_runners_come_and_go() {
    let gateway = gateway(&[]).await;
    let template = create_template(&gateway, ADMIN, profile("p", serde_json::json!({}))).await;
    let bindings = serde_json::json!([{"profileTemplateId": template, "isDefault": true}]);
    for id in ["r-a", "r-b", "r-c", "r-d", "r-e"] {
        create_runner(&gateway, ADMIN, id, bindings.clone()).await;
    }
    for id in ["r-a", "r-b", "r-c", "r-d", "r-e"] {
        wait_until_ready(&gateway, id).await;
    }
    let page = |token: String| {
        let gateway = &gateway;
        async move {
            let answer = get(
                gateway,
                &format!("/v1beta2/runners?pageSize=2&pageToken={token}"),
                USER,
            )
            .await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            let next = answer.body["nextPageToken"].as_str().unwrap().to_owned();
            (runner_ids(&answer.body), next)
        }
    };
    let (first, token) = page(String::new()).await;
    assert_eq!(first, ["r-a", "r-b"]);

    // The last runner served is deleted, one sorting before the token and one after
    // it are created: the next page goes on after the token as if nothing happened.
    let deleted = call(
        &gateway,
        reqwest::Method::DELETE,
        "/v1beta2/sandbox/managed-runners/r-b",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    for id in ["r-aa", "r-bb"] {
        create_runner(&gateway, ADMIN, id, bindings.clone()).await;
        wait_until_ready(&gateway, id).await;
    }
    let mut rest = Vec::new();
    let mut token = token;
    while !token.is_empty() {
        let (ids, next) = page(token).await;
        rest.extend(ids);
        token = next;
    }
    assert_eq!(rest, ["r-bb", "r-c", "r-d", "r-e"]);
}
