//! A large fleet created through the real API, for the benchmarks: three profile
//! templates and `count` runners binding all three, each with an in-process agent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::gateway::Gateway;

/// How many runners the benchmarks use: the scale the discovery issue asks for.
pub const LARGE_FLEET: usize = 10_000;

/// Creates `count` runners (`runner-00000`…, groups `group-0`…`group-12`, zones
/// `zone-0`…`zone-6`) and waits until every one is healthy.
pub async fn create_runners(
    client: &reqwest::Client,
    gateway: &Gateway,
    admin_token: &str,
    count: usize,
) -> anyhow::Result<()> {
    let mut templates = Vec::new();
    for (name, mode) in [
        ("web", "internet"),
        ("org-only", "org"),
        ("offline", "none"),
    ] {
        let network =
            json!({"egress": {"default": mode, "modes": {mode: {"type": mode}}}}).to_string();
        let body = json!({"profileTemplate": {"displayName": name, "spec": {
            "resourceDefaults": {"cpuRequest": "250m", "memoryRequest": "64Mi"},
            "networkConfigJson": network}}});
        let response = client
            .post(format!("{}/v1beta2/sandbox/profile-templates", gateway.url))
            .bearer_auth(admin_token)
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "creating a template: {}",
            response.text().await?
        );
        let created: Value = response.json().await?;
        templates.push(created["id"].as_str().unwrap_or_default().to_owned());
    }
    let templates = Arc::new(templates);
    futures_util::stream::iter(0..count)
        .map(|i| {
            let (client, templates) = (client.clone(), templates.clone());
            let url = format!("{}/v1beta2/sandbox/managed-runners", gateway.url);
            async move {
                let bindings: Vec<Value> = templates
                    .iter()
                    .enumerate()
                    .map(|(b, id)| json!({"profileTemplateId": id, "isDefault": b == i % 3}))
                    .collect();
                let body = json!({"runnerId": format!("runner-{i:05}"), "runner": {
                    "identity": {"zone": format!("zone-{}", i % 7), "clusterName": format!("cluster-{i}"), "runnerGroupId": format!("group-{}", i % 13)},
                    "profileBindings": bindings}});
                let response = client.post(url).bearer_auth(admin_token).json(&body).send().await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "creating a runner: {}",
                    response.text().await?
                );
                Ok(())
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<anyhow::Result<()>>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<()>>()?;
    crate::eventually(
        &format!("{count} healthy runners"),
        Duration::from_secs(300),
        || async {
            let healthy = count_healthy(client, gateway, admin_token).await?;
            Ok((healthy == count).then_some(()))
        },
    )
    .await
}

async fn count_healthy(
    client: &reqwest::Client,
    gateway: &Gateway,
    token: &str,
) -> anyhow::Result<usize> {
    let (mut count, mut page_token) = (0, String::new());
    let started = Instant::now();
    loop {
        let page: Value = client
            .get(format!("{}/v1beta2/runners", gateway.url))
            .query(&[
                ("healthyOnly", "true"),
                ("pageSize", "1000"),
                ("pageToken", &page_token),
            ])
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        count += page["runners"].as_array().map_or(0, Vec::len);
        page_token = page["nextPageToken"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if page_token.is_empty() {
            return Ok(count);
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "paging through the runners took over a minute"
        );
    }
}
