//! The console on a phone (390 × 844): no page scrolls sideways, and every navigation
//! item can be reached.

use fantoccini::Locator;
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{ADMIN, demo_gateway, sign_in};
use serde_json::Value;

#[tokio::test]
async fn at_390_pixels_no_page_scrolls_sideways_and_every_nav_item_is_reachable()
-> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let sandboxes: Value = reqwest::Client::new()
        .get(format!(
            "{}/v1beta2/sandboxes?includeStopped=true",
            gateway.url
        ))
        .bearer_auth(ADMIN)
        .send()
        .await?
        .json()
        .await?;
    let sandbox = sandboxes["sandboxes"][0]["sandboxId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let url = gateway.url.clone();
    with_browser("narrow", |client| async move {
        client.set_window_size(390, 844).await?;
        let page = Page(&client);
        sign_in(&page, &format!("{url}/overview"), ADMIN).await?;
        let width = page.script("return window.innerWidth").await?;
        anyhow::ensure!(width.as_i64().is_some_and(|w| w <= 400), "the window is {width} wide");
        let sandbox_page = format!("/sandboxes/{sandbox}");
        for (path, ready) in [
            ("/overview", ".tiles"),
            ("/runners", "table.runners"),
            ("/runners/gpu-east", ".cards"),
            ("/availability", "table.data-table"),
            ("/will-it-fit", ".will-it-fit"),
            ("/profiles", "table.data-table"),
            ("/sandboxes?includeStopped=true", "table.sandboxes"),
            (sandbox_page.as_str(), ".log-pane"),
            ("/sandboxes/new", ".launch"),
            ("/managed-runners", "table.data-table"),
            ("/activity", ".history-entries"),
        ] {
            client.goto(&format!("{url}{path}")).await?;
            page.wait_for(Locator::Css(ready)).await?;
            let sideways = page
                .script(
                    "return [document.documentElement.scrollWidth, window.innerWidth,
                        [...document.querySelectorAll('body *')]
                          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1
                                         && !(e.parentElement && e.parentElement.closest('.data-table, .log-lines, .monaco-editor, .chart')))
                          .slice(0, 3).map((e) => e.tagName + '.' + e.className)]",
                )
                .await?;
            let (scroll, inner) = (sideways[0].as_i64(), sideways[1].as_i64());
            anyhow::ensure!(
                scroll <= inner,
                "{path} scrolls sideways: {sideways}"
            );
            // Every navigation item is on screen (the header wraps, nothing hides).
            let hidden = page
                .script(
                    "return [...document.querySelectorAll('.topbar nav a, .topbar button')]
                       .filter((a) => { const r = a.getBoundingClientRect();
                                        return r.width === 0 || r.right > window.innerWidth || r.left < 0; })
                       .map((a) => a.textContent)",
                )
                .await?;
            anyhow::ensure!(hidden == Value::Array(vec![]), "{path}: off screen: {hidden}");
            if path == "/overview" {
                save_screenshot(&client, "narrow-overview").await?;
            }
        }
        Ok(())
    })
    .await
}
