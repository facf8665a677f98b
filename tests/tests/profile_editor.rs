//! The profile editor: Monaco loads on the editor route only; every class of mistake is
//! marked at its line before any save; a problem takes you to its line; Escape leaves
//! the editor; profiles are created by pasting YAML and by pasting API JSON; a draft
//! survives a reload.

use std::time::Duration;

use fantoccini::Client;
use fantoccini::key::Key;
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{ADMIN, demo_gateway, sign_in};
use sandbox_e2e::eventually;
use serde_json::{Value, json};

/// Replaces the editor's text, as a paste does.
async fn paste(client: &Client, text: &str) -> anyhow::Result<()> {
    client
        .execute(
            "monaco.editor.getEditors()[0].getModel().setValue(arguments[0]); return null",
            vec![json!(text)],
        )
        .await?;
    Ok(())
}

/// The lines Monaco has error markers on.
async fn marked_lines(client: &Client) -> anyhow::Result<Vec<u64>> {
    let markers = client
        .execute(
            "return monaco.editor.getModelMarkers({ owner: 'profile' }).map((m) => m.startLineNumber)",
            vec![],
        )
        .await?;
    Ok(markers
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect())
}

async fn monaco_requests(page: &Page<'_>) -> anyhow::Result<usize> {
    let count = page
        .script("return performance.getEntriesByType('resource').filter((e) => e.name.includes('/monaco/')).length")
        .await?;
    Ok(count.as_u64().unwrap_or_default() as usize)
}

async fn open_new_profile(client: &Client, page: &Page<'_>) -> anyhow::Result<()> {
    page.wait_for(fantoccini::Locator::LinkText("New profile"))
        .await?
        .click()
        .await?;
    page.at("/profiles/new").await?;
    editor_ready(client).await
}

/// Waits until Monaco has loaded and shows the editor.
async fn editor_ready(client: &Client) -> anyhow::Result<()> {
    eventually("the editor", Duration::from_secs(30), || async {
        let ready = client
            .execute(
                "return Boolean(window.monaco && monaco.editor.getEditors().length)",
                vec![],
            )
            .await?;
        Ok((ready == json!(true)).then_some(()))
    })
    .await
}

const MISTAKES: [(&str, &str, u64); 7] = [
    ("syntax", "display_name: x\nspec:\n  network: [\n", 3),
    (
        "unknown field",
        "display_name: x\nspec:\n  colour: blue\n",
        3,
    ),
    (
        "bad enum",
        "display_name: x\nspec:\n  namespace:\n    strategy: sideways\n",
        4,
    ),
    (
        "static without a namespace",
        "display_name: x\nspec:\n  namespace:\n    strategy: static\n",
        3,
    ),
    (
        "default egress not among the modes",
        "display_name: x\nspec:\n  network:\n    egress:\n      default: internet\n      modes:\n        none: {type: none}\n",
        5,
    ),
    (
        "bad CIDR",
        "display_name: x\nspec:\n  network:\n    egress:\n      default: a\n      modes:\n        a:\n          type: allowlist\n          cidrs: [10.0.0.0/33]\n",
        9,
    ),
    (
        "request above limit",
        "display_name: x\nspec:\n  resource_defaults:\n    cpuRequest: '4'\n    cpuLimit: '2'\n",
        4,
    ),
];

