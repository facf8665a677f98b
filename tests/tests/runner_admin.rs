//! Runner administration in the browser against the real gateway: the managed-runner
//! list with its URL filters and a failed install's hints; creating a runner (nothing
//! is sent without exactly one default, server violations land on their fields);
//! per-binding overrides as fields and YAML, round-tripped and shown as an effective
//! spec; deleting a runner, naming the sandbox that stops; rolling out a new profile
//! version runner by runner.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{ADMIN, demo_gateway, sign_in};
use sandbox_e2e::eventually;
use serde_json::{Value, json};

/// The button that opens the overrides of ci-ephemeral's binding.
const OVERRIDES_OF_CI: &str = "//button[contains(normalize-space(), 'overrides for ci-ephemeral')]";

/// `path` on the gateway, as the admin.
async fn api_get(http: &reqwest::Client, url: &str) -> anyhow::Result<(u16, Value)> {
    let response = http.get(url).bearer_auth(ADMIN).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// The ID of the profile template called `name`.
async fn template_id(http: &reqwest::Client, base: &str, name: &str) -> anyhow::Result<String> {
    let (_, list) = api_get(http, &format!("{base}/v1beta2/sandbox/profile-templates")).await?;
    list["profileTemplates"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["displayName"] == name)
        .and_then(|t| t["id"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no template {name}"))
}

/// Picks `option` in the `<select>` with id `select`.
async fn choose(client: &Client, select: &str, option: &str) -> anyhow::Result<()> {
    Page(client)
        .wait_for(Locator::XPath(&format!(
            "//select[@id='{select}']/option[normalize-space()='{option}']"
        )))
        .await?
        .click()
        .await?;
    Ok(())
}

/// The rows of the "what the overrides change" table, cells joined by `|`.
async fn change_rows(page: &Page<'_>) -> anyhow::Result<Vec<String>> {
    let rows = page
        .script("return [...document.querySelectorAll('.override-changes tbody tr')].map((r) => [...r.children].map((c) => c.textContent.trim()).join('|'))")
        .await?;
    Ok(serde_json::from_value(rows)?)
}

/// Types `text` into the field labelled `label`, replacing what it holds the way a
/// person does (select all, delete, type), so that every keystroke is an input event.
async fn fill(page: &Page<'_>, label: &str, text: &str) -> anyhow::Result<()> {
    let field = page.field(label).await?;
    let select_all = format!("{}a", char::from(Key::Control));
    field.send_keys(&select_all).await?;
    field
        .send_keys(&char::from(Key::Backspace).to_string())
        .await?;
    field.send_keys(text).await?;
    Ok(())
}

#[tokio::test]
async fn the_list_filters_in_the_url_and_shows_a_failed_install_with_its_hints()
-> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    with_browser("managed-runners-list", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/managed-runners", gateway.url), ADMIN).await?;
        page.text_containing("table.managed-runners", "gpu-east")
            .await?;
        // lab-north's cluster cannot be reached: its install fails, with what to do.
        let error = page
            .text_containing(".install-error-row", "The install of lab-north failed")
            .await?;
        assert!(error.contains("Reason:"), "{error}");
        let hints = client
            .find_all(Locator::Css(".install-error-row .violations li"))
            .await?;
        assert!(!hints.is_empty(), "no remediation hints");
        let ready = page
            .text_containing("table.managed-runners", "us-west-01b")
            .await?;
        assert!(ready.contains("update available"), "{ready}");
        // Filters go to the URL and narrow the list; a reload keeps them.
        choose(&client, "filter-connection", "Disconnected").await?;
        page.at("/managed-runners?connection=disconnected").await?;
        eventually("only lab-north", Duration::from_secs(10), || async {
            let text = client.find(Locator::Css("main")).await?.text().await?;
            Ok((text.contains("lab-north") && !text.contains("gpu-east")).then_some(()))
        })
        .await?;
        choose(&client, "filter-connection", "Any").await?;
        choose(&client, "filter-zone", "us-west-01b").await?;
        page.at("/managed-runners?zone=us-west-01b").await?;
        client.refresh().await?;
        eventually("only cpu-west", Duration::from_secs(10), || async {
            let text = client.find(Locator::Css("main")).await?.text().await?;
            Ok((text.contains("cpu-west") && !text.contains("gpu-east")).then_some(()))
        })
        .await?;
        save_screenshot(&client, "managed-runners").await?;
        let violations = page.accessibility_violations().await?;
        assert!(violations.is_empty(), "{violations:#?}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_runner_is_created_with_bindings_and_deleted_naming_its_sandboxes() -> anyhow::Result<()>
{
    let gateway = demo_gateway().await?;
    let http = reqwest::Client::new();
    let base = gateway.url.clone();
    let runner_url = format!("{base}/v1beta2/sandbox/managed-runners/e2e-new");
    // A profile that will be gone by the time the form is sent.
    let doomed = http
        .post(format!("{base}/v1beta2/sandbox/profile-templates"))
        .bearer_auth(ADMIN)
        .json(&json!({"profileTemplate": {"displayName": "short-lived", "spec": {"containerImage": "busybox:1.36"}}}))
        .send()
        .await?
        .json::<Value>()
        .await?;
    let doomed_id = doomed["id"].as_str().unwrap_or_default().to_owned();
    let url = base.clone();
    let http_in = http.clone();
    let runner_in = runner_url.clone();
    with_browser("create-runner", |client| async move {
        let (http, runner_url) = (http_in, runner_in);
        let page = Page(&client);
        sign_in(&page, &format!("{url}/managed-runners/new"), ADMIN).await?;
        fill(&page, "Runner ID", "e2e-new").await?;
        fill(&page, "Display name", "Created in a test").await?;
        fill(&page, "Zone", "us-test-01a").await?;
        fill(&page, "Cluster ID", "cluster-e2e-0001").await?;
        page.button("Add a window").await?.click().await?;
        let openings = page.text_containing(".openings", "UTC, for 2 h").await?;
        assert!(openings.starts_with("Sun "), "{openings}");
        fill(&page, "Starts (cron)", "0 3 * *").await?;
        // Bindings: the first added is the default; removing it leaves none.
        for profile in ["gpu-workbench", "ci-ephemeral"] {
            choose(&client, "binding-add", profile).await?;
            page.button("Add").await?.click().await?;
        }
        client
            .find(Locator::Css("button[aria-label='Remove gpu-workbench']"))
            .await?
            .click()
            .await?;
        page.button("Create runner").await?.click().await?;
        let problems = page
            .text_containing(
                "[aria-label='To fix before creating']",
                "exactly one default",
            )
            .await?;
        assert!(problems.contains("has 4 fields"), "{problems}");
        page.text_containing(".maintenance .field-error", "has 4 fields")
            .await?;
        // The keyboard is taken to the first field with a problem.
        eventually(
            "focus on the cron field",
            Duration::from_secs(5),
            || async {
                let focused = page.script("return document.activeElement.id").await?;
                Ok((focused == "window-cron-0").then_some(()))
            },
        )
        .await?;
        save_screenshot(&client, "create-runner-problems").await?;
        let violations = page.accessibility_violations().await?;
        assert!(violations.is_empty(), "{violations:#?}");
        let (status, _) = api_get(&http, &runner_url).await?;
        assert_eq!(status, 404, "a form with no default was sent");
        // Fix both; then the template goes away before the form is sent, and the
        // server's violation shows on the bindings.
        fill(&page, "Starts (cron)", "0 3 * * sun").await?;
        choose(&client, "binding-add", "short-lived").await?;
        page.button("Add").await?.click().await?;
        client
            .find(Locator::Css(
                "input[aria-label='ci-ephemeral is the default']",
            ))
            .await?
            .click()
            .await?;
        let deleted = http
            .delete(format!(
                "{url}/v1beta2/sandbox/profile-templates/{doomed_id}"
            ))
            .bearer_auth(ADMIN)
            .send()
            .await?;
        anyhow::ensure!(deleted.status().is_success(), "{}", deleted.text().await?);
        page.button("Create runner").await?.click().await?;
        page.text_containing(
            "fieldset .field-error",
            "reference a template that does not exist",
        )
        .await?;
        // The draft survives a reload; the profile that went is named by its ID now.
        client.refresh().await?;
        let kept = page.field("Runner ID").await?.prop("value").await?;
        assert_eq!(kept.as_deref(), Some("e2e-new"));
        page.wait_for(Locator::Css(&format!(
            "button[aria-label='Remove {doomed_id}']"
        )))
        .await?
        .click()
        .await?;
        page.button("Create runner").await?.click().await?;
        page.at("/managed-runners/e2e-new").await?;
        page.text_containing(".toast", "Runner e2e-new was created")
            .await?;
        let (status, created) = api_get(&http, &runner_url).await?;
        assert_eq!(status, 200);
        assert_eq!(created["identity"]["clusterId"], "cluster-e2e-0001");
        assert_eq!(created["identity"]["zone"], "us-test-01a");
        assert_eq!(
            created["managedSpec"]["maintenancePolicy"]["windows"][0],
            json!({"cron": "0 3 * * sun", "durationSeconds": "7200"})
        );
        let bindings = created["profileBindings"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(bindings.len(), 1, "{bindings:?}");
        assert_eq!(bindings[0]["isDefault"], true);
        // The install runs to the end on the page.
        eventually(
            "the install to be ready",
            Duration::from_secs(30),
            || async {
                let text = client
                    .find(Locator::Css(".install-status"))
                    .await?
                    .text()
                    .await?;
                Ok((text.trim() == "Ready").then_some(()))
            },
        )
        .await?;
        Ok(())
    })
    .await?;

    // A sandbox on the new runner, then the runner is deleted from its page.
    let started = http
        .post(format!("{base}/v1beta2/sandboxes"))
        .bearer_auth(ADMIN)
        .json(&json!({"command": "sleep", "args": ["300"], "runnerIds": ["e2e-new"], "profileNames": ["ci-ephemeral"], "containerImage": "ghcr.io/example/ci-runner:3.2"}))
        .send()
        .await?;
    anyhow::ensure!(started.status().is_success(), "{}", started.text().await?);
    let sandbox_id = started.json::<Value>().await?["sandboxId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    with_browser("delete-runner", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{base}/managed-runners/e2e-new"), ADMIN).await?;
        page.button("Delete runner…").await?.click().await?;
        let named = page.text_containing(".doomed", &sandbox_id).await?;
        assert!(!named.is_empty());
        save_screenshot(&client, "delete-runner-confirm").await?;
        let violations = page.accessibility_violations().await?;
        assert!(violations.is_empty(), "{violations:#?}");
        page.button("Delete e2e-new").await?.click().await?;
        page.at("/managed-runners").await?;
        page.text_containing(".toast", "Runner e2e-new was deleted")
            .await?;
        let (status, _) = api_get(&http, &runner_url).await?;
        assert_eq!(status, 404);
        let (_, sandbox) =
            api_get(&http, &format!("{base}/v1beta2/sandboxes/{sandbox_id}")).await?;
        assert_ne!(
            sandbox["sandboxStatus"], "SANDBOX_STATUS_RUNNING",
            "{sandbox}"
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn overrides_round_trip_and_the_effective_spec_says_what_they_change() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let http = reqwest::Client::new();
    let base = gateway.url.clone();
    let runner_url = format!("{base}/v1beta2/sandbox/managed-runners/cpu-west");
    let ci = template_id(&http, &base, "ci-ephemeral").await?;
    let (_, template) = api_get(
        &http,
        &format!("{base}/v1beta2/sandbox/profile-templates/{ci}"),
    )
    .await?;
    let profile_cpu = template["spec"]["resourceDefaults"]["cpuRequest"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let profile_memory = template["spec"]["resourceDefaults"]["memoryRequest"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    with_browser("binding-overrides", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{base}/managed-runners/cpu-west"), ADMIN).await?;
        page.wait_for(Locator::XPath(OVERRIDES_OF_CI))
            .await?
            .click()
            .await?;
        // A field writes the YAML, and the change shows against the profile.
        fill(&page, "CPU request", "3").await?;
        page.field("Runtime class").await?.click().await?;
        let yaml_label = "Overrides as YAML (any part of a profile's spec)";
        eventually("the YAML to follow the field", Duration::from_secs(5), || async {
            let text = page.field(yaml_label).await?.prop("value").await?.unwrap_or_default();
            Ok(text.contains("cpuRequest: \"3\"").then_some(text))
        })
        .await?;
        page.text_containing(".override-changes", "resource_defaults.cpuRequest")
            .await?;
        // A value the rules refuse (checked when applied) is written through as it is.
        fill(&page, "Runtime class", "Bad_Class").await?;
        page.field("CPU request").await?.click().await?;
        eventually("the YAML to take the runtime class", Duration::from_secs(5), || async {
            let text = page.field(yaml_label).await?.prop("value").await?.unwrap_or_default();
            Ok(text.contains("runtime_class: Bad_Class").then_some(()))
        })
        .await?;
        let expected_before = if profile_cpu.is_empty() { "(not set)" } else { &profile_cpu };
        let rows = change_rows(&page).await?;
        assert!(rows.contains(&format!("resource_defaults.cpuRequest|{expected_before}|3")), "{rows:?}");
        // The overrides replace the profile's resources whole: what they leave out is
        // unset, and said.
        if !profile_memory.is_empty() {
            assert!(rows.contains(&format!("resource_defaults.memoryRequest|{profile_memory}|(not set)")), "{rows:?}");
        }
        // The YAML writes the fields.
        let yaml = page.field(yaml_label).await?;
        yaml.clear().await?;
        yaml.send_keys("resource_defaults:\n  cpuRequest: '3'\nruntime_class: gvisor\nnode_selector:\n  pool: fast\n").await?;
        eventually("the field to follow the YAML", Duration::from_secs(5), || async {
            let value = page.field("Runtime class").await?.prop("value").await?;
            Ok((value.as_deref() == Some("gvisor")).then_some(()))
        })
        .await?;
        page.text_containing(".override-changes", "node_selector.pool").await?;
        // Text that does not read is kept, said, and blocks the apply.
        page.field(yaml_label).await?.send_keys("tags: [").await?;
        page.text_containing(".binding-overrides .field-error", "line").await?;
        page.text_containing(".binding-manager .violations", "do not read yet").await?;
        assert!(!page.button("Review changes").await?.is_enabled().await?);
        // A reload brings it back as typed, with its problem, the overrides open.
        let typed = page.field(yaml_label).await?.prop("value").await?.unwrap_or_default();
        client.refresh().await?;
        page.text_containing(".binding-manager .violations", "do not read yet").await?;
        let kept = page.field(yaml_label).await?.prop("value").await?.unwrap_or_default();
        assert_eq!(kept, typed);
        page.text_containing(".binding-overrides .field-error", "line").await?;
        let yaml = page.field(yaml_label).await?;
        yaml.clear().await?;
        yaml.send_keys(&format!("{typed}fast]\n")).await?;
        page.text_containing(".override-changes", "tags").await?;
        save_screenshot(&client, "binding-overrides").await?;
        let violations = page.accessibility_violations().await?;
        assert!(violations.is_empty(), "{violations:#?}");
        page.button("Review changes").await?.click().await?;
        page.text_containing(".binding-review", "Update ci-ephemeral: overrides change").await?;
        page.button("Apply").await?.click().await?;
        page.text_containing(".toast", "The bindings were applied").await?;
        // Stored as the API's JSON string, which nobody had to type.
        let (_, runner) = api_get(&http, &runner_url).await?;
        let binding = runner["profileBindings"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["profileTemplateId"] == ci.as_str())
            .cloned()
            .unwrap_or_default();
        let overrides: Value = serde_json::from_str(binding["overridesJson"].as_str().unwrap_or("null"))?;
        assert_eq!(
            overrides,
            json!({"runtimeClass": "gvisor", "resourceDefaults": {"cpuRequest": "3"}, "nodeSelector": {"pool": "fast"}, "tags": ["fast"]})
        );
        // Back from the server, the editor reads the same.
        client.refresh().await?;
        client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(OVERRIDES_OF_CI))
            .await?
            .click()
            .await?;
        let cpu = page.field("CPU request").await?.prop("value").await?;
        assert_eq!(cpu.as_deref(), Some("3"));
        let text = page.field(yaml_label).await?.prop("value").await?.unwrap_or_default();
        assert!(text.contains("runtime_class: gvisor") && text.contains("pool: fast"), "{text}");
        let effective = page
            .script("return document.querySelector('.effective-spec pre').textContent")
            .await?;
        let effective = effective.as_str().unwrap_or_default();
        let image = template["spec"]["containerImage"].as_str().unwrap_or_default();
        for expected in [format!("container_image: {image}"), "runtime_class: gvisor".into(), "pool: fast".into()] {
            assert!(effective.contains(&expected), "{expected} not in {effective}");
        }
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_profile_version_rolls_out_runner_by_runner() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let http = reqwest::Client::new();
    let base = gateway.url.clone();
    let created = http
        .post(format!("{base}/v1beta2/sandbox/profile-templates"))
        .bearer_auth(ADMIN)
        .json(&json!({"profileTemplate": {"displayName": "ci-ephemeral-v2", "spec": {"containerImage": "busybox:1.36"}}}))
        .send()
        .await?;
    anyhow::ensure!(created.status().is_success(), "{}", created.text().await?);
    let v2 = created.json::<Value>().await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let url = base.clone();
    let http_in = http.clone();
    let v2_in = v2.clone();
    with_browser("rollout", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{url}/rollout"), ADMIN).await?;
        choose(&client, "rollout-from", "ci-ephemeral").await?;
        choose(&client, "rollout-to", "ci-ephemeral-v2").await?;
        let runners = page.text_containing(".rollout-runners", "cpu-west").await?;
        assert!(
            runners.contains("arm-central")
                && runners.contains("lab-north")
                && runners.contains("(install failed)"),
            "{runners}"
        );
        // Meanwhile someone binds the new version on cpu-west by hand: the step for
        // cpu-west fails, and the rollout stops there.
        let url = format!("{url}/v1beta2/sandbox/managed-runners/cpu-west");
        let (_, runner) = api_get(&http_in, &url).await?;
        let mut bindings = runner["profileBindings"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        bindings.push(json!({"profileTemplateId": v2_in}));
        let patched = http_in
            .patch(format!("{url}?updateMask=profile_bindings"))
            .bearer_auth(ADMIN)
            .json(&json!({"runner": {"profileBindings": bindings}}))
            .send()
            .await?;
        anyhow::ensure!(patched.status().is_success(), "{}", patched.text().await?);
        page.button("Start the rollout").await?.click().await?;
        page.text_containing(".rollout-progress", "Stopped at the first failure")
            .await?;
        let steps = page.text_containing(".rollout-steps", "cpu-west").await?;
        let lines: Vec<&str> = steps.lines().collect();
        assert_eq!(lines.len(), 3, "{steps}");
        assert!(lines[0].starts_with("arm-central — done"), "{steps}");
        assert!(
            lines[1].starts_with("cpu-west — failed:") && lines[1].contains("already bound"),
            "{steps}"
        );
        assert!(lines[2].starts_with("lab-north — not started"), "{steps}");
        save_screenshot(&client, "rollout").await?;
        let violations = page.accessibility_violations().await?;
        assert!(violations.is_empty(), "{violations:#?}");
        Ok(())
    })
    .await?;
    for (runner, expected) in [("arm-central", true), ("lab-north", false)] {
        let (_, body) = api_get(
            &http,
            &format!("{base}/v1beta2/sandbox/managed-runners/{runner}"),
        )
        .await?;
        let has_v2 = body["profileBindings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|b| b["profileTemplateId"] == v2.as_str());
        assert_eq!(has_v2, expected, "{runner}: {body}");
    }
    Ok(())
}

#[tokio::test]
async fn settings_are_saved_with_only_what_changed() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let http = reqwest::Client::new();
    let base = gateway.url.clone();
    let runner_url = format!("{base}/v1beta2/sandbox/managed-runners/arm-central");
    let (_, before) = api_get(&http, &runner_url).await?;
    let url = base.clone();
    with_browser("runner-settings", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{url}/managed-runners/arm-central"), ADMIN).await?;
        let save = page.button("Save settings").await?;
        assert!(!save.is_enabled().await?, "nothing changed yet");
        fill(&page, "Display name", "Arm pool").await?;
        choose(&client, "runner-channel", "Rapid (newer releases sooner)").await?;
        fill(&page, "Zone", "").await?;
        page.text_containing(
            ".runner-form .field-error",
            "runner.identity.zone is required",
        )
        .await?;
        assert!(!page.button("Save settings").await?.is_enabled().await?);
        fill(&page, "Zone", "us-central-02b").await?;
        page.button("Save settings").await?.click().await?;
        page.text_containing(".toast", "The settings were saved")
            .await?;
        Ok(())
    })
    .await?;
    let (_, after) = api_get(&http, &runner_url).await?;
    assert_eq!(after["displayName"], "Arm pool");
    assert_eq!(after["identity"]["zone"], "us-central-02b");
    assert_eq!(
        after["managedSpec"]["releaseChannel"],
        "RELEASE_CHANNEL_RAPID"
    );
    assert_eq!(
        after["profileBindings"], before["profileBindings"],
        "bindings untouched"
    );
    assert_eq!(
        after["identity"]["clusterName"],
        before["identity"]["clusterName"]
    );
    Ok(())
}
