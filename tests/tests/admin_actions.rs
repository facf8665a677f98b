//! Administrative actions are there for administrators only: a SANDBOX_USER sees none,
//! just what they would need; an administrator applies an update, confirms it, hears
//! back in a toast and watches the rollout finish.

use std::time::Duration;

use fantoccini::Locator;
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{ADMIN, USER, demo_gateway, sign_in};
use sandbox_e2e::eventually;

/// gpu-east follows the RAPID channel, which has a newer release in the demo.
const RUNNER_WITH_UPDATE: &str = "gpu-east";

#[tokio::test]
async fn a_user_sees_no_admin_actions() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    with_browser("user-no-admin-actions", |client| async move {
        let page = Page(&client);
        sign_in(
            &page,
            &format!("{}/managed-runners/{RUNNER_WITH_UPDATE}", gateway.url),
            USER,
        )
        .await?;
        page.text_containing(".card", "A newer release of this channel is available")
            .await?;
        let hint = page
            .text_containing(
                ".read-only",
                "Only an administrator (SANDBOX_ADMIN) can apply updates",
            )
            .await?;
        assert!(hint.starts_with("Read-only"), "{hint}");
        // No button in the page does anything administrative.
        for button in client.find_all(Locator::Css("main button")).await? {
            let text = button.text().await?;
            assert!(
                ["Refresh", "Sign out"].contains(&text.as_str()),
                "a user sees the button {text:?}"
            );
        }
        Ok(())
    })
    .await
}

#[tokio::test]
async fn an_admin_applies_an_update_and_follows_it_to_the_end() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    with_browser("admin-apply-update", |client| async move {
        let page = Page(&client);
        sign_in(
            &page,
            &format!("{}/managed-runners/{RUNNER_WITH_UPDATE}", gateway.url),
            ADMIN,
        )
        .await?;
        let before: i64 = page
            .text_containing(".revision", "")
            .await?
            .trim()
            .parse()?;
        page.button("Apply update…").await?.click().await?;
        // Nothing happens before the confirmation; cancelling changes nothing.
        page.button("Cancel").await?.click().await?;
        page.button("Apply update…").await?.click().await?;
        save_screenshot(&client, "apply-update-confirm").await?;
        page.button("Apply update").await?.click().await?;
        let toast = page
            .text_containing(
                ".toast",
                &format!("Updating {RUNNER_WITH_UPDATE} to revision {}", before + 1),
            )
            .await?;
        assert!(toast.starts_with("Done"), "{toast}");
        // The card follows the rollout until the runner runs the new revision.
        let after = (before + 1).to_string();
        eventually(
            "the new revision to be active",
            Duration::from_secs(30),
            || async {
                let text = client.find(Locator::Css(".revision")).await?.text().await?;
                Ok((text.trim() == after).then_some(()))
            },
        )
        .await?;
        eventually(
            "the update offer to go",
            Duration::from_secs(10),
            || async {
                let text = client.find(Locator::Css("main")).await?.text().await?;
                Ok((!text.contains("A newer release")).then_some(()))
            },
        )
        .await?;
        Ok(())
    })
    .await
}
