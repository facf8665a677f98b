//! Each object's history in the console: a binding change made in the binding manager
//! shows on the runner's page with who made it and what changed, for a developer too;
//! the Activity page lists the organization's changes, filtered by what the URL says.

use std::time::Duration;

use fantoccini::Locator;
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{ADMIN, USER, demo_gateway, sign_in};
use sandbox_e2e::eventually;

const RUNNER: &str = "cpu-west";

#[tokio::test]
async fn a_binding_change_shows_in_the_runners_history_and_in_the_activity() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let url = gateway.url.clone();
    with_browser("history", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{url}/managed-runners/{RUNNER}"), ADMIN).await?;
        page.text_containing("table.bindings", "internal-worker")
            .await?;
        client
            .find(Locator::Css("button[aria-label='Remove internal-worker']"))
            .await?
            .click()
            .await?;
        page.button("Review changes").await?.click().await?;
        page.button("Apply").await?.click().await?;
        page.text_containing(".toast", "The bindings were applied")
            .await?;

        // The runner's page: the newest entry says who, and what changed, field by field.
        client.goto(&format!("{url}/runners/{RUNNER}")).await?;
        let newest = page
            .text_containing(".history-entry", "changed")
            .await?;
        assert!(newest.contains("an administrator of"), "{newest}");
        assert!(newest.contains("just now") || newest.contains("s ago"), "{newest}");
        let rows = page
            .script(
                "return [...document.querySelector('.history-entry').querySelectorAll('tbody tr')]
                    .map((row) => [...row.children].map((cell) => cell.textContent.trim()).join(' | '))",
            )
            .await?;
        let rows: Vec<String> = serde_json::from_value(rows)?;
        assert!(
            rows.iter()
                .any(|row| row.starts_with("profileBindings[internal-worker].profileTemplateId | ")
                    && row.ends_with(" | —")),
            "the detached binding, field by field: {rows:?}"
        );
        assert!(
            rows.iter().any(|row| row.starts_with("targetRevision | ")),
            "{rows:?}"
        );
        // The exact time is on hover.
        let title = client
            .find(Locator::Css(".history-entry time"))
            .await?
            .attr("title")
            .await?
            .unwrap_or_default();
        assert!(title.ends_with(" UTC"), "{title:?}");
        page.script("document.getElementById('history').scrollIntoView(); return null")
            .await?;
        save_screenshot(&client, "runner-history").await?;
        assert_eq!(page.accessibility_violations().await?, Vec::<String>::new());

        // The organization's activity, filtered to runners by the URL, and by the select.
        client.goto(&format!("{url}/activity?kind=RUNNER")).await?;
        let entries = page
            .text_containing(".history-entries", "runner cpu-west")
            .await?;
        assert!(!entries.contains("profile "), "runners only: {entries}");
        let link = client
            .find(Locator::XPath("//a[normalize-space()='runner cpu-west']"))
            .await?
            .attr("href")
            .await?;
        assert_eq!(link.as_deref(), Some("/runners/cpu-west"));
        client
            .find(Locator::XPath(
                "//select[@id='activity-kind']/option[normalize-space()='Profiles']",
            ))
            .await?
            .click()
            .await?;
        eventually("the URL to say profiles", Duration::from_secs(10), || async {
            let now = client.current_url().await?;
            Ok(now.as_str().contains("kind=PROFILE_TEMPLATE").then_some(()))
        })
        .await?;
        let profiles = page
            .text_containing(".history-entries", "created profile")
            .await?;
        assert!(!profiles.contains("runner cpu-west"), "{profiles}");
        save_screenshot(&client, "activity").await?;
        assert_eq!(page.accessibility_violations().await?, Vec::<String>::new());
        Ok(())
    })
    .await?;

    // A developer reads the same history.
    with_browser("history-user", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/runners/{RUNNER}", gateway.url), USER).await?;
        let newest = page
            .text_containing(".history-entry", "an administrator of")
            .await?;
        assert!(newest.contains("internal-worker"), "{newest}");
        Ok(())
    })
    .await
}
