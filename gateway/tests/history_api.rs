//! Each object's history over real HTTP (`GET /v1beta2/history`): every write path of
//! profile templates, runners (bindings included) and sandboxes records who, when and
//! what; refused writes record nothing; secrets never appear; one organization never
//! sees another's.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The history of `object_id` (all of it, newest first), as `token` reads it.
async fn history_of(gateway: &sandbox_e2e::gateway::Gateway, object_id: &str) -> Vec<Value> {
    let answer = get(
        gateway,
        &format!("/v1beta2/history?objectId={object_id}"),
        ADMIN,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

/// The change at `path` in `entry`.
fn change<'a>(entry: &'a Value, path: &str) -> &'a Value {
    entry["changes"]
        .as_array()
        .and_then(|changes| changes.iter().find(|c| c["path"] == path))
        .unwrap_or_else(|| panic!("no change at {path} in {entry}"))
}

const ADMIN_ACTOR: &str = r#"{"kind":"TOKEN","organizationId":"acme","role":"SANDBOX_ADMIN"}"#;

fn actor(entry: &Value) -> String {
    entry["actor"].to_string()
}

#[tokio::test]
async fn profile_template_writes_are_recorded_field_by_field() {
    let gateway = gateway(&[]).await;
    let id = create_template(&gateway, ADMIN, profile("agent", json!({}))).await;

    // A refused update (a bad quantity) records nothing.
    let refused = call(
        &gateway,
        Method::PATCH,
        &format!("/v1beta2/sandbox/profile-templates/{id}?updateMask=spec"),
        Some(ADMIN),
        Some(json!({"profileTemplate": {"spec": {"resourceDefaults": {"memoryLimit": "8Gx"}}}})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let updated = call(
        &gateway,
        Method::PATCH,
        &format!("/v1beta2/sandbox/profile-templates/{id}?updateMask=description,spec"),
        Some(ADMIN),
        Some(
            json!({"profileTemplate": {"description": "for agents", "spec": {
                "resourceDefaults": {"cpuRequest": "500m", "memoryRequest": "512Mi"},
                "networkConfigJson": "{}"
            }}}),
        ),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let deleted = call(
        &gateway,
        Method::DELETE,
        &format!("/v1beta2/sandbox/profile-templates/{id}"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);

    let entries = history_of(&gateway, &id).await;
    assert_eq!(actions(&entries), ["DELETED", "UPDATED", "CREATED"]);
    for entry in &entries {
        assert_eq!(entry["objectKind"], "PROFILE_TEMPLATE");
        assert_eq!(entry["objectName"], "agent");
        assert_eq!(actor(entry), ADMIN_ACTOR);
        assert!(entry["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
    let update = &entries[1];
    assert_eq!(
        change(update, "spec.resourceDefaults.memoryRequest"),
        &json!({"path": "spec.resourceDefaults.memoryRequest", "before": "256Mi", "after": "512Mi"})
    );
    assert_eq!(change(update, "description")["after"], "for agents");
    assert_eq!(
        update["changes"].as_array().unwrap().len(),
        2,
        "only what changed (no etag or update time): {update}"
    );
    assert_eq!(
        change(&entries[2], "spec.resourceDefaults.cpuRequest")["after"],
        "500m"
    );
    // Ids increase, newest first.
    let ids: Vec<u64> = entries
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");

    // Another organization sees none of it.
    let other = get(&gateway, "/v1beta2/history", OTHER_ADMIN).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.body, json!({"entries": []}));
}

#[tokio::test]
async fn runner_and_binding_changes_are_recorded() {
    let gateway = gateway(&[]).await;
    let a = create_template(&gateway, ADMIN, profile("a", json!({}))).await;
    let b = create_template(&gateway, ADMIN, profile("b", json!({}))).await;
    let created = create_runner(
        &gateway,
        ADMIN,
        "r",
        json!([{"profileTemplateId": a, "isDefault": true}, {"profileTemplateId": b}]),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let uuid = created.body["id"].as_str().unwrap().to_owned();
    let ready = wait_until_ready(&gateway, "r").await;

    // The default moves from a to b.
    let swapped = call_with_headers(
        &gateway,
        Method::PATCH,
        "/v1beta2/sandbox/managed-runners/r?updateMask=profileBindings",
        Some(ADMIN),
        Some(json!({"runner": {"profileBindings": [
            {"profileTemplateId": a}, {"profileTemplateId": b, "isDefault": true}
        ]}})),
        &[("If-Match", ready["etag"].as_str().unwrap())],
    )
    .await;
    assert_eq!(swapped.status, StatusCode::OK, "{}", swapped.body);
    // A refused one (two defaults) records nothing.
    let refused = call(
        &gateway,
        Method::PATCH,
        "/v1beta2/sandbox/managed-runners/r?updateMask=profileBindings",
        Some(ADMIN),
        Some(json!({"runner": {"profileBindings": [
            {"profileTemplateId": a, "isDefault": true}, {"profileTemplateId": b, "isDefault": true}
        ]}})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let deleted = call(
        &gateway,
        Method::DELETE,
        "/v1beta2/sandbox/managed-runners/r",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);

    let entries = history_of(&gateway, &uuid).await;
    assert_eq!(actions(&entries), ["DELETED", "UPDATED", "CREATED"]);
    assert!(
        entries.iter().all(|e| e["objectName"] == "r"
            && e["objectKind"] == "RUNNER"
            && actor(e) == ADMIN_ACTOR)
    );
    let update = &entries[1];
    assert_eq!(
        change(update, "profileBindings[a].isDefault"),
        &json!({"path": "profileBindings[a].isDefault", "before": true})
    );
    assert_eq!(
        change(update, "profileBindings[b].isDefault"),
        &json!({"path": "profileBindings[b].isDefault", "after": true})
    );
    assert_eq!(
        change(update, "targetRevision")["after"],
        "2",
        "int64 as JSON says"
    );
    let paths: Vec<&str> = update["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert!(
        !paths.iter().any(|p| p.contains("install") || *p == "etag"),
        "what the platform changes is not the administrator's: {paths:?}"
    );
    assert_eq!(
        change(&entries[2], "identity.zone")["after"],
        "us-test-1a",
        "a created runner lists what it was created with"
    );

    // The organization's history: every object, filters by kind and action.
    let runners_only = get(&gateway, "/v1beta2/history?objectKind=runner", ADMIN).await;
    assert_eq!(
        actions(runners_only.body["entries"].as_array().unwrap()).len(),
        3
    );
    let created_only = get(&gateway, "/v1beta2/history?action=CREATED", ADMIN).await;
    assert_eq!(
        created_only.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["objectName"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["r", "b", "a"]
    );
    let bad = get(
        &gateway,
        "/v1beta2/history?objectKind=cluster&action=x",
        ADMIN,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.violation_fields(),
        ["object_kind", "action"],
        "{}",
        bad.body
    );
}

#[tokio::test]
async fn sandbox_lifecycles_are_recorded_and_secrets_never_are() {
    let gateway = gateway(&[]).await;
    runner_with_profiles(&gateway, "local", &[("web", internet_network())]).await;
    wait_until_ready(&gateway, "local").await;
    let request = with(
        shell("sleep 600"),
        json!({
            "environmentVariables": {"API_TOKEN": "hunter2-very-secret"},
            "mountedFiles": [{"mountPath": "/etc/app/key", "fileContent": "c2VjcmV0LWZpbGUtY29udGVudA=="}]
        }),
    );
    let started = post(&gateway, "/v1beta2/sandboxes", USER, request).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let id = started.body["sandboxId"].as_str().unwrap().to_owned();
    wait_status(&gateway, &id, false).await;
    let stopped = post(
        &gateway,
        &format!("/v1beta2/sandboxes/{id}/stop"),
        USER,
        json!({"gracefulShutdownSeconds": 2}),
    )
    .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    wait_status(&gateway, &id, true).await;
    let deleted = call(
        &gateway,
        Method::DELETE,
        &format!("/v1beta2/sandboxes/{id}"),
        Some(USER),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);

    let entries = history_of(&gateway, &id).await;
    assert_eq!(
        actions(&entries),
        [
            "DELETED",
            "STATUS_CHANGED",
            "STOP_REQUESTED",
            "STATUS_CHANGED",
            "CREATED"
        ]
    );
    let user = r#"{"kind":"TOKEN","organizationId":"acme","role":"SANDBOX_USER"}"#;
    let gateway_actor = r#"{"kind":"GATEWAY"}"#;
    let who: Vec<String> = entries.iter().map(actor).collect();
    assert_eq!(who, [user, gateway_actor, user, gateway_actor, user]);
    assert!(entries.iter().all(|e| e["objectName"] == "sh -c sleep 600"));

    let created = &entries[4];
    assert_eq!(change(created, "command")["after"], "sh");
    assert_eq!(change(created, "runnerId")["after"], "local");
    assert_eq!(
        change(created, "environmentVariables.API_TOKEN"),
        &json!({"path": "environmentVariables.API_TOKEN", "redacted": true})
    );
    assert_eq!(
        change(created, "mountedFiles[/etc/app/key].fileContent")["redacted"],
        true
    );
    assert_eq!(
        change(&entries[3], "status"),
        &json!({"path": "status", "before": "SANDBOX_STATUS_CREATING", "after": "SANDBOX_STATUS_RUNNING"})
    );
    assert_eq!(
        change(&entries[2], "status")["after"],
        "SANDBOX_STATUS_TERMINATING"
    );
    assert_eq!(
        change(&entries[2], "statusReason")["after"],
        "stopping (grace period 2 s)"
    );
    assert_eq!(
        change(&entries[1], "status")["after"],
        "SANDBOX_STATUS_TERMINATED"
    );

    // Neither the value nor the file's content is anywhere in the history.
    let everything = get(&gateway, "/v1beta2/history?pageSize=100", ADMIN).await;
    let text = everything.body.to_string();
    for secret in [
        "hunter2",
        "c2VjcmV0LWZpbGUtY29udGVudA",
        "secret-file-content",
    ] {
        assert!(!text.contains(secret), "{secret} in the history");
    }

    // Paging: two at a time, newest first, all of them once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = get(
            &gateway,
            &format!("/v1beta2/history?objectId={id}&pageSize=2&pageToken={token}"),
            USER,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let entries = page.body["entries"].as_array().unwrap();
        assert!(entries.len() <= 2);
        seen.extend(entries.iter().map(|e| e["id"].clone()));
        match page.body["nextPageToken"].as_str() {
            Some(next) => token = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        seen,
        entries.iter().map(|e| e["id"].clone()).collect::<Vec<_>>()
    );
    let foreign = get(&gateway, "/v1beta2/history?pageToken=zz", USER).await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
}
