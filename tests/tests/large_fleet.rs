//! The Runners view over a fleet far larger than the screen: only the rows in view are
//! in the DOM, every runner is reachable by scrolling or by keyboard, and a live
//! refresh keeps the scroll position and the selection.

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::key::Key;
use sandbox_e2e::browser::{Page, with_browser};
use sandbox_e2e::demo::sign_in;
use sandbox_e2e::eventually;
use sandbox_e2e::fleet::create_runners;
use sandbox_e2e::gateway::{Gateway, built_binary, built_console};
use serde_json::Value;

const ADMIN: &str = "e2e-admin-secret-0001-0123456789abcdef";
const RUNNERS: usize = 400;

/// How many fetches of the runner list the page has made.
const RUNNER_FETCHES: &str = "return performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/v1beta2/runners?')).length";

async fn rendered_rows(page: &Page<'_>) -> anyhow::Result<Vec<String>> {
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

#[tokio::test]
async fn only_the_rows_in_view_are_rendered_and_every_runner_is_reachable() -> anyhow::Result<()> {
    let console = built_console()?;
    let gateway = Gateway::start(
        &built_binary()?,
        &[
            "--console-dir",
            &console.to_string_lossy(),
            "--token",
            &format!("e2e:SANDBOX_ADMIN:{ADMIN}"),
            "--install-step-ms",
            "10",
        ],
    )
    .await?;
    create_runners(&reqwest::Client::new(), &gateway, ADMIN, RUNNERS).await?;
    with_browser("large-fleet", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/runners", gateway.url), ADMIN).await?;
        page.text_containing("table.runners caption", &format!("{RUNNERS} of {RUNNERS} runners"))
            .await?;
        let first = rendered_rows(&page).await?;
        assert_eq!(first.first().map(String::as_str), Some("runner-00000"));
        assert!(first.len() < 60, "{} rows in the DOM for {RUNNERS} runners", first.len());
        let rowcount = page.script("return document.querySelector('table.runners').getAttribute('aria-rowcount')").await?;
        assert_eq!(rowcount, Value::from((RUNNERS + 1).to_string()));

        // Scrolled to the end, the last runner is there and the first is gone.
        page.script("const s = document.querySelector('.virtual-scroll'); s.scrollTop = s.scrollHeight; return null")
            .await?;
        let last = format!("runner-{:05}", RUNNERS - 1);
        eventually("the last runner to render", Duration::from_secs(10), || async {
            let rows = rendered_rows(&page).await?;
            Ok((rows.last() == Some(&last) && !rows.contains(&"runner-00000".to_owned())).then_some(()))
        })
        .await?;

        // The keyboard selects from the top; the selection follows the arrow keys and
        // scrolls into view.
        page.script("const s = document.querySelector('.virtual-scroll'); s.scrollTop = 0; s.focus(); return null")
            .await?;
        let scroller = client.find(Locator::Css(".virtual-scroll")).await?;
        for _ in 0..30 {
            scroller.send_keys(&Key::Down.to_string()).await?;
        }
        let selected = page.text_containing("tr.selected th", "runner-").await?;
        assert_eq!(selected, "runner-00029");
        let scrolled: f64 = page
            .script("return document.querySelector('.virtual-scroll').scrollTop")
            .await?
            .as_f64()
            .unwrap_or_default();
        assert!(scrolled > 0.0, "the selection did not scroll into view");

        // A live refresh keeps both.
        let fetches = page.script(RUNNER_FETCHES).await?.as_u64().unwrap_or_default();
        eventually("a live refresh", Duration::from_secs(20), || async {
            let now = page.script(RUNNER_FETCHES).await?.as_u64().unwrap_or_default();
            Ok((now > fetches).then_some(()))
        })
        .await?;
        page.text_containing("table.runners caption", &format!("{RUNNERS} of {RUNNERS} runners"))
            .await?;
        let after: f64 = page
            .script("return document.querySelector('.virtual-scroll').scrollTop")
            .await?
            .as_f64()
            .unwrap_or_default();
        assert_eq!(after, scrolled, "the refresh moved the scroll position");
        assert_eq!(page.text_containing("tr.selected th", "runner-").await?, "runner-00029");

        // Enter opens the selected runner.
        scroller.send_keys(&Key::Enter.to_string()).await?;
        page.at("/runners/runner-00029").await?;
        Ok(())
    })
    .await
}
