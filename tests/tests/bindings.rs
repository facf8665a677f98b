//! A runner's binding manager: changes are reviewed (attach, detach, update) before
//! they apply; a list without exactly one default cannot be applied, and the gateway
//! refuses a crafted one; a change made through the API meanwhile is shown, and mine is
//! replayed on it; users see no manager.

use std::time::Duration;

use fantoccini::Locator;
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{ADMIN, USER, demo_gateway, sign_in};
use sandbox_e2e::eventually;
use serde_json::{Value, json};

const RUNNER: &str = "cpu-west";

/// The managed runner as the API has it now.
async fn current(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(http
        .get(url)
        .bearer_auth(ADMIN)
        .send()
        .await?
        .json()
        .await?)
}

#[tokio::test]
async fn bindings_are_reviewed_before_they_apply_and_always_keep_one_default() -> anyhow::Result<()>
{
    let gateway = demo_gateway().await?;
    let http = reqwest::Client::new();
    let runner_url = format!("{}/v1beta2/sandbox/managed-runners/{RUNNER}", gateway.url);
    // The gateway refuses two defaults whatever a client sends.
    let runner = current(&http, &runner_url).await?;
    let mut two_defaults = runner["profileBindings"].clone();
    for binding in two_defaults.as_array_mut().into_iter().flatten() {
        binding["isDefault"] = json!(true);
    }
    let refused = http
        .patch(format!("{runner_url}?updateMask=profile_bindings"))
        .bearer_auth(ADMIN)
        .header("If-Match", runner["etag"].as_str().unwrap_or_default())
        .json(&json!({"runner": {"profileBindings": two_defaults}}))
        .send()
        .await?;
    assert_eq!(refused.status().as_u16(), 400);
    let body = refused.text().await?;
    assert!(body.contains("more than one default"), "{body}");

    let url = gateway.url.clone();
    with_browser("bindings", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{url}/managed-runners/{RUNNER}"), ADMIN).await?;
        page.text_containing("table.bindings", "internal-worker")
            .await?;
        let button = |label: &str| {
            let css = format!("button[aria-label='{label}']");
            let client = client.clone();
            async move { anyhow::Ok(client.find(Locator::Css(&css)).await?) }
        };
        // Removing a binding shows as a detach before anything is sent.
        button("Remove internal-worker").await?.click().await?;
        // An unapplied edit survives a reload.
        client.refresh().await?;
        page.text_containing(".binding-manager", "Your unapplied changes from before the reload are back")
            .await?;
        let table = page.text_containing("table.bindings", "ci-ephemeral").await?;
        assert!(!table.contains("internal-worker"), "{table}");
        page.button("Review changes").await?.click().await?;
        page.text_containing(".binding-review", "Detach internal-worker")
            .await?;
        page.button("Apply").await?.click().await?;
        page.text_containing(".toast", "The bindings were applied")
            .await?;
        // Gone from the manager and from the profiles the runner offers.
        eventually("the binding gone", Duration::from_secs(10), || async {
            let tables = page
                .script("return [...document.querySelectorAll('table.data-table')].map((t) => t.textContent).join(' ')")
                .await?;
            let tables = tables.as_str().unwrap_or_default();
            Ok((tables.contains("ci-ephemeral") && !tables.contains("internal-worker"))
                .then_some(()))
        })
        .await?;

        // Without a default the list cannot be applied; choosing one is a single choice.
        button("Remove agent-allowlist").await?.click().await?;
        page.text_containing(".binding-manager .violations", "exactly one default")
            .await?;
        assert!(!page.button("Review changes").await?.is_enabled().await?);
        client
            .find(Locator::Css(
                "input[aria-label='ci-ephemeral is the default']",
            ))
            .await?
            .click()
            .await?;
        client
            .find(Locator::Css("#binding-add option:not([value=''])"))
            .await?;
        client
            .find(Locator::XPath(
                "//select[@id='binding-add']/option[normalize-space()='gpu-workbench']",
            ))
            .await?
            .click()
            .await?;
        page.button("Add").await?.click().await?;
        page.button("Review changes").await?.click().await?;
        let review = page
            .text_containing(".binding-review", "Attach gpu-workbench")
            .await?;
        assert!(review.contains("Detach agent-allowlist"), "{review}");
        assert!(
            review.contains("Update ci-ephemeral: becomes the default"),
            "{review}"
        );
        save_screenshot(&client, "bindings-review").await?;

        // Someone changes the bindings through the API meanwhile: applying is refused,
        // their change is shown, and mine is replayed on theirs.
        let runner = current(&http, &runner_url).await?;
        let mut aliased = runner["profileBindings"].clone();
        aliased[1]["profileName"] = json!("ci");
        let changed = http
            .patch(format!("{runner_url}?updateMask=profile_bindings"))
            .bearer_auth(ADMIN)
            .header("If-Match", runner["etag"].as_str().unwrap_or_default())
            .json(&json!({"runner": {"profileBindings": aliased}}))
            .send()
            .await?;
        anyhow::ensure!(changed.status().is_success(), "{}", changed.text().await?);
        page.button("Apply").await?.click().await?;
        let theirs = page
            .text_containing(".conflict", "Someone changed this runner's bindings")
            .await?;
        assert!(theirs.contains(r#"Update ci-ephemeral: alias "" → "ci""#), "{theirs}");
        page.text_containing("table.bindings", "gpu-workbench")
            .await?;
        save_screenshot(&client, "bindings-conflict").await?;
        page.button("Re-apply my change on theirs").await?.click().await?;
        let review = page
            .text_containing(".binding-review", "Attach gpu-workbench")
            .await?;
        assert!(review.contains("Detach agent-allowlist"), "{review}");
        assert!(review.contains("Update ci: becomes the default"), "{review}");
        page.button("Apply").await?.click().await?;
        page.text_containing(".toast", "The bindings were applied")
            .await?;
        let after = current(&http, &runner_url).await?;
        let bindings: Vec<(String, bool)> = after["profileBindings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                (
                    b["profileName"].as_str().unwrap_or_default().to_owned(),
                    b["isDefault"].as_bool().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            bindings,
            [("ci".to_owned(), true), (String::new(), false), (String::new(), false)],
            "their alias and my default and attach both hold: {after}"
        );
        Ok(())
    })
    .await?;

    with_browser("bindings-user", |client| async move {
        let page = Page(&client);
        sign_in(
            &page,
            &format!("{}/managed-runners/{RUNNER}", gateway.url),
            USER,
        )
        .await?;
        page.text_containing(".page", "can change a runner's profile bindings")
            .await?;
        // A user reads the settings, without a form to change them.
        let settings = page
            .text_containing(".runner-form .facts", "us-west-01b")
            .await?;
        assert!(settings.contains("Stable"), "{settings}");
        assert!(
            client
                .find_all(Locator::Css(".runner-form form"))
                .await?
                .is_empty()
        );
        let managers = client.find_all(Locator::Css(".binding-manager")).await?;
        assert!(managers.is_empty(), "a user sees the binding manager");
        Ok(())
    })
    .await
}
