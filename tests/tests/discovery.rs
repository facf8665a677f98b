//! Discovery views in headless Chromium against the demo fleet: filters in the URL,
//! capacity as the API reports it, role awareness.

use std::time::Duration;

use fantoccini::Locator;
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{ADMIN, USER, demo_gateway, sign_in};
use sandbox_e2e::eventually;
use serde_json::Value;

/// The runner IDs in the table, in order.
async fn runner_rows(page: &Page<'_>) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    for cell in page
        .0
        .find_all(Locator::Css("table.runners tbody th"))
        .await?
    {
        ids.push(cell.text().await?);
    }
    Ok(ids)
}

async fn rows_become(page: &Page<'_>, expected: &[&str]) -> anyhow::Result<()> {
    eventually(
        &format!("the runners {expected:?}"),
        Duration::from_secs(15),
        || async {
            let rows = runner_rows(page).await?;
            Ok((rows == expected).then_some(()))
        },
    )
    .await
}

#[tokio::test]
async fn filters_narrow_the_runners_live_in_the_url_and_survive_a_reload() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    with_browser("discovery-filters", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/runners", gateway.url), USER).await?;
        rows_become(&page, &["arm-central", "cpu-west", "gpu-east"]).await?;
        save_screenshot(&client, "runners").await?;

        page.field_in("Filters", "GPU type")
            .await?
            .send_keys("H100")
            .await?;
        rows_become(&page, &["gpu-east"]).await?;
        page.at("/runners?gpuType=H100&sort=runner").await?;
        client
            .find(Locator::Css(
                "button[aria-label='Remove filter GPU type: H100']",
            ))
            .await?
            .click()
            .await?;
        page.field_in("Filters", "Architecture")
            .await?
            .send_keys("arm64")
            .await?;
        rows_become(&page, &["arm-central"]).await?;
        page.field_in("Filters", "Egress mode")
            .await?
            .send_keys("allowlist")
            .await?;
        rows_become(&page, &[]).await?;
        page.text_containing(".empty-state", "No runner matches these filters")
            .await?;

        client.refresh().await?;
        page.text_containing(".empty-state", "No runner matches these filters")
            .await?;
        let chips = page.text_containing(".filter-chips", "Egress").await?;
        assert!(chips.contains("Architecture: arm64"), "{chips}");
        client
            .find(Locator::Css(
                "button[aria-label='Remove filter Egress mode: allowlist']",
            ))
            .await?
            .click()
            .await?;
        rows_become(&page, &["arm-central"]).await?;
        save_screenshot(&client, "runners-filtered").await?;

        // Sorting by free GPUs, most first, is a link that keeps the filter.
        client
            .find(Locator::Css(
                "button[aria-label='Remove filter Architecture: arm64']",
            ))
            .await?
            .click()
            .await?;
        rows_become(&page, &["arm-central", "cpu-west", "gpu-east"]).await?;
        client
            .find(Locator::LinkText("GPUs"))
            .await?
            .click()
            .await?;
        client
            .find(Locator::LinkText("GPUs"))
            .await?
            .click()
            .await?;
        rows_become(&page, &["gpu-east", "arm-central", "cpu-west"]).await?;
        page.at("/runners?sort=-gpus").await?;
        Ok(())
    })
    .await
}

/// The suggestions a filter field offers once focused, as `value (label)`.
async fn suggestions(page: &Page<'_>, field: &str) -> anyhow::Result<Vec<String>> {
    page.field_in("Filters", field).await?.click().await?;
    eventually(
        &format!("suggestions for {field}"),
        Duration::from_secs(10),
        || async {
            let found = page
                .script(&format!(
                    "const input = [...document.querySelectorAll('.filters label')]
                       .find((l) => l.textContent === '{field}').control;
                     return [...input.list.options].map((o) => o.value + ' (' + o.label + ')');"
                ))
                .await?;
            let found: Vec<String> = serde_json::from_value(found)?;
            Ok((!found.is_empty()).then_some(found))
        },
    )
    .await
}