#[tokio::test]
async fn mistakes_are_marked_at_their_line_and_profiles_are_created_by_pasting()
-> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    with_browser("profile-editor", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/runners", gateway.url), ADMIN).await?;
        page.text_containing("table.runners caption", "runners").await?;
        assert_eq!(monaco_requests(&page).await?, 0, "Monaco loaded on the runners page");
        client.goto(&format!("{}/profiles", gateway.url)).await?;
        open_new_profile(&client, &page).await?;
        assert!(monaco_requests(&page).await? > 0, "Monaco not loaded on the editor route");
        page.text_containing("#editor-problems-heading", "No problems")
            .await?;

        for (mistake, text, line) in MISTAKES {
            paste(&client, text).await?;
            eventually(&format!("a marker for the {mistake}"), Duration::from_secs(10), || async {
                Ok(marked_lines(&client).await?.contains(&line).then_some(()))
            })
            .await?;
            let save = page.button("Review and save").await?;
            assert!(!save.is_enabled().await?, "saving is possible with a {mistake}");
        }
        save_screenshot(&client, "profile-editor-problem").await?;
        // A problem in the list takes the cursor to its line.
        page.text_containing(".problems", "Line 4").await?;
        page.0
            .find(fantoccini::Locator::Css(".problems button"))
            .await?
            .click()
            .await?;
        let position = page
            .script("return monaco.editor.getEditors()[0].getPosition().lineNumber")
            .await?;
        assert_eq!(position, json!(4));
        // Escape leaves the editor for the problems that follow it.
        client.active_element().await?.send_keys(&Key::Escape.to_string()).await?;
        let focused = page.script("return document.activeElement.id").await?;
        assert_eq!(focused, json!("editor-problems-heading"));

        // Created by pasting the CLI's YAML.
        paste(
            &client,
            "display_name: e2e-yaml\ndescription: pasted as YAML\nspec:\n  runtime_class: gvisor\n  network:\n    egress:\n      default: none\n      modes:\n        none: {type: none}\n",
        )
        .await?;
        page.text_containing("#editor-problems-heading", "No problems")
            .await?;
        // Saving starts with a review of what will be written.
        page.button("Review and save").await?.click().await?;
        page.text_containing(".review .diff", "+ display_name: e2e-yaml")
            .await?;
        page.button("Save").await?.click().await?;
        page.text_containing(".toast", "Saved profile e2e-yaml").await?;
        page.at("/profiles?q=e2e-yaml").await?;
        page.text_containing("table.profiles", "gvisor").await?;

        // Created by pasting the API's JSON, configs as strings.
        open_new_profile(&client, &page).await?;
        let api_json = json!({"profileTemplate": {
            "displayName": "e2e-json",
            "description": "pasted as API JSON",
            "spec": {
                "runtimeClass": "kata-qemu",
                "namespaceConfigJson": json!({"strategy": "per-org"}).to_string(),
                "networkConfigJson": json!({"egress": {"default": "org", "modes": {"org": {"type": "org"}}}}).to_string()
            }
        }});
        paste(&client, &serde_json::to_string_pretty(&api_json)?).await?;
        page.text_containing("#editor-problems-heading", "No problems")
            .await?;
        page.button("Review and save").await?.click().await?;
        page.button("Save").await?.click().await?;
        page.text_containing(".toast", "Saved profile e2e-json").await?;
        let row = page.text_containing("table.profiles", "e2e-json").await?;
        assert!(row.contains("per-org") && row.contains("kata-qemu"), "{row}");

        // A draft survives a reload.
        open_new_profile(&client, &page).await?;
        paste(&client, "display_name: draft-kept\nspec: {}\n").await?;
        client.refresh().await?;
        editor_ready(&client).await?;
        let restored = page
            .script("return monaco.editor.getEditors()[0].getValue()")
            .await?;
        assert!(
            restored.as_str().is_some_and(|t| t.contains("draft-kept")),
            "{restored}"
        );
        page.text_containing(".page", "Restored your unsaved draft").await?;
        // A file imported with the picker replaces the text.
        let file = tempfile::Builder::new().suffix(".yaml").tempfile()?;
        std::fs::write(file.path(), "display_name: imported-file\nspec: {}\n")?;
        client
            .find(fantoccini::Locator::Css("input[type=file]"))
            .await?
            .send_keys(&file.path().to_string_lossy())
            .await?;
        eventually("the imported text", Duration::from_secs(10), || async {
            let text = page.script("return monaco.editor.getEditors()[0].getValue()").await?;
            Ok(text.as_str().is_some_and(|t| t.contains("imported-file")).then_some(()))
        })
        .await?;
        // Exported as the CLI's YAML, the API's JSON and curl, the token left out.
        let exports = page
            .script("return [...document.querySelectorAll('.copy-block .copy-block pre')].map((p) => p.textContent)")
            .await?;
        let exports: Vec<&str> = exports
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(exports.len(), 3, "{exports:?}");
        assert!(exports[0].starts_with("display_name: imported-file"), "{}", exports[0]);
        assert!(exports[1].contains("\"displayName\": \"imported-file\""), "{}", exports[1]);
        assert!(
            exports[2].starts_with("curl -X POST") && exports[2].contains("$SANDBOX_TOKEN") && !exports[2].contains(ADMIN),
            "{}",
            exports[2]
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn an_edit_saved_over_a_change_made_meanwhile_loses_neither() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let http = reqwest::Client::new();
    let templates: Value = http
        .get(format!("{}/v1beta2/sandbox/profile-templates", gateway.url))
        .bearer_auth(ADMIN)
        .send()
        .await?
        .json()
        .await?;
    let id = templates["profileTemplates"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["displayName"] == "gpu-workbench")
        .and_then(|t| t["id"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no gpu-workbench in the demo data"))?;
    let template_url = format!("{}/v1beta2/sandbox/profile-templates/{id}", gateway.url);
    let url = gateway.url.clone();
    with_browser("profile-conflict", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{url}/profiles"), ADMIN).await?;
        page.wait_for(fantoccini::Locator::LinkText("gpu-workbench"))
            .await?
            .click()
            .await?;
        editor_ready(&client).await?;
        // The administrator edits the description...
        client
            .execute(
                "const model = monaco.editor.getEditors()[0].getModel();
                 model.setValue(model.getValue().replace(/^description: .*$/m, 'description: edited in the console'));
                 return null",
                vec![],
            )
            .await?;
        page.text_containing("#editor-problems-heading", "No problems")
            .await?;
        // ...while someone else adds a label through the API.
        let current: Value = http
            .get(&template_url)
            .bearer_auth(ADMIN)
            .send()
            .await?
            .json()
            .await?;
        let mut labels = current["labels"].clone();
        labels["changed-by"] = json!("api");
        let patched = http
            .patch(format!("{template_url}?updateMask=labels"))
            .bearer_auth(ADMIN)
            .header("If-Match", current["etag"].as_str().unwrap_or_default())
            .json(&json!({"profileTemplate": {"labels": labels}}))
            .send()
            .await?;
        anyhow::ensure!(patched.status().is_success(), "patching: {}", patched.text().await?);
        page.button("Review and save").await?.click().await?;
        page.text_containing(".review .diff", "+ description: edited in the console")
            .await?;
        page.button("Save").await?.click().await?;
        // Refused: the change made meanwhile is shown, the text is kept.
        page.text_containing(".conflict", "Someone saved this profile after you opened it")
            .await?;
        page.text_containing(".conflict .diff", "changed-by: api").await?;
        save_screenshot(&client, "profile-conflict").await?;
        page.button("Re-apply my edit on their copy").await?.click().await?;
        page.text_containing(".review .diff", "+ description: edited in the console")
            .await?;
        page.button("Save").await?.click().await?;
        page.text_containing(".toast", "Saved profile gpu-workbench").await?;
        let saved: Value = http
            .get(&template_url)
            .bearer_auth(ADMIN)
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(saved["description"], json!("edited in the console"));
        assert_eq!(saved["labels"]["changed-by"], json!("api"));
        Ok(())
    })
    .await
}

/// Types `value` into the form field `id` and leaves it, as a person does.
async fn fill(client: &Client, id: &str, value: &str) -> anyhow::Result<()> {
    let field = client.find(fantoccini::Locator::Id(id)).await?;
    field.clear().await?;
    field.send_keys(&format!("{value}{}", Key::Tab)).await?;
    Ok(())
}

#[tokio::test]
async fn a_profile_is_created_with_the_form_and_the_form_and_text_stay_in_step()
-> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    with_browser("profile-form", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/profiles", gateway.url), ADMIN).await?;
        open_new_profile(&client, &page).await?;
        page.button("Form").await?.click().await?;
        fill(&client, "form-name", "e2e-form").await?;
        fill(&client, "form-description", "made with the form").await?;
        fill(&client, "form-runtime", "gvisor").await?;
        // Checked as typed, before the field is left.
        let memory = client
            .find(fantoccini::Locator::Id("form-memory-limit"))
            .await?;
        memory.clear().await?;
        memory.send_keys("8Gx").await?;
        page.text_containing(".profile-form", "spec.resource_defaults.memoryLimit")
            .await?;
        // What is typed stays when another control changes with the field still focused.
        memory.clear().await?;
        memory.send_keys("20Gi").await?;
        client
            .execute(
                "const strategy = document.getElementById('form-strategy');
                 strategy.value = 'per-org';
                 strategy.dispatchEvent(new Event('change', {bubbles: true}));
                 return document.activeElement.id",
                vec![],
            )
            .await?;
        eventually("the strategy changed", Duration::from_secs(10), || async {
            let strategy = client
                .find(fantoccini::Locator::Id("form-strategy"))
                .await?
                .prop("value")
                .await?;
            Ok((strategy.as_deref() == Some("per-org")).then_some(()))
        })
        .await?;
        assert_eq!(memory.prop("value").await?.as_deref(), Some("20Gi"));
        let problems = page
            .script("return document.querySelector('.profile-form').textContent")
            .await?;
        assert!(
            !problems
                .as_str()
                .unwrap_or_default()
                .contains("memoryLimit"),
            "{problems}"
        );
        client
            .find(fantoccini::Locator::Css(
                "#form-strategy option[value='static']",
            ))
            .await?
            .click()
            .await?;
        // Checked as you go: a static namespace needs its name.
        page.text_containing(".profile-form", "is required when strategy is static")
            .await?;
        fill(&client, "form-static-namespace", "form-sandboxes").await?;
        client
            .find(fantoccini::Locator::XPath(
                "//div[@aria-label='Egress modes']//label[normalize-space()='org']/input",
            ))
            .await?
            .click()
            .await?;
        client
            .find(fantoccini::Locator::Css(
                "#form-default-egress option[value='org']",
            ))
            .await?
            .click()
            .await?;
        // A comma list keeps what is typed, its last comma too, until the field is left.
        let tags = client.find(fantoccini::Locator::Id("form-tags")).await?;
        tags.clear().await?;
        tags.send_keys("ml, ").await?;
        assert_eq!(tags.prop("value").await?.as_deref(), Some("ml, "));
        tags.send_keys(&format!("nightly{}", Key::Tab)).await?;
        eventually("the tags read back", Duration::from_secs(10), || async {
            Ok((tags.prop("value").await?.as_deref() == Some("ml, nightly")).then_some(()))
        })
        .await?;
        // An allowlist's CIDRs are checked as typed: "is required" goes with the first.
        let allowlist = client
            .find(fantoccini::Locator::XPath(
                "//div[@aria-label='Egress modes']//label[normalize-space()='allowlist']/input",
            ))
            .await?;
        allowlist.click().await?;
        page.text_containing(".profile-form", "is required for an allowlist")
            .await?;
        client
            .find(fantoccini::Locator::Id("form-cidrs"))
            .await?
            .send_keys("10.0.0.0/8")
            .await?;
        eventually("the CIDR to count", Duration::from_secs(10), || async {
            let text = page
                .script("return document.querySelector('.profile-form').textContent")
                .await?;
            Ok((!text
                .as_str()
                .unwrap_or_default()
                .contains("is required for an allowlist"))
            .then_some(()))
        })
        .await?;
        allowlist.click().await?;
        // An ingress level, added and described in the form.
        fill(&client, "form-new-level", "web").await?;
        page.button("Add level").await?.click().await?;
        client
            .wait()
            .for_element(fantoccini::Locator::Css(
                "#form-ingress-web-service option[value='ClusterIP']",
            ))
            .await?
            .click()
            .await?;
        page.text_containing("#editor-problems-heading", "No problems")
            .await?;
        save_screenshot(&client, "profile-form").await?;
        // The text says what the form did...
        page.button("Text").await?.click().await?;
        let text = page
            .script("return monaco.editor.getEditors()[0].getValue()")
            .await?;
        let text = text.as_str().unwrap_or_default();
        for expected in [
            "display_name: e2e-form",
            "description: made with the form",
            "runtime_class: gvisor",
            "strategy: static",
            "staticNamespace: form-sandboxes",
            "default: org",
            "- nightly",
            "web:",
            "serviceType: ClusterIP",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text}");
        }
        // ...and the form what the text says.
        client
            .execute(
                "const model = monaco.editor.getEditors()[0].getModel();
                 model.setValue(model.getValue().replace('made with the form', 'edited as text'));
                 return null",
                vec![],
            )
            .await?;
        page.button("Form").await?.click().await?;
        eventually(
            "the form in step with the text",
            Duration::from_secs(10),
            || async {
                let value = client
                    .find(fantoccini::Locator::Id("form-description"))
                    .await?
                    .prop("value")
                    .await?;
                Ok((value.as_deref() == Some("edited as text")).then_some(()))
            },
        )
        .await?;
        page.button("Review and save").await?.click().await?;
        page.button("Save").await?.click().await?;
        page.text_containing(".toast", "Saved profile e2e-form")
            .await?;
        let row = page.text_containing("table.profiles", "e2e-form").await?;
        assert!(row.contains("static") && row.contains("org"), "{row}");
        Ok(())
    })
    .await
}
