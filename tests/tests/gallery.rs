//! Every page at 1440 and at 390 pixels wide, in the light and in the dark theme (each
//! chosen with the header's theme switch, which every page then remembers): axe-core
//! finds nothing; at 390 px no page scrolls sideways and every navigation item can be
//! reached; each view is saved as a screenshot (`target/e2e-screenshots/gallery-*`,
//! which `scripts/update-screens` copies to docs/screens).

use std::time::Duration;

use fantoccini::{Client, Locator};
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{ADMIN, demo_gateway, sign_in};
use sandbox_e2e::eventually;
use serde_json::Value;

/// The first id in a list answer `body[list][*][key]`.
async fn first_id(url: &str, list: &str, key: &str) -> anyhow::Result<String> {
    let body: Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(ADMIN)
        .send()
        .await?
        .json()
        .await?;
    body[list][0][key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("{url} lists no {list}: {body}"))
}

/// Chooses `theme` in the header's switch and waits until the page shows it.
async fn choose_theme(client: &Client, theme: &str, dark: bool) -> anyhow::Result<()> {
    client
        .find(Locator::Css(&format!(
            ".theme-switch option[value='{theme}']"
        )))
        .await?
        .click()
        .await?;
    shows_theme(client, dark).await
}

/// Waits until the page's background is dark (or light).
async fn shows_theme(client: &Client, dark: bool) -> anyhow::Result<()> {
    eventually("the theme to show", Duration::from_secs(5), || async {
        let brightness = Page(client)
            .script(
                "const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
                 return (r + g + b) / 3;",
            )
            .await?;
        Ok(brightness
            .as_f64()
            .is_some_and(|b| (b < 80.0) == dark)
            .then_some(()))
    })
    .await
}

#[tokio::test]
async fn every_page_at_both_widths_in_both_themes() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let url = gateway.url.clone();
    let sandbox = first_id(
        &format!("{url}/v1beta2/sandboxes?includeStopped=true"),
        "sandboxes",
        "sandboxId",
    )
    .await?;
    let profile = first_id(
        &format!("{url}/v1beta2/sandbox/profile-templates"),
        "profileTemplates",
        "id",
    )
    .await?;
    with_browser("gallery", |client| async move {
        let page = Page(&client);
        client.set_window_size(1440, 900).await?;
        sign_in(&page, &format!("{url}/overview"), ADMIN).await?;
        page.wait_for(Locator::Css(".tiles")).await?;
        let sandbox_page = format!("/sandboxes/{sandbox}");
        let profile_page = format!("/profiles/{profile}");
        let pages: [(&str, &str, &str); 15] = [
            ("overview", "/overview", ".tiles"),
            ("runners", "/runners", "table.runners"),
            ("runner", "/runners/gpu-east", ".cards"),
            ("availability", "/availability", "table.data-table"),
            ("will-it-fit", "/will-it-fit", ".will-it-fit .verdict"),
            ("activity", "/activity", ".history-entries"),
            ("profiles", "/profiles", "table.data-table"),
            ("profile", profile_page.as_str(), "#editor-heading"),
            (
                "sandboxes",
                "/sandboxes?includeStopped=true",
                "table.sandboxes",
            ),
            ("sandbox", sandbox_page.as_str(), ".log-pane"),
            ("launch", "/sandboxes/new", ".fit-line .verdict"),
            ("managed-runners", "/managed-runners", "table.data-table"),
            (
                "managed-runner",
                "/managed-runners/gpu-east",
                ".runner-form form",
            ),
            ("new-runner", "/managed-runners/new", "#runner-id"),
            ("rollout", "/rollout", "#rollout-heading"),
        ];
        let mut found = Vec::new();
        for (theme, dark) in [("light", false), ("dark", true)] {
            choose_theme(&client, theme, dark).await?;
            for (width, height) in [(1440, 900), (390, 844)] {
                client.set_window_size(width, height).await?;
                let inner = page.script("return window.innerWidth").await?;
                anyhow::ensure!(
                    inner
                        .as_i64()
                        .is_some_and(|w| w <= i64::from(width) && w > i64::from(width) - 40),
                    "asked for a {width} px window, got {inner}"
                );
                for (name, path, ready) in pages {
                    client.goto(&format!("{url}{path}")).await?;
                    page.wait_for(Locator::Css(ready)).await?;
                    // Loaded, not loading: what is checked is the page people read.
                    eventually("the page to load", Duration::from_secs(15), || async {
                        let loading = page
                            .script("return document.querySelectorAll('.loading').length")
                            .await?;
                        Ok((loading == 0).then_some(()))
                    })
                    .await?;
                    if name == "profile" {
                        // The form, whose controls are the editor's.
                        page.button("Form").await?.click().await?;
                        page.wait_for(Locator::Css(".profile-form")).await?;
                    }
                    // The theme chosen on another page (and bundle) holds here too.
                    shows_theme(&client, dark).await?;
                    controls_look_the_same(&page, path).await?;
                    tables_fit(&page, name, width).await?;
                    for violation in page.accessibility_violations().await? {
                        found.push(format!("{path} at {width} px, {theme}: {violation}"));
                    }
                    if width < 400 {
                        phone_layout_holds(&page, path).await?;
                    }
                    save_screenshot(&client, &format!("gallery-{name}-{width}-{theme}")).await?;
                }
                client.set_window_size(1440, 900).await?;
            }
        }
        // Back to following the system, which (headless) is light.
        choose_theme(&client, "system", false).await?;
        client.refresh().await?;
        shows_theme(&client, false).await?;
        // The first page, signed out, in both themes (remembered from before) and widths.
        page.button("Sign out").await?.click().await?;
        page.field("Bearer token").await?;
        for (theme, dark) in [("light", false), ("dark", true)] {
            page.script(&format!(
                "localStorage.setItem('sandbox-console.theme', '{theme}')"
            ))
            .await?;
            for (width, height) in [(1440, 900), (390, 844)] {
                client.set_window_size(width, height).await?;
                client.goto(&format!("{url}/sign-in")).await?;
                page.field("Bearer token").await?;
                shows_theme(&client, dark).await?;
                for violation in page.accessibility_violations().await? {
                    found.push(format!("/sign-in at {width} px, {theme}: {violation}"));
                }
                controls_look_the_same(&page, "/sign-in").await?;
                save_screenshot(&client, &format!("gallery-sign-in-{width}-{theme}")).await?;
            }
        }
        assert!(found.is_empty(), "axe-core found:\n{}", found.join("\n"));
        Ok(())
    })
    .await
}