#[tokio::test]
async fn filters_suggest_what_the_fleet_holds_with_counts_and_ignore_case() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    with_browser("discovery-suggestions", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/runners", gateway.url), USER).await?;
        rows_become(&page, &["arm-central", "cpu-west", "gpu-east"]).await?;
        assert_eq!(
            suggestions(&page, "Runner group").await?,
            ["cpu (1 runner)", "gpu (1 runner)", "mixed (1 runner)"]
        );
        // Each count is taken under the other filters: with arm64 chosen, only the
        // runner that has it counts (its untrusted-code binding is named
        // sandboxed-python there).
        page.field_in("Filters", "Architecture")
            .await?
            .send_keys("ARM64")
            .await?;
        rows_become(&page, &["arm-central"]).await?;
        assert_eq!(
            suggestions(&page, "Profile").await?,
            [
                "ci-ephemeral (1 runner)",
                "gpu-workbench (1 runner)",
                "sandboxed-python (1 runner)"
            ]
        );
        client
            .find(Locator::Css(
                "button[aria-label='Remove filter Architecture: ARM64']",
            ))
            .await?
            .click()
            .await?;
        // Names match without regard to case, as GPU types always did.
        page.field_in("Filters", "Runner group")
            .await?
            .send_keys("GPU")
            .await?;
        rows_become(&page, &["gpu-east"]).await?;
        // A chip says its value in the unit of its field.
        page.field_in("Filters", "Min free memory (GiB)")
            .await?
            .send_keys("200")
            .await?;
        page.text_containing(".filter-chips", "Min free memory: 200 GiB")
            .await?;
        page.at("/runners?runnerGroupId=GPU&minAvailableMemoryBytes=214748364800&sort=runner")
            .await?;
        save_screenshot(&client, "runners-suggestions").await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn capacity_bars_show_the_numbers_the_api_reports() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let api: Value = reqwest::Client::new()
        .get(format!("{}/v1beta2/runners/gpu-east", gateway.url))
        .bearer_auth(USER)
        .send()
        .await?
        .json()
        .await?;
    let free_cpu = api["resources"]["availableCpuMillicores"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let max_cpu = api["capabilities"]["maxCpuMillicores"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    with_browser("capacity", |client| async move {
        let page = Page(&client);
        sign_in(
            &page,
            &format!("{}/runners?gpuType=H100", gateway.url),
            USER,
        )
        .await?;
        rows_become(&page, &["gpu-east"]).await?;
        let meter = client
            .find(Locator::Css(
                "table.runners tbody [role=meter][aria-label='CPU free']",
            ))
            .await?;
        assert_eq!(
            meter.attr("aria-valuenow").await?.unwrap_or_default(),
            free_cpu
        );
        assert_eq!(
            meter.attr("aria-valuemax").await?.unwrap_or_default(),
            max_cpu
        );
        // The cell says what is free; the tooltip and screen readers get both numbers.
        assert_eq!(meter.text().await?, "96.0 vCPU free");
        assert_eq!(
            meter.attr("aria-valuetext").await?.unwrap_or_default(),
            "96.0 vCPU of 96.0 vCPU free"
        );
        let gpus = client
            .find(Locator::Css(
                "table.runners tbody [role=meter][aria-label='GPUs free']",
            ))
            .await?;
        assert_eq!(gpus.text().await?, "8 free");
        assert_eq!(gpus.attr("title").await?.unwrap_or_default(), "8 of 8 free");

        client
            .find(Locator::LinkText("gpu-east"))
            .await?
            .click()
            .await?;
        page.at("/runners/gpu-east").await?;
        let capacity = page.text_containing(".cards", "declared").await?;
        assert!(capacity.contains("H100"), "{capacity}");
        let install = page.text_containing(".install-status", "Ready").await?;
        assert_eq!(install.trim(), "Ready");
        page.text_containing("main", "gpu-workbench").await?;
        save_screenshot(&client, "runner-detail").await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn the_shell_says_which_role_the_token_has() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    with_browser("roles", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/runners", gateway.url), USER).await?;
        page.text_containing(".topbar .role", "Developer").await?;
        page.button("Sign out").await?.click().await?;
        page.field("Bearer token").await?.send_keys(ADMIN).await?;
        // Every answer the sign-in gets is recorded: learning the role must not take a
        // failed request (each one is an error in the browser's console).
        page.script(
            "const fetch = window.fetch;
             window.fetch = async (...args) => {
               const answer = await fetch(...args);
               const seen = JSON.parse(sessionStorage.getItem('e2e-answers') || '[]');
               seen.push([args[0].method || 'GET', args[0].url || String(args[0]), answer.status]);
               sessionStorage.setItem('e2e-answers', JSON.stringify(seen));
               return answer;
             };",
        )
        .await?;
        page.button("Sign in").await?.click().await?;
        page.text_containing(".topbar .role", "Administrator")
            .await?;
        let answers = page
            .script("return JSON.parse(sessionStorage.getItem('e2e-answers') || '[]')")
            .await?;
        let answers = answers.as_array().cloned().unwrap_or_default();
        anyhow::ensure!(!answers.is_empty(), "the sign-in made no request");
        let failed: Vec<&Value> = answers
            .iter()
            .filter(|a| a[2].as_i64().is_none_or(|status| status >= 400))
            .collect();
        anyhow::ensure!(failed.is_empty(), "failed requests at sign-in: {failed:?}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn an_unreachable_gateway_is_shown_and_the_view_recovers_without_a_reload()
-> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let url = gateway.url.clone();
    let client_holder = std::sync::Arc::new(tokio::sync::Mutex::new(Some(gateway)));
    with_browser("unreachable", |client| {
        let holder = client_holder.clone();
        async move {
            let page = Page(&client);
            sign_in(&page, &format!("{url}/runners"), USER).await?;
            rows_become(&page, &["arm-central", "cpu-west", "gpu-east"]).await?;
            let paused = holder.lock().await.take().expect("running").pause().await?;
            // The next refresh finds nobody home.
            page.button("Refresh").await?.click().await?;
            page.text_containing("[role=alert]", "cannot be reached")
                .await?;
            save_screenshot(&client, "gateway-unreachable").await?;
            let gateway = paused.resume().await?;
            eventually("the banner to go", Duration::from_secs(20), || async {
                Ok(client
                    .find(Locator::Css(".banner.warning"))
                    .await
                    .is_err()
                    .then_some(()))
            })
            .await?;
            rows_become(&page, &["arm-central", "cpu-west", "gpu-east"]).await?;
            // The banner goes with the first answer; the rows are fresh once the
            // refresh after it has come back.
            eventually("the rows fresh again", Duration::from_secs(20), || async {
                Ok(client
                    .find(Locator::Css(".stale"))
                    .await
                    .is_err()
                    .then_some(()))
            })
            .await?;
            holder.lock().await.replace(gateway);
            Ok(())
        }
    })
    .await
}

/// The candidates a placement failure names, from the gateway's `ErrorInfo.metadata`.
fn rejected_candidates(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")
        .flat_map(|d| {
            d["metadata"]
                .as_object()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, _)| k)
        })
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn will_it_fit_agrees_with_what_starting_the_sandbox_does() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let url = gateway.url.clone();
    let api_url = gateway.url.clone();
    let start = move |body: Value| {
        let url = api_url.clone();
        async move {
            let response = reqwest::Client::new()
                .post(format!("{url}/v1beta2/sandboxes"))
                .bearer_auth(USER)
                .json(&body)
                .send()
                .await?;
            Ok::<_, anyhow::Error>((response.status(), response.json::<Value>().await?))
        }
    };
    with_browser("will-it-fit", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{url}/runners"), USER).await?;
        // The runners page links to "will it fit", a page of its own.
        page.wait_for(Locator::Css(".page-header a.button")).await?.click().await?;
        page.wait_for(Locator::Css(".will-it-fit form")).await?;
        page.field_in("Will it fit", "GPUs").await?.send_keys("2").await?;
        page.field_in("Will it fit", "GPU type").await?.send_keys("H100").await?;
        page.field_in("Will it fit", "Profile").await?.send_keys("gpu-workbench").await?;
        let verdict = page.text_containing(".will-it-fit .verdict", "Fits").await?;
        let preview_runner = client.find(Locator::Css(".fit-runner")).await?.text().await?;
        save_screenshot(&client, "will-it-fit").await?;
        let (status, started) = start(serde_json::json!({
            "command": "sleep", "args": ["30"], "containerImage": "ghcr.io/example/ds-workbench:2025.10",
            "profileNames": ["gpu-workbench"], "resources": {"gpu": {"gpuCount": "2", "gpuType": "H100"}}
        }))
        .await?;
        assert!(status.is_success(), "{started}");
        assert_eq!(started["runnerId"].as_str(), Some(preview_runner.as_str()), "{verdict}");

        page.field_in("Will it fit", "GPUs").await?.send_keys("0").await?;
        page.text_containing(".will-it-fit .verdict", "Does not fit").await?;
        let mut previewed = Vec::new();
        for item in client.find_all(Locator::Css(".rejections li strong")).await? {
            previewed.push(item.text().await?);
        }
        previewed.sort();
        let (status, refused) = start(serde_json::json!({
            "command": "sleep", "args": ["1"], "containerImage": "x",
            "profileNames": ["gpu-workbench"], "resources": {"gpu": {"gpuCount": "20", "gpuType": "H100"}}
        }))
        .await?;
        assert_eq!(status.as_u16(), 400, "{refused}");
        assert_eq!(refused["details"][0]["reason"], "CWSANDBOX_PROFILE_MISMATCH", "{refused}");
        assert_eq!(rejected_candidates(&refused), previewed);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn will_it_fit_never_answers_for_values_it_cannot_read() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    with_browser("will-it-fit-unreadable", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/will-it-fit", gateway.url), USER).await?;
        page.text_containing(".will-it-fit .verdict", "Fits")
            .await?;
        // Memory with a unit of its own is read as such: far more than any runner has.
        let memory = page.field_in("Will it fit", "Memory (GiB)").await?;
        memory.send_keys("2000Gi").await?;
        page.text_containing(".will-it-fit .verdict", "Does not fit")
            .await?;
        // What cannot be read is said once, and no verdict is given.
        memory.clear().await?;
        memory.send_keys("abc").await?;
        page.field_in("Will it fit", "GPUs")
            .await?
            .send_keys("1.5")
            .await?;
        let problems = page.text_containing(".ask-problems", "GPUs").await?;
        assert!(problems.contains("Memory: \"abc\""), "{problems}");
        assert!(problems.contains("GPUs: \"1.5\""), "{problems}");
        assert!(
            client
                .find_all(Locator::Css(".will-it-fit .verdict"))
                .await?
                .is_empty(),
            "a verdict beside unreadable values"
        );
        save_screenshot(&client, "will-it-fit-unreadable").await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn the_pages_have_no_accessibility_violations() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    with_browser("accessibility", |client| async move {
        let page = Page(&client);
        client.goto(&format!("{}/sign-in", gateway.url)).await?;
        page.field("Bearer token").await?;
        let mut found = Vec::new();
        for violation in page.accessibility_violations().await? {
            found.push(format!("/sign-in: {violation}"));
        }
        sign_in(&page, &format!("{}/runners", gateway.url), USER).await?;
        let demo_sandboxes: Value = reqwest::Client::new()
            .get(format!(
                "{}/v1beta2/sandboxes?includeStopped=true",
                gateway.url
            ))
            .bearer_auth(USER)
            .send()
            .await?
            .json()
            .await?;
        let sandbox = demo_sandboxes["sandboxes"][0]["sandboxId"]
            .as_str()
            .unwrap_or_default();
        let sandbox_page = format!("/sandboxes/{sandbox}");
        for (path, ready) in [
            ("/overview", ".tiles"),
            ("/activity", ".history-entries"),
            ("/runners", "table.runners"),
            ("/availability", "table.data-table"),
            ("/runners/gpu-east", ".cards"),
            ("/will-it-fit", ".will-it-fit .verdict"),
            ("/profiles", "table.data-table"),
            ("/sandboxes?includeStopped=true", "table.sandboxes"),
            (sandbox_page.as_str(), ".log-line"),
            ("/sandboxes/new", ".fit-line .verdict"),
        ] {
            client.goto(&format!("{}{path}", gateway.url)).await?;
            page.wait_for(Locator::Css(ready)).await?;
            for violation in page.accessibility_violations().await? {
                found.push(format!("{path}: {violation}"));
            }
        }
        assert!(found.is_empty(), "axe-core found:\n{}", found.join("\n"));
        Ok(())
    })
    .await
}
