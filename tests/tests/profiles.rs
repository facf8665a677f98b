//! The Profiles page against the demo data: what each profile sets and who binds it,
//! search and sort in the URL, and deleting: refused with the binding runners named,
//! done after a confirmation, and not offered to a SANDBOX_USER.

use std::time::Duration;

use fantoccini::Locator;
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{ADMIN, USER, demo_gateway, sign_in};
use sandbox_e2e::eventually;
use serde_json::json;

#[tokio::test]
async fn profiles_are_searched_sorted_and_deleted_only_when_no_runner_binds_them()
-> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let created = reqwest::Client::new()
        .post(format!("{}/v1beta2/sandbox/profile-templates", gateway.url))
        .bearer_auth(ADMIN)
        .json(&json!({"profileTemplate": {"displayName": "e2e-unbound", "description": "nobody binds this", "spec": {}}}))
        .send()
        .await?;
    anyhow::ensure!(
        created.status().is_success(),
        "creating: {}",
        created.text().await?
    );
    let url = gateway.url.clone();
    with_browser("profiles", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{url}/profiles"), ADMIN).await?;
        page.text_containing("table.profiles caption", "6 of 6 profiles")
            .await?;
        let table = page
            .text_containing("table.profiles", "internal-worker")
            .await?;
        assert!(table.contains("per-user"), "{table}");
        // Sorted by how many runners bind them, most first: ci-ephemeral (3 runners).
        let runners_header = "//table[contains(@class,'profiles')]//a[normalize-space()='Runners']";
        client
            .find(Locator::XPath(runners_header))
            .await?
            .click()
            .await?;
        page.at("/profiles?sort=runners").await?;
        client
            .find(Locator::XPath(runners_header))
            .await?
            .click()
            .await?;
        page.at("/profiles?sort=-runners").await?;
        page.text_containing("table.profiles tbody tr:first-child", "ci-ephemeral")
            .await?;
        // Search lives in the URL and survives a reload.
        page.field("Search profiles")
            .await?
            .send_keys("internal")
            .await?;
        page.at("/profiles?q=internal&sort=-runners").await?;
        client.refresh().await?;
        page.text_containing("table.profiles caption", "1 of 6 profiles")
            .await?;
        // A bound profile cannot go: the runners to detach it from are named.
        page.button("Delete…").await?.click().await?;
        let bound = page
            .text_containing(".confirm", "bound by 2 runners")
            .await?;
        assert!(
            bound.contains("gpu-east") && bound.contains("cpu-west"),
            "{bound}"
        );
        client
            .find(Locator::Css(".confirm a[href='/runners/gpu-east']"))
            .await?;
        save_screenshot(&client, "profiles-bound").await?;
        // An unbound one goes after a confirmation.
        let search = page.field("Search profiles").await?;
        search.clear().await?;
        search.send_keys("e2e-unbound").await?;
        page.text_containing("table.profiles caption", "1 of 6 profiles")
            .await?;
        client
            .find(Locator::Css("button[aria-label='Delete e2e-unbound']"))
            .await?
            .click()
            .await?;
        page.text_containing(".confirm", "This cannot be undone")
            .await?;
        client
            .find(Locator::XPath(
                "//div[contains(@class,'confirm')]//button[normalize-space()='Delete']",
            ))
            .await?
            .click()
            .await?;
        page.text_containing(".toast", "Deleted profile e2e-unbound")
            .await?;
        page.text_containing(".empty-state", "No profile matches")
            .await?;
        Ok(())
    })
    .await?;

    with_browser("profiles-user", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/profiles", gateway.url), USER).await?;
        page.text_containing("table.profiles caption", "5 of 5 profiles")
            .await?;
        eventually("no delete buttons", Duration::from_secs(5), || async {
            let buttons = client
                .find_all(Locator::Css("button[aria-label^='Delete']"))
                .await?;
            Ok(buttons.is_empty().then_some(()))
        })
        .await?;
        // Said once, by the page's actions, not on every row (the old build did).
        page.text_containing(
            ".page-header",
            "Only an administrator (SANDBOX_ADMIN) can create or change profiles",
        )
        .await?;
        let table = page.text_containing("table.profiles", "profiles").await?;
        assert!(!table.contains("Only an administrator"), "{table}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_developer_reads_profiles_with_nothing_to_edit() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let templates: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1beta2/sandbox/profile-templates", gateway.url))
        .bearer_auth(USER)
        .send()
        .await?
        .json()
        .await?;
    let id = templates["profileTemplates"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let name = templates["profileTemplates"][0]["displayName"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    with_browser("profiles-user", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/profiles", gateway.url), USER).await?;
        page.text_containing("table.data-table", &name).await?;
        // Said once for the page, not on every row.
        let said = client.find_all(Locator::Css(".read-only")).await?;
        assert_eq!(said.len(), 1, "one read-only hint");
        client
            .goto(&format!("{}/profiles/{id}", gateway.url))
            .await?;
        let text = page
            .text_containing("pre.profile-text", "display_name:")
            .await?;
        assert!(text.contains(&name), "{text}");
        page.text_containing(".read-only", "only an administrator")
            .await?;
        page.text_containing("h1", "Profile").await?;
        for nothing_to_edit in [
            ".monaco-editor",
            ".profile-form",
            "textarea",
            ".form-actions",
        ] {
            assert!(
                client
                    .find_all(Locator::Css(nothing_to_edit))
                    .await?
                    .is_empty(),
                "a developer sees {nothing_to_edit}"
            );
        }
        page.text_containing(".history-entry", "created").await?;
        save_screenshot(&client, "profile-read-only").await?;
        assert_eq!(page.accessibility_violations().await?, Vec::<String>::new());
        Ok(())
    })
    .await
}