/// At phone width: the page does not scroll sideways, every navigation item is on
/// screen, and filters wait in a closed drawer.
async fn phone_layout_holds(page: &Page<'_>, path: &str) -> anyhow::Result<()> {
    let sideways = page
        .script(
            "return [document.documentElement.scrollWidth, window.innerWidth,
                [...document.querySelectorAll('body *')]
                  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1
                                 && !(e.parentElement && e.parentElement.closest('.virtual-scroll, .log-lines, .monaco-editor, .chart, .xterm')))
                  .slice(0, 3).map((e) => e.tagName + '.' + e.className)]",
        )
        .await?;
    anyhow::ensure!(
        sideways[0].as_i64() <= sideways[1].as_i64() && sideways[2] == Value::Array(vec![]),
        "{path} scrolls sideways: {sideways}"
    );
    let hidden = page
        .script(
            "return [...document.querySelectorAll('.topbar nav a, .topbar button, .topbar select')]
               .filter((a) => { const r = a.getBoundingClientRect();
                                return r.width === 0 || r.right > window.innerWidth || r.left < 0; })
               .map((a) => a.textContent)",
        )
        .await?;
    anyhow::ensure!(
        hidden == Value::Array(vec![]),
        "{path}: off screen: {hidden}"
    );
    let open_filters = page
        .script(
            "return [...document.querySelectorAll('.filters-drawer .filters')]
               .filter((f) => f.checkVisibility()).length",
        )
        .await?;
    anyhow::ensure!(
        open_filters == 0,
        "{path}: the filters are not in a closed drawer"
    );
    Ok(())
}

/// Every text field and choice on the page is the one styled control (not a browser
/// default, 21 px tall), the editors' own hidden text areas aside.
async fn controls_look_the_same(page: &Page<'_>, path: &str) -> anyhow::Result<()> {
    let odd = page
        .script(
            "return [...document.querySelectorAll('input:not([type=checkbox]):not([type=radio]):not([type=hidden]), select, textarea')]
               .filter((e) => e.checkVisibility() && !e.closest('.monaco-editor, .xterm'))
               .filter((e) => e.getBoundingClientRect().height < 30)
               .map((e) => (e.id || e.tagName) + ': ' + e.getBoundingClientRect().height)",
        )
        .await?;
    anyhow::ensure!(
        odd == Value::Array(vec![]),
        "{path}: controls not styled: {odd}"
    );
    Ok(())
}

/// Tables fit: no runners column header is cut at full width, a long profile list
/// ends in "+N", each managed runner has one install status, and on a phone the
/// runners table is a list that needs no sideways scroll.
async fn tables_fit(page: &Page<'_>, name: &str, width: u32) -> anyhow::Result<()> {
    match (name, width) {
        ("runners", 1440) => {
            let cut = page
                .script(
                    "return [...document.querySelectorAll('table.runners thead th, table.runners tbody td:nth-child(3)')]
                       .filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => c.textContent)",
                )
                .await?;
            anyhow::ensure!(
                cut == Value::Array(vec![]),
                "cut in the runners table: {cut}"
            );
            page.text_containing("table.runners .chip.more", "+")
                .await?;
        }
        ("runners", _) => {
            let sideways = page
                .script(
                    "const table = document.querySelector('table.runners');
                     return table.scrollWidth - table.parentElement.clientWidth",
                )
                .await?;
            anyhow::ensure!(
                sideways.as_i64().is_some_and(|d| d <= 1),
                "the runners list scrolls sideways on a phone by {sideways} px"
            );
        }
        ("managed-runners", _) => {
            let statuses = page
                .script(
                    "return [...document.querySelectorAll('td[data-label=\"Install\"]')]
                       .map((c) => c.querySelectorAll('.status').length)",
                )
                .await?;
            let counts: Vec<i64> = serde_json::from_value(statuses)?;
            anyhow::ensure!(
                !counts.is_empty() && counts.iter().all(|&n| n == 1),
                "install statuses per runner: {counts:?}"
            );
        }
        _ => {}
    }
    Ok(())
}
