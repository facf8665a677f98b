//! Managed runners and bindings over real HTTP against a real gateway (SPEC §3.2).

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_runner_installs_connects_and_reports_its_bindings() {
    let gateway = gateway(&[]).await;
    let agent = create_template(&gateway, ADMIN, profile("agent", json!({}))).await;
    let ci = create_template(&gateway, ADMIN, profile("ci", json!({}))).await;
    let created = create_runner(
        &gateway,
        ADMIN,
        "east",
        json!([{"profileTemplateId": agent, "isDefault": true}, {"profileTemplateId": ci, "profileName": "ci-jobs"}]),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(
        created.body["installStatus"],
        "RUNNER_INSTALL_STATUS_PENDING"
    );
    assert_eq!(created.body["identity"]["runnerId"], "east");
    assert_eq!(created.body["targetRevision"], "1");
    let ready = wait_until_ready(&gateway, "east").await;
    assert_eq!(ready["activeRevision"], "1");
    assert!(ready.get("rolloutInProgress").is_none(), "{ready}");
    assert_eq!(ready["profileBindings"][1]["profileName"], "ci-jobs");
    let by_uuid = get(
        &gateway,
        &format!(
            "/v1beta2/sandbox/managed-runners/{}",
            created.body["id"].as_str().unwrap()
        ),
        USER,
    )
    .await;
    assert_eq!(by_uuid.body["identity"]["runnerId"], "east");
}

#[tokio::test]
async fn create_rules_answer_with_the_platform_messages() {
    let gateway = gateway(&[]).await;
    let agent = create_template(&gateway, ADMIN, profile("agent", json!({}))).await;
    let answer = post(
        &gateway,
        "/v1beta2/sandbox/managed-runners",
        ADMIN,
        json!({"runnerId": "r1", "runner": {"identity": {}, "profileBindings": [
            {"profileTemplateId": agent, "isDefault": true}, {"profileTemplateId": "no-such-template", "isDefault": true}]}}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.violation_messages(),
        [
            "runner.identity.zone is required",
            "runner.identity.cluster_id or cluster_name is required",
            "one or more profile_bindings reference a template that does not exist",
            "runner cannot have more than one default profile binding",
        ]
    );
    let none_default =
        create_runner(&gateway, ADMIN, "r2", json!([{"profileTemplateId": agent}])).await;
    assert_eq!(
        none_default.violation_messages(),
        ["runner must have exactly one default profile binding"]
    );
    let listed = get(&gateway, "/v1beta2/sandbox/managed-runners", ADMIN).await;
    assert_eq!(listed.body["runners"], json!([]), "nothing was persisted");

    assert_eq!(
        create_runner(
            &gateway,
            ADMIN,
            "r3",
            json!([{"profileTemplateId": agent, "isDefault": true}])
        )
        .await
        .status,
        StatusCode::OK
    );
    let same_cluster = post(
        &gateway,
        "/v1beta2/sandbox/managed-runners",
        ADMIN,
        json!({"runnerId": "r4", "runner": {"identity": {"zone": "z", "clusterName": "cluster-r3"},
            "profileBindings": [{"profileTemplateId": agent, "isDefault": true}]}}),
    )
    .await;
    assert_eq!(same_cluster.status, StatusCode::CONFLICT);
    assert_eq!(
        same_cluster.body["message"],
        "a managed runner already exists for this cluster"
    );
}

#[tokio::test]
async fn replacing_the_binding_list_is_atomic_and_rolls_out_a_new_revision() {
    let gateway = gateway(&[]).await;
    let a = create_template(&gateway, ADMIN, profile("a", json!({}))).await;
    let b = create_template(&gateway, ADMIN, profile("b", json!({}))).await;
    create_runner(
        &gateway,
        ADMIN,
        "r",
        json!([{"profileTemplateId": a, "isDefault": true}]),
    )
    .await;
    let ready = wait_until_ready(&gateway, "r").await;
    let etag = ready["etag"].as_str().unwrap().to_owned();

    let patch = |bindings: serde_json::Value| json!({"runner": {"profileBindings": bindings}});
    let rejected = call_with_headers(
        &gateway,
        Method::PATCH,
        "/v1beta2/sandbox/managed-runners/r?updateMask=profile_bindings",
        Some(ADMIN),
        Some(patch(json!([{"profileTemplateId": a, "isDefault": true}, {"profileTemplateId": b, "isDefault": true}]))),
        &[("If-Match", &etag)],
    )
    .await;
    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        rejected.violation_messages(),
        ["runner cannot have more than one default profile binding"]
    );

    let swapped = call_with_headers(
        &gateway,
        Method::PATCH,
        "/v1beta2/sandbox/managed-runners/r?updateMask=profileBindings",
        Some(ADMIN),
        Some(patch(json!([{"profileTemplateId": b, "isDefault": true}]))),
        &[("If-Match", &etag)],
    )
    .await;
    assert_eq!(swapped.status, StatusCode::OK, "{}", swapped.body);
    assert_eq!(
        swapped.body["profileBindings"],
        json!([{"profileTemplateId": b, "isDefault": true}])
    );
    assert_eq!(swapped.body["targetRevision"], "2");
    assert_eq!(swapped.body["rolloutInProgress"], true);
    wait_for(
        &gateway,
        "/v1beta2/sandbox/managed-runners/r",
        ADMIN,
        "the rollout",
        |r| r["activeRevision"] == "2",
    )
    .await;

    // The old etag is stale now: refused, and nothing changes.
    let stale = call_with_headers(
        &gateway,
        Method::PATCH,
        "/v1beta2/sandbox/managed-runners/r?updateMask=display_name",
        Some(ADMIN),
        Some(json!({"runner": {"displayName": "renamed"}})),
        &[("If-Match", &etag)],
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.body["message"]
            .as_str()
            .unwrap()
            .contains("etag is stale; reload and retry")
    );
    let unchanged = get(&gateway, "/v1beta2/sandbox/managed-runners/r", ADMIN).await;
    assert_eq!(unchanged.body["displayName"], "runner r");

    let read_only = call(
        &gateway,
        Method::PATCH,
        "/v1beta2/sandbox/managed-runners/r?updateMask=identity.cluster_name",
        Some(ADMIN),
        Some(json!({"runner": {}})),
    )
    .await;
    assert_eq!(read_only.status, StatusCode::BAD_REQUEST);
    assert_eq!(read_only.violation_fields(), ["update_mask"]);
}

#[tokio::test]
async fn a_template_cannot_be_deleted_while_bound_and_survives_its_runner() {
    let gateway = gateway(&[]).await;
    let a = create_template(&gateway, ADMIN, profile("a", json!({}))).await;
    create_runner(
        &gateway,
        ADMIN,
        "r1",
        json!([{"profileTemplateId": a, "isDefault": true}]),
    )
    .await;
    let refused = call(
        &gateway,
        Method::DELETE,
        "/v1beta2/sandbox/profile-templates/a",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.body["message"].as_str().unwrap().contains("r1"),
        "{}",
        refused.body
    );
    assert_eq!(refused.metadata()["runners"], "r1");

    let deleting = call(
        &gateway,
        Method::DELETE,
        "/v1beta2/sandbox/managed-runners/r1",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(deleting.status, StatusCode::OK);
    assert_eq!(
        deleting.body["installStatus"],
        "RUNNER_INSTALL_STATUS_DELETING"
    );
    wait_for(
        &gateway,
        "/v1beta2/sandbox/managed-runners/r1",
        ADMIN,
        "the runner to be gone",
        |body| body["code"] == 5,
    )
    .await;
    assert_eq!(
        get(&gateway, "/v1beta2/sandbox/profile-templates/a", ADMIN)
            .await
            .status,
        StatusCode::OK
    );
    let deleted = call(
        &gateway,
        Method::DELETE,
        &format!("/v1beta2/sandbox/profile-templates/{a}"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(
        get(&gateway, "/v1beta2/sandbox/profile-templates/a", ADMIN)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_unreachable_cluster_fails_its_install_with_hints() {
    let gateway = gateway(&[]).await;
    let a = create_template(&gateway, ADMIN, profile("a", json!({}))).await;
    post(
        &gateway,
        "/v1beta2/sandbox/managed-runners",
        ADMIN,
        json!({"runnerId": "lab", "runner": {"identity": {"zone": "z", "clusterId": "unreachable-lab"},
            "profileBindings": [{"profileTemplateId": a, "isDefault": true}]}}),
    )
    .await;
    let failed = wait_for(
        &gateway,
        "/v1beta2/sandbox/managed-runners/lab",
        ADMIN,
        "the install to fail",
        |r| r["installStatus"] == "RUNNER_INSTALL_STATUS_FAILED",
    )
    .await;
    assert_eq!(failed["installError"]["reason"], "CLUSTER_UNREACHABLE");
    assert!(
        !failed["installError"]["remediationHints"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        failed["connectionStatus"],
        "RUNNER_CONNECTION_STATUS_DISCONNECTED"
    );
}

#[tokio::test]
async fn rapid_runners_apply_an_update_until_revisions_meet() {
    let gateway = gateway(&[]).await;
    let a = create_template(&gateway, ADMIN, profile("a", json!({}))).await;
    post(
        &gateway,
        "/v1beta2/sandbox/managed-runners",
        ADMIN,
        json!({"runnerId": "rapid", "runner": {"identity": {"zone": "z", "clusterName": "c"},
            "managedSpec": {"releaseChannel": "RELEASE_CHANNEL_RAPID"},
            "profileBindings": [{"profileTemplateId": a, "isDefault": true}]}}),
    )
    .await;
    let ready = wait_until_ready(&gateway, "rapid").await;
    assert_eq!(ready["updateAvailable"], true);
    let applied = post(
        &gateway,
        "/v1beta2/sandbox/managed-runners/rapid:applyUpdate",
        ADMIN,
        json!({}),
    )
    .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.body);
    assert_eq!(applied.body["targetRevision"], "2");
    assert!(applied.body.get("updateAvailable").is_none());
    wait_for(
        &gateway,
        "/v1beta2/sandbox/managed-runners/rapid",
        ADMIN,
        "the update to roll out",
        |r| r["activeRevision"] == "2",
    )
    .await;
    let again = post(
        &gateway,
        "/v1beta2/sandbox/managed-runners/rapid:applyUpdate",
        ADMIN,
        json!({}),
    )
    .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn users_read_but_do_not_change_and_organizations_stay_apart() {
    let gateway = gateway(&[]).await;
    let a = create_template(&gateway, ADMIN, profile("a", json!({}))).await;
    assert_eq!(
        create_runner(
            &gateway,
            USER,
            "u",
            json!([{"profileTemplateId": a, "isDefault": true}])
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    create_runner(
        &gateway,
        ADMIN,
        "r",
        json!([{"profileTemplateId": a, "isDefault": true}]),
    )
    .await;
    assert_eq!(
        get(&gateway, "/v1beta2/sandbox/managed-runners/r", USER)
            .await
            .status,
        StatusCode::OK
    );
    for (method, path) in [
        (Method::DELETE, "/v1beta2/sandbox/managed-runners/r"),
        (Method::DELETE, "/v1beta2/sandbox/profile-templates/a"),
    ] {
        assert_eq!(
            call(&gateway, method, path, Some(USER), None).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let other = get(&gateway, "/v1beta2/sandbox/managed-runners/r", OTHER_ADMIN).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.reason(), Some("CWSANDBOX_RUNNER_NOT_FOUND"));
    assert_eq!(
        get(&gateway, "/v1beta2/sandbox/managed-runners", OTHER_ADMIN)
            .await
            .body["runners"],
        json!([])
    );
    assert_eq!(
        get(
            &gateway,
            "/v1beta2/sandbox/profile-templates/a",
            OTHER_ADMIN
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // An org cannot bind another org's template either.
    let foreign = create_runner(
        &gateway,
        OTHER_ADMIN,
        "x",
        json!([{"profileTemplateId": a, "isDefault": true}]),
    )
    .await;
    assert_eq!(
        foreign.violation_messages(),
        ["one or more profile_bindings reference a template that does not exist"]
    );
}

#[tokio::test]
async fn the_runner_list_filters_by_zone_and_connection() {
    let gateway = gateway(&[]).await;
    let a = create_template(&gateway, ADMIN, profile("a", json!({}))).await;
    create_runner(
        &gateway,
        ADMIN,
        "r1",
        json!([{"profileTemplateId": a, "isDefault": true}]),
    )
    .await;
    post(
        &gateway,
        "/v1beta2/sandbox/managed-runners",
        ADMIN,
        json!({"runnerId": "r2", "runner": {"identity": {"zone": "eu-1", "clusterName": "c2"},
            "profileBindings": [{"profileTemplateId": a, "isDefault": true}]}}),
    )
    .await;
    wait_until_ready(&gateway, "r1").await;
    wait_until_ready(&gateway, "r2").await;
    let ids = |answer: &Answer| -> Vec<String> {
        answer.body["runners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["identity"]["runnerId"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&get(&gateway, "/v1beta2/sandbox/managed-runners?zone=eu-1", USER).await),
        ["r2"]
    );
    assert_eq!(
        ids(&get(
            &gateway,
            "/v1beta2/sandbox/managed-runners?connectionStatus=RUNNER_CONNECTION_STATUS_CONNECTED",
            USER
        )
        .await),
        ["r1", "r2"]
    );
    assert_eq!(
        ids(&get(&gateway, "/v1beta2/sandbox/managed-runners?connectionStatus=RUNNER_CONNECTION_STATUS_DISCONNECTED", USER).await),
        Vec::<String>::new()
    );
    let page = get(
        &gateway,
        "/v1beta2/sandbox/managed-runners?pageSize=1",
        USER,
    )
    .await;
    assert_eq!(ids(&page), ["r1"]);
    let token = page.body["nextPageToken"].as_str().unwrap();
    assert_eq!(
        ids(&get(
            &gateway,
            &format!("/v1beta2/sandbox/managed-runners?pageSize=1&pageToken={token}"),
            USER
        )
        .await),
        ["r2"]
    );
}

#[tokio::test]
async fn overrides_that_break_a_rule_are_refused_at_their_field() {
    let gateway = gateway(&[]).await;
    let template = create_template(&gateway, ADMIN, profile("limited", json!({}))).await;
    let overrides = json!({"resourceDefaults": {"cpuRequest": "2", "cpuLimit": "1"}}).to_string();
    let refused = create_runner(
        &gateway,
        ADMIN,
        "r",
        json!([{"profileTemplateId": template, "isDefault": true, "overridesJson": overrides}]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(
        refused.violation_fields(),
        ["runner.profile_bindings[0].overrides_json.resource_defaults.cpuRequest"]
    );
    let missing = get(&gateway, "/v1beta2/sandbox/managed-runners/r", ADMIN).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "nothing was stored");
}
