//! Signing in to the console, in headless Chromium against a real gateway.

use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::gateway::{Gateway, built_binary, built_console};
use serde_json::json;

const ADMIN_SECRET: &str = "e2e-admin-secret-0001-0123456789abcdef";

async fn start_gateway() -> anyhow::Result<Gateway> {
    let console = built_console()?;
    Gateway::start(
        &built_binary()?,
        &[
            "--console-dir",
            &console.to_string_lossy(),
            "--token",
            &format!("e2e:SANDBOX_ADMIN:{ADMIN_SECRET}"),
        ],
    )
    .await
}

async fn create_profile(gateway: &Gateway, body: serde_json::Value) -> anyhow::Result<()> {
    let response = reqwest::Client::new()
        .post(format!("{}/v1beta2/sandbox/profile-templates", gateway.url))
        .bearer_auth(ADMIN_SECRET)
        .json(&json!({ "profileTemplate": body }))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "create failed: {}",
        response.text().await?
    );
    Ok(())
}

#[tokio::test]
async fn signing_in_shows_the_profiles_created_through_the_api() -> anyhow::Result<()> {
    let gateway = start_gateway().await?;
    with_browser("sign-in", |client| async move {
        let page = Page(&client);
        client.goto(&format!("{}/profiles", gateway.url)).await?;
        // A deep link without a session lands on sign-in and remembers where it was going.
        page.at("/sign-in?next=%2Fprofiles").await?;
        page.field("Bearer token")
            .await?
            .send_keys(ADMIN_SECRET)
            .await?;
        page.button("Sign in").await?.click().await?;
        page.at("/profiles").await?;
        page.text_containing(".empty-state", "No profiles yet")
            .await?;

        create_profile(
            &gateway,
            json!({
                "displayName": "agent-allowlist",
                "description": "Per-user agent sandboxes, allowlisted egress",
                "labels": {"workload": "agent"},
                "spec": {}
            }),
        )
        .await?;
        page.button("Refresh").await?.click().await?;
        let row = page
            .text_containing("table tbody", "agent-allowlist")
            .await?;
        assert!(
            row.contains("Per-user agent sandboxes, allowlisted egress"),
            "{row}"
        );
        assert!(row.contains("workload=agent"), "{row}");
        save_screenshot(&client, "profiles-after-sign-in").await?;

        // The token lives in this tab's session only: never the URL, never localStorage.
        let where_kept = page
            .script(
                "return [location.href, JSON.stringify(localStorage), \
                 sessionStorage.getItem('sandbox-console.token')];",
            )
            .await?;
        assert!(
            !where_kept[0]
                .as_str()
                .unwrap_or_default()
                .contains(ADMIN_SECRET)
        );
        assert!(
            !where_kept[1]
                .as_str()
                .unwrap_or_default()
                .contains(ADMIN_SECRET)
        );
        assert_eq!(where_kept[2], ADMIN_SECRET);

        // A reload keeps the session.
        client.refresh().await?;
        page.text_containing("table tbody", "agent-allowlist")
            .await?;

        // Signing out forgets the token and returns to sign-in, without this user's
        // page as the next one's destination.
        page.button("Sign out").await?.click().await?;
        page.at("/sign-in").await?;
        let forgotten = page
            .script("return sessionStorage.getItem('sandbox-console.token');")
            .await?;
        assert_eq!(forgotten, serde_json::Value::Null);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_next_that_leads_off_the_console_ends_on_its_start_page() -> anyhow::Result<()> {
    let gateway = start_gateway().await?;
    // Port 1 on loopback: nothing listens, so a redirect there would show an error page
    // at that address rather than hang.
    with_browser("sign-in-next", |client| async move {
        let page = Page(&client);
        let on_the_console = || async {
            let url = client.current_url().await?;
            anyhow::Ok(url.origin().ascii_serialization() == gateway.url)
        };
        // Browsers drop tabs in URLs: `/<tab>/127.0.0.1:1/…` is `//127.0.0.1:1/…`.
        client
            .goto(&format!(
                "{}/sign-in?next=/%09/127.0.0.1:1/index.html",
                gateway.url
            ))
            .await?;
        page.field("Bearer token")
            .await?
            .send_keys(ADMIN_SECRET)
            .await?;
        page.button("Sign in").await?.click().await?;
        page.at("/overview").await?;
        assert!(on_the_console().await?, "{}", client.current_url().await?);

        // Signed in, sign-in goes straight on to `next`: each of these is another
        // origin or no page at all once the browser has read it (newline, backslash,
        // `//`, a `//` left by `.`, absolute, `javascript:`), and ends on the start page.
        for next in [
            "/%0A/127.0.0.1:1/",
            "/%5C127.0.0.1:1/",
            "%2F%2F127.0.0.1:1%2F",
            "/.//127.0.0.1:1/",
            "http://127.0.0.1:1/",
            "javascript:alert(document.domain)",
        ] {
            client
                .goto(&format!("{}/sign-in?next={next}", gateway.url))
                .await?;
            page.at("/overview").await?;
            assert!(
                on_the_console().await?,
                "next={next} led to {}",
                client.current_url().await?
            );
        }
        // A page of the console is still where it leads, with its query and fragment.
        client
            .goto(&format!(
                "{}/sign-in?next=%2Fprofiles%3Fq%3Dagent%23list",
                gateway.url
            ))
            .await?;
        page.at("/profiles?q=agent").await?;
        assert_eq!(client.current_url().await?.fragment(), Some("list"));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_wrong_token_shows_a_clear_error_and_stays_on_sign_in() -> anyhow::Result<()> {
    let gateway = start_gateway().await?;
    with_browser("wrong-token", |client| async move {
        let page = Page(&client);
        client.goto(&format!("{}/sign-in", gateway.url)).await?;
        page.field("Bearer token")
            .await?
            .send_keys("not-a-real-token")
            .await?;
        page.button("Sign in").await?.click().await?;
        let alert = page.text_containing("[role=alert]", "not accepted").await?;
        assert!(alert.contains("That token was not accepted"), "{alert}");
        assert!(alert.contains("the token is not valid"), "{alert}");
        save_screenshot(&client, "wrong-token").await?;
        // Nothing was kept, and the user is still on sign-in to try again.
        page.at("/sign-in").await?;
        let kept = page
            .script("return sessionStorage.getItem('sandbox-console.token');")
            .await?;
        assert_eq!(kept, serde_json::Value::Null);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn the_demo_admin_sees_the_seeded_profiles() -> anyhow::Result<()> {
    let console = built_console()?;
    let gateway = Gateway::start(
        &built_binary()?,
        &["--console-dir", &console.to_string_lossy(), "--demo"],
    )
    .await?;
    let admin_token = gateway
        .startup_output()
        .iter()
        .find_map(|line| {
            line.split_once("(SANDBOX_ADMIN):")
                .map(|(_, t)| t.trim().to_owned())
        })
        .ok_or_else(|| anyhow::anyhow!("no admin token in {:?}", gateway.startup_output()))?;
    with_browser("demo", |client| async move {
        let page = Page(&client);
        client.goto(&gateway.url).await?;
        page.field("Bearer token")
            .await?
            .send_keys(&admin_token)
            .await?;
        page.button("Sign in").await?.click().await?;
        page.at("/overview").await?;
        page.wait_for(fantoccini::Locator::LinkText("Profiles"))
            .await?
            .click()
            .await?;
        page.at("/profiles").await?;
        let table = page.text_containing("table", "gpu-workbench").await?;
        for name in [
            "agent-allowlist",
            "ci-ephemeral",
            "internal-worker",
            "untrusted-code",
        ] {
            assert!(table.contains(name), "{name} missing from {table}");
        }
        save_screenshot(&client, "demo-profiles").await?;
        Ok(())
    })
    .await
}

/// The main navigation's items, in order.
async fn nav_items(page: &Page<'_>) -> anyhow::Result<Vec<String>> {
    let mut items = Vec::new();
    for link in page
        .0
        .find_all(fantoccini::Locator::Css("nav[aria-label='Main'] a"))
        .await?
    {
        items.push(link.text().await?);
    }
    Ok(items)
}

#[tokio::test]
async fn signing_out_starts_the_next_user_afresh_and_only_admins_see_administration()
-> anyhow::Result<()> {
    use sandbox_e2e::demo::{ADMIN, USER, demo_gateway, sign_in};
    let gateway = demo_gateway().await?;
    with_browser("sign-out", |client| async move {
        let page = Page(&client);
        sign_in(
            &page,
            &format!("{}/sandboxes?includeStopped=true", gateway.url),
            USER,
        )
        .await?;
        page.at("/sandboxes?includeStopped=true").await?;
        page.wait_for(fantoccini::Locator::Css("table.sandboxes"))
            .await?;
        let items = nav_items(&page).await?;
        assert!(items.iter().any(|i| i == "Sandboxes"), "{items:?}");
        assert!(
            !items.iter().any(|i| i == "Administration"),
            "a developer sees {items:?}"
        );
        // Signing out with the button forgets where this user was.
        page.button("Sign out").await?.click().await?;
        page.at("/sign-in").await?;
        page.field("Bearer token").await?.send_keys(ADMIN).await?;
        page.button("Sign in").await?.click().await?;
        // The console's start page (sandbox_api::next_path::START_PAGE).
        page.at("/overview").await?;
        sandbox_e2e::eventually(
            "the admin's navigation",
            std::time::Duration::from_secs(10),
            || async {
                let items = nav_items(&page).await?;
                Ok(items.iter().any(|i| i == "Administration").then_some(()))
            },
        )
        .await?;
        Ok(())
    })
    .await
}
