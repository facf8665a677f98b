//! The overview where a user lands, and usage you can see: signing in lands on the
//! overview, whose figures link to the lists they count; a sandbox burning CPU shows
//! on its page's chart within seconds, and on its runner's and the fleet's.

use std::time::Duration;

use fantoccini::Locator;
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{USER, demo_gateway, sign_in};
use sandbox_e2e::eventually;
use serde_json::{Value, json};

/// The largest value the chart `kind` (`cpu`, `memory`) draws now.
async fn charted_peak(page: &Page<'_>, kind: &str) -> anyhow::Result<f64> {
    let peak = page
        .script(&format!(
            "const chart = document.querySelector('[data-chart={kind}]')?.uplot;
             return chart ? Math.max(0, ...chart.data[1].filter((v) => v != null)) : -1;"
        ))
        .await?;
    Ok(peak.as_f64().unwrap_or(-1.0))
}

#[tokio::test]
async fn signing_in_lands_on_the_overview_and_a_busy_sandbox_shows_on_the_charts()
-> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let started: Value = reqwest::Client::new()
        .post(format!("{}/v1beta2/sandboxes", gateway.url))
        .bearer_auth(USER)
        .json(
            &json!({"command": "sh", "args": ["-c", "while :; do :; done"],
                      "containerImage": "busybox:1.36"}),
        )
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = started["sandboxId"].as_str().unwrap_or_default().to_owned();
    let placed: Value = reqwest::Client::new()
        .get(format!("{}/v1beta2/sandboxes/{id}", gateway.url))
        .bearer_auth(USER)
        .send()
        .await?
        .json()
        .await?;
    let runner = placed["runnerId"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!id.is_empty() && !runner.is_empty(), "{started} {placed}");
    let url = gateway.url.clone();
    with_browser("overview", |client| async move {
        let page = Page(&client);
        // Signed in with no page to go back to: the overview.
        sign_in(&page, &format!("{url}/"), USER).await?;
        page.at("/overview").await?;
        let tiles = page.text_containing(".tiles", "sandboxes running").await?;
        assert!(tiles.contains("runners"), "{tiles}");
        // The demo has a runner whose install failed.
        let attention = page
            .text_containing(".attention-card", "install failed")
            .await?;
        assert!(
            attention.contains("Runners needing attention"),
            "{attention}"
        );
        page.text_containing(".recent-sandboxes", &id).await?;

        // A busy sandbox shows on its page's chart within seconds, and in words.
        client.goto(&format!("{url}/sandboxes/{id}")).await?;
        eventually(
            "the CPU chart to show the busy sandbox",
            Duration::from_secs(20),
            || async { Ok((charted_peak(&page, "cpu").await? > 500.0).then_some(())) },
        )
        .await?;
        assert!(charted_peak(&page, "memory").await? > 0.0);
        let now = page.text_containing(".usage-now", "vCPU").await?;
        assert!(now.starts_with("Now "), "{now}");
        page.script("document.getElementById('usage').scrollIntoView(); return null")
            .await?;
        save_screenshot(&client, "sandbox-usage").await?;
        assert_eq!(page.accessibility_violations().await?, Vec::<String>::new());

        // Its runner adds it up, with how many ran.
        client.goto(&format!("{url}/runners/{runner}")).await?;
        eventually(
            "the runner's CPU chart",
            Duration::from_secs(20),
            || async { Ok((charted_peak(&page, "cpu").await? > 500.0).then_some(())) },
        )
        .await?;
        page.text_containing(".usage-now", "sandbox").await?;

        // So does the fleet, on the overview; its running figure links to the list.
        client.goto(&format!("{url}/overview")).await?;
        eventually("the fleet's CPU chart", Duration::from_secs(20), || async {
            Ok((charted_peak(&page, "cpu").await? > 500.0).then_some(()))
        })
        .await?;
        save_screenshot(&client, "overview").await?;
        assert_eq!(page.accessibility_violations().await?, Vec::<String>::new());
        client
            .find(Locator::Css(
                "a.tile[href='/sandboxes?status=SANDBOX_STATUS_RUNNING']",
            ))
            .await?
            .click()
            .await?;
        page.at("/sandboxes?status=SANDBOX_STATUS_RUNNING").await?;
        page.text_containing("table", &id).await?;
        Ok(())
    })
    .await
}
