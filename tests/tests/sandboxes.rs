//! Sandboxes in the console, on real sandbox processes: the list with its filters and
//! live status, stopping one, and a sandbox's page with its exit code and its log,
//! coloured output shown as styled text, followed to the end.

use std::time::Duration;

use fantoccini::Locator;
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::cutting_proxy::CuttingProxy;
use sandbox_e2e::demo::{USER, demo_gateway, demo_gateway_with, sign_in};
use sandbox_e2e::eventually;
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

/// Starts a sandbox as the demo user running `script` under `sh -c`; its ID.
async fn start(gateway: &Gateway, script: &str, tags: &[&str]) -> anyhow::Result<String> {
    let response = reqwest::Client::new()
        .post(format!("{}/v1beta2/sandboxes", gateway.url))
        .bearer_auth(USER)
        .json(&json!({"command": "sh", "args": ["-c", script], "containerImage": "busybox:1.36", "tags": tags}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "starting: {}",
        response.text().await?
    );
    let started: Value = response.json().await?;
    Ok(started["sandboxId"].as_str().unwrap_or_default().to_owned())
}

/// The text of the log lines in the DOM.
async fn log_lines(page: &Page<'_>) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for line in page.0.find_all(Locator::Css(".log-line .log-text")).await? {
        lines.push(line.text().await?);
    }
    Ok(lines)
}

#[tokio::test]
async fn a_sandbox_page_shows_how_it_ended_and_its_whole_log() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let script = r#"printf '\033[31mred alert\033[0m plain\n'; i=1; while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); done; printf 'long %0400d\n' 0; printf 'no newline at the end'; exit 3"#;
    let id = start(&gateway, script, &["e2e-log"]).await?;
    with_browser("sandbox-log", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/sandboxes/{id}", gateway.url), USER).await?;
        page.text_containing(".exit-code", "3").await?;
        page.text_containing(".log-status", "Ended").await?;
        // Following: the end of the log is in view, including a last line without
        // a newline; the DOM holds only a window of the 302 lines.
        eventually(
            "the last lines in view",
            Duration::from_secs(10),
            || async {
                let lines = log_lines(&page).await?;
                Ok(
                    (lines.last().map(String::as_str) == Some("no newline at the end")
                        && lines.iter().any(|l| l == "line 300"))
                    .then_some(lines.len()),
                )
            },
        )
        .await
        .and_then(|count| {
            anyhow::ensure!(count < 100, "{count} lines in the DOM");
            Ok(())
        })?;
        save_screenshot(&client, "sandbox-log").await?;
        // Scrolled to the top, the first line shows its colour as a styled span, not
        // as escape codes or markup.
        page.script("document.querySelector('.log-lines').scrollTop = 0; return null")
            .await?;
        let red = page
            .text_containing(".log-line .ansi-fg-1", "red alert")
            .await?;
        assert_eq!(red, "red alert");
        let first = log_lines(&page).await?;
        assert_eq!(first.first().map(String::as_str), Some("red alert plain"));
        // Colours can be left out; the text stays.
        client
            .find(Locator::XPath("//label[normalize-space()='Colours']/input"))
            .await?
            .click()
            .await?;
        eventually("the colours gone", Duration::from_secs(10), || async {
            let styled = client
                .find_all(Locator::Css(".log-line .ansi-fg-1"))
                .await?;
            Ok(styled.is_empty().then_some(()))
        })
        .await?;
        let first = log_lines(&page).await?;
        assert_eq!(first.first().map(String::as_str), Some("red alert plain"));
        // Scrolling up left the end; on an ended log there is nothing to follow, and the
        // button says so while it brings the end back.
        page.button("Go to the end").await?.click().await?;
        page.text_containing(".log-lines", "no newline at the end")
            .await?;
        // Wrapping: the 405-character line takes several rows instead of scrolling
        // sideways, and the end of the log stays in view.
        client
            .find(Locator::XPath("//label[normalize-space()='Wrap']/input"))
            .await?
            .click()
            .await?;
        eventually("the long line wrapped", Duration::from_secs(10), || async {
            let shape = page
                .script(
                    "const pane = document.querySelector('.log-lines');
                     const row = [...pane.querySelectorAll('.log-line')].find((l) => l.textContent.includes('long 000'));
                     return row ? [row.getBoundingClientRect().height, pane.scrollWidth - pane.clientWidth] : null",
                )
                .await?;
            let (height, overflow) = (shape[0].as_f64(), shape[1].as_f64());
            Ok((height.is_some_and(|h| h >= 40.0) && overflow.is_some_and(|o| o <= 0.0))
                .then_some(()))
        })
        .await?;
        page.text_containing(".log-lines", "no newline at the end")
            .await?;
        save_screenshot(&client, "sandbox-log-wrapped").await?;
        // Search counts the matching lines.
        page.field("Search").await?.send_keys("line 29").await?;
        page.text_containing(".log-toolbar", "11 matching lines")
            .await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn the_list_filters_by_tag_and_stops_a_running_sandbox() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let running = start(&gateway, "sleep 300", &["e2e-stop"]).await?;
    let other = start(&gateway, "sleep 300", &["e2e-other"]).await?;
    with_browser("sandbox-list", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/sandboxes", gateway.url), USER).await?;
        page.text_containing("table.sandboxes", &other).await?;
        page.field_in("Filters", "Tags")
            .await?
            .send_keys("e2e-stop")
            .await?;
        page.at("/sandboxes?tags=e2e-stop").await?;
        eventually(
            "only the tagged sandbox",
            Duration::from_secs(10),
            || async {
                let text = client
                    .find(Locator::Css("table.sandboxes"))
                    .await?
                    .text()
                    .await?;
                Ok((text.contains(&running) && !text.contains(&other)).then_some(()))
            },
        )
        .await?;
        page.text_containing("table.sandboxes", "Running").await?;
        client
            .find(Locator::Css(&format!(
                "button[aria-label='Stop {running}']"
            )))
            .await?
            .click()
            .await?;
        // Nothing happens before the confirmation, which asks for the grace period.
        let grace = page.field("Grace period (seconds)").await?;
        grace.clear().await?;
        grace.send_keys("1").await?;
        confirm(&page, "Stop").await?;
        page.text_containing(".toast", &format!("Stopping {running}"))
            .await?;
        // Once it has ended it leaves the default list; with stopped ones it is back.
        page.text_containing(".empty-state", "No sandboxes").await?;
        client
            .find(Locator::Css("#sandbox-stopped"))
            .await?
            .click()
            .await?;
        page.at("/sandboxes?tags=e2e-stop&includeStopped=true")
            .await?;
        page.text_containing("table.sandboxes", &running).await?;
        client
            .find(Locator::Css(&format!(
                "button[aria-label='Delete {running}']"
            )))
            .await?
            .click()
            .await?;
        confirm(&page, "Delete").await?;
        page.text_containing(".toast", &format!("Deleted {running}"))
            .await?;
        page.text_containing(".empty-state", "No sandboxes").await?;
        Ok(())
    })
    .await
}

/// Clicks `action` in the open confirmation.
async fn confirm(page: &Page<'_>, action: &str) -> anyhow::Result<()> {
    page.wait_for(Locator::XPath(&format!(
        "//div[contains(@class,'confirm')]//button[normalize-space()='{action}']"
    )))
    .await?
    .click()
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_sandbox_page_stops_and_deletes_its_sandbox_after_confirming() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let id = start(&gateway, "sleep 300", &["e2e-page-actions"]).await?;
    with_browser("sandbox-actions", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/sandboxes/{id}", gateway.url), USER).await?;
        page.text_containing(".facts", "Running").await?;
        // What it runs, when, and with what, in words; the command can be pasted.
        page.text_containing(".facts .image", "busybox:1.36").await?;
        page.text_containing(".facts .command", "sh -c 'sleep 300'")
            .await?;
        page.text_containing(".facts", "Running for").await?;
        page.text_containing(".facts", "Created").await?;
        page.text_containing(".facts .reserved", "vCPU").await?;
        page.wait_for(Locator::Css("button[aria-label='Copy the sandbox ID']"))
            .await?;
        // The log is on the first screen, above exec and the terminal.
        page.wait_for(Locator::Css(".log-pane")).await?;
        let log_top = page
            .script(
                "return [document.querySelector('.log-pane').getBoundingClientRect().top, window.innerHeight,
                         document.querySelector('.log-pane').compareDocumentPosition(document.querySelector('.exec-panel, .exec-form'))]",
            )
            .await?;
        anyhow::ensure!(
            log_top[0].as_f64() < log_top[1].as_f64(),
            "the log pane starts below the fold: {log_top}"
        );
        anyhow::ensure!(
            log_top[2].as_i64().is_some_and(|p| p & 4 != 0),
            "exec comes before the log: {log_top}"
        );
        // The whole record, as YAML and as JSON.
        client
            .find(Locator::Css(".raw-view summary"))
            .await?
            .click()
            .await?;
        page.text_containing(".raw-text", "containerImage: busybox:1.36")
            .await?;
        page.button("JSON").await?.click().await?;
        page.text_containing(".raw-text", "\"containerImage\": \"busybox:1.36\"")
            .await?;
        save_screenshot(&client, "sandbox-page").await?;
        let stop = format!("button[aria-label='Stop {id}']");
        // Cancel changes nothing.
        client.find(Locator::Css(&stop)).await?.click().await?;
        confirm(&page, "Cancel").await?;
        assert!(client.find_all(Locator::Css(".confirm")).await?.is_empty());
        // So does Escape.
        client.find(Locator::Css(&stop)).await?.click().await?;
        page.field("Grace period (seconds)")
            .await?
            .send_keys(&fantoccini::key::Key::Escape.to_string())
            .await?;
        eventually(
            "the confirmation to close",
            Duration::from_secs(5),
            || async {
                Ok(client
                    .find_all(Locator::Css(".confirm"))
                    .await?
                    .is_empty()
                    .then_some(()))
            },
        )
        .await?;
        // A grace period that cannot be read is said, and Stop waits for a good one.
        client.find(Locator::Css(&stop)).await?.click().await?;
        let grace = page.field("Grace period (seconds)").await?;
        grace.clear().await?;
        grace.send_keys("0").await?;
        page.text_containing(".confirm .field-error", "whole number of seconds")
            .await?;
        let button = page
            .wait_for(Locator::XPath(
                "//div[contains(@class,'confirm')]//button[normalize-space()='Stop']",
            ))
            .await?;
        assert!(
            !button.is_enabled().await?,
            "Stop with an unreadable grace period"
        );
        save_screenshot(&client, "sandbox-stop-confirm").await?;
        grace.clear().await?;
        grace.send_keys("1").await?;
        confirm(&page, "Stop").await?;
        page.text_containing(".toast", &format!("Stopping {id}"))
            .await?;
        page.text_containing(".facts", "Terminated").await?;
        page.text_containing(".facts", "Ended").await?;
        page.text_containing(".facts", "Ran for").await?;
        // Delete, confirmed, leaves for the list, where it is gone.
        client
            .find(Locator::Css(&format!("button[aria-label='Delete {id}']")))
            .await?
            .click()
            .await?;
        confirm(&page, "Delete").await?;
        page.text_containing(".toast", &format!("Deleted {id}"))
            .await?;
        page.at("/sandboxes").await?;
        // Its old address explains once that it is gone, with no empty log to offer.
        client
            .goto(&format!("{}/sandboxes/{id}", gateway.url))
            .await?;
        // The log pane (whose own error made the second panel) is not there to fail.
        page.text_containing(".error-panel", "not found").await?;
        assert_eq!(
            client.find_all(Locator::Css(".error-panel")).await?.len(),
            1
        );
        assert!(client.find_all(Locator::Css(".log-pane")).await?.is_empty());
        Ok(())
    })
    .await
}

/// The line number and text of every log row in the DOM.
async fn numbered_rows(page: &Page<'_>) -> anyhow::Result<Vec<(u64, String)>> {
    let rows = page
        .script(
            "return [...document.querySelectorAll('.log-line')].map((row) =>
                [row.querySelector('.log-number').textContent, row.querySelector('.log-text').textContent])",
        )
        .await?;
    Ok(rows
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            let number = row[0].as_str()?.parse().ok()?;
            Some((number, row[1].as_str()?.to_owned()))
        })
        .collect())
}

#[tokio::test]
async fn a_log_cut_mid_stream_again_and_again_loses_and_repeats_nothing() -> anyhow::Result<()> {
    const LINES: u64 = 6000;
    let gateway = demo_gateway().await?;
    let script = format!(
        r#"i=1; while [ $i -le {LINES} ]; do echo "line $i of the output, padded so that the log runs to a few hundred KB"; i=$((i+1)); done"#
    );
    let id = start(&gateway, &script, &["e2e-cut"]).await?;
    // Longer than the largest frame (64 KiB of output, base64), so every connection
    // delivers something before it is cut mid-frame.
    let proxy = CuttingProxy::start(gateway.url.trim_start_matches("http://"), 100 * 1024).await?;
    with_browser("log-cut", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/sandboxes/{id}", proxy.url), USER).await?;
        eventually("the whole log", Duration::from_secs(90), || async {
            let status = client.find(Locator::Css(".log-status")).await?.text().await?;
            Ok(status.starts_with("Ended").then_some(()))
        })
        .await?;
        assert!(proxy.cuts() >= 3, "the stream was cut only {} times", proxy.cuts());
        // Every line is there once, in order: wherever the pane is scrolled, each row's
        // number is the number its text carries, up to the last line.
        let mut checked = 0;
        for line in [1, 1234, 2500, 3777, 5000, LINES] {
            page.script(&format!(
                "document.querySelector('.log-lines').scrollTop = {}; return null",
                (line - 1) * 20
            ))
            .await?;
            let rows = eventually("the rows around that line", Duration::from_secs(10), || async {
                let rows = numbered_rows(&page).await?;
                Ok(rows.iter().any(|(n, _)| *n == line).then_some(rows))
            })
            .await?;
            for (number, text) in rows {
                assert_eq!(
                    text,
                    format!("line {number} of the output, padded so that the log runs to a few hundred KB")
                );
                checked += 1;
            }
        }
        let last = numbered_rows(&page).await?.last().map(|(n, _)| *n);
        assert_eq!(last, Some(LINES));
        assert!(checked > 50, "only {checked} rows checked");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn exec_runs_a_command_and_shows_its_output_and_exit_code() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let id = start(&gateway, "sleep 300", &["e2e-exec"]).await?;
    with_browser("exec", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/sandboxes/{id}", gateway.url), USER).await?;
        let command = page.field("Command").await?;
        command
            .send_keys(r#"sh -c "echo 'it ran'; echo 'went wrong' >&2; exit 4""#)
            .await?;
        page.button("Run").await?.click().await?;
        page.text_containing(".exec-exit", "exit code 4").await?;
        assert_eq!(
            page.text_containing(".exec-stdout", "it ran").await?,
            "it ran"
        );
        assert_eq!(
            page.text_containing(".exec-stderr", "went wrong").await?,
            "went wrong"
        );
        save_screenshot(&client, "exec").await?;
        // The arrow key brings the last command back.
        command
            .send_keys(&fantoccini::key::Key::Up.to_string())
            .await?;
        let recalled = command.prop("value").await?.unwrap_or_default();
        assert!(recalled.starts_with("sh -c"), "{recalled}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn launching_checks_the_request_before_it_goes_and_then_runs_it() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    with_browser("launch", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/sandboxes", gateway.url), USER).await?;
        page.wait_for(Locator::LinkText("Launch…"))
            .await?
            .click()
            .await?;
        page.at("/sandboxes/new").await?;
        // Nothing typed yet: the rules say what is missing and Launch waits.
        // In the form's words, not the API's paths; the image may come from the profile.
        let problems = page
            .text_containing(".launch-problems", "Command is required")
            .await?;
        assert!(!problems.contains("container_image"), "{problems}");
        let launch = page.button("Launch").await?;
        assert!(
            !launch.is_enabled().await?,
            "Launch is enabled with problems"
        );
        page.field("Image").await?.send_keys("busybox:1.36").await?;
        page.field("Command").await?.send_keys("sh").await?;
        page.field("Arguments")
            .await?
            .send_keys(r#"-c "echo launched from the console; exit 0""#)
            .await?;
        page.field("Memory").await?.send_keys("64Mi").await?;
        page.text_containing(".fit-line .verdict", "Fits").await?;
        // Asking for more memory than any runner has free is shown before launching.
        let memory = page.field("Memory").await?;
        memory.clear().await?;
        memory.send_keys("4096Gi").await?;
        page.text_containing(".fit-line .verdict", "Does not fit")
            .await?;
        // Launching anyway: the gateway refuses, and says why runner by runner.
        page.button("Launch").await?.click().await?;
        page.text_containing(".error-panel", "CWSANDBOX_NO_SUITABLE_RUNNER")
            .await?;
        let reasons = page
            .text_containing(".error-panel .rejections li", "memory")
            .await?;
        assert!(reasons.contains(": "), "{reasons}");
        // One click asks for what fits: here the per-sandbox ceiling, said as such and
        // written in the unit a person would type; the refusal, about the old request,
        // goes.
        let fix = client
            .find(Locator::XPath(
                "//div[@class='fixes']/button[contains(., 'of memory')]",
            ))
            .await?;
        let label = fix.text().await?;
        assert!(
            label.contains("the most one sandbox may have"),
            "{label}"
        );
        fix.click().await?;
        page.text_containing(".fit-line .verdict", "Fits").await?;
        let fixed = memory.prop("value").await?.unwrap_or_default();
        assert_eq!(fixed, "64Gi");
        let stale = page
            .script("return document.querySelectorAll('.launch .error-panel').length")
            .await?;
        assert_eq!(stale, 0, "the refusal of the old request is still shown");
        memory.clear().await?;
        memory.send_keys("64Mi").await?;
        page.text_containing(".fit-line .verdict", "Fits").await?;
        // An egress mode the default profiles do not offer: a profile that does is one
        // click away.
        client
            .find(Locator::Css("#launch-egress option[value='org']"))
            .await?
            .click()
            .await?;
        page.text_containing(".fit-line .verdict", "Does not fit")
            .await?;
        page.button("Use profile internal-worker, which offers egress org")
            .await?
            .click()
            .await?;
        page.text_containing(".fit-line .verdict", "Fits").await?;
        client
            .find(Locator::Css("#launch-egress option[value='']"))
            .await?
            .click()
            .await?;
        // The draft survives a reload.
        client.refresh().await?;
        let image = page
            .field("Image")
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        assert_eq!(image, "busybox:1.36");
        let copies = page
            .script("return [...document.querySelectorAll('.copy-block pre')].map((p) => p.textContent)")
            .await?;
        let (curl, python) = (
            copies[0].as_str().unwrap_or_default(),
            copies[1].as_str().unwrap_or_default(),
        );
        assert!(
            curl.contains("$SANDBOX_TOKEN") && !curl.contains(USER),
            "{curl}"
        );
        assert!(
            python.contains("Sandbox.run(\n    \"sh\",\n    \"-c\",")
                && python.contains("profile_names=[\"internal-worker\"]")
                && python.contains("CWSANDBOX_API_KEY")
                && !python.contains(USER),
            "{python}"
        );
        save_screenshot(&client, "launch").await?;
        page.button("Launch").await?.click().await?;
        eventually("the sandbox page", Duration::from_secs(10), || async {
            let url = client.current_url().await?;
            Ok(
                (url.path().starts_with("/sandboxes/") && !url.path().ends_with("/new"))
                    .then_some(()),
            )
        })
        .await?;
        page.text_containing(".log-lines", "launched from the console")
            .await?;
        // Under the profile the fix picked, shown by name.
        page.text_containing(".profile-name", "internal-worker")
            .await?;
        page.text_containing(".exit-code", "0").await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_log_longer_than_memory_keeps_every_line_reachable_searchable_and_downloadable()
-> anyhow::Result<()> {
    // More lines than the pane keeps in memory (200,000), so the first 50,000 are
    // dropped and must be read again from the gateway when scrolled to.
    const LINES: u64 = 250_000;
    let gateway = demo_gateway().await?;
    let script =
        format!(r#"awk 'BEGIN {{ for (i = 1; i <= {LINES}; i++) printf "line %d\n", i }}'"#);
    let id = start(&gateway, &script, &["e2e-long"]).await?;
    with_browser("log-long", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/sandboxes/{id}", gateway.url), USER).await?;
        eventually("the whole log", Duration::from_secs(60), || async {
            let status = client.find(Locator::Css(".log-status")).await?.text().await?;
            Ok(status.starts_with("Ended").then_some(()))
        })
        .await?;
        page.text_containing(".log-pane", "The first 50000 lines are read again")
            .await?;
        // Scrolled back to dropped lines, they come back, with their numbers.
        for line in [1u64, 30_000, 49_999] {
            page.script(&format!(
                "document.querySelector('.log-lines').scrollTop = {}; return null",
                (line - 1) * 20
            ))
            .await?;
            eventually(
                &format!("line {line} read again"),
                Duration::from_secs(20),
                || async {
                    let rows = numbered_rows(&page).await?;
                    Ok(rows
                        .iter()
                        .any(|(n, text)| *n == line && *text == format!("line {line}"))
                        .then_some(()))
                },
            )
            .await?;
        }
        save_screenshot(&client, "log-long-scrolled-back").await?;
        // Search covers the lines in memory; Enter goes to the next match, Shift+Enter
        // to the previous one (wrapping around).
        let search = page.field("Search").await?;
        search.send_keys("line 12345").await?;
        page.text_containing(".log-toolbar", "10 matching lines")
            .await?;
        search
            .send_keys(&fantoccini::key::Key::Enter.to_string())
            .await?;
        page.text_containing(".log-line.current .log-text", "line 123450")
            .await?;
        page.text_containing(".log-toolbar", "(1 of 10)").await?;
        search
            .send_keys(&format!(
                "{}{}",
                fantoccini::key::Key::Shift,
                fantoccini::key::Key::Enter
            ))
            .await?;
        page.text_containing(".log-line.current .log-text", "line 123459")
            .await?;
        // The download is the whole log, read from the gateway.
        page.script(
            "window.downloaded = null;
             const create = URL.createObjectURL;
             URL.createObjectURL = (blob) => { blob.text().then((t) => { window.downloaded = t; }); return create(blob); };
             return null",
        )
        .await?;
        page.button("Download").await?.click().await?;
        let downloaded = eventually("the download", Duration::from_secs(30), || async {
            let text = page.script("return window.downloaded").await?;
            Ok(text.as_str().map(str::to_owned))
        })
        .await?;
        let lines: Vec<&str> = downloaded.lines().collect();
        assert_eq!(lines.len() as u64, LINES);
        assert_eq!(lines.first(), Some(&"line 1"));
        assert_eq!(lines.last(), Some(&"line 250000"));
        // Starting at the last 100 lines is a setting, remembered across a reload.
        client
            .find(Locator::Css("#log-start option[value='100']"))
            .await?
            .click()
            .await?;
        page.text_containing(".log-pane", "Started at the last 100 lines")
            .await?;
        client.refresh().await?;
        page.text_containing(".log-status", "Ended").await?;
        eventually("the last 100 lines", Duration::from_secs(10), || async {
            let rows = numbered_rows(&page).await?;
            Ok((rows.last() == Some(&(100, "line 250000".to_owned()))).then_some(()))
        })
        .await?;
        page.script("document.querySelector('.log-lines').scrollTop = 0; return null")
            .await?;
        eventually("the first of them", Duration::from_secs(10), || async {
            let rows = numbered_rows(&page).await?;
            Ok((rows.first() == Some(&(1, "line 249901".to_owned()))).then_some(()))
        })
        .await?;
        page.button("Read the whole log").await?.click().await?;
        eventually("the whole log again", Duration::from_secs(60), || async {
            let rows = numbered_rows(&page).await?;
            Ok((rows.last() == Some(&(LINES, format!("line {LINES}")))).then_some(()))
        })
        .await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_sandbox_killed_for_memory_says_so_on_its_page() -> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    // `tail` keeps the endless line of /dev/zero in memory until the limit stops it.
    let response = reqwest::Client::new()
        .post(format!("{}/v1beta2/sandboxes", gateway.url))
        .bearer_auth(USER)
        .json(&json!({
            "command": "tail", "args": ["/dev/zero"], "containerImage": "busybox:1.36",
            "resources": {"memory": "64Mi"}, "resourceLimits": {"memory": "64Mi"}
        }))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "starting: {}",
        response.text().await?
    );
    let id = response.json::<Value>().await?["sandboxId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    with_browser("sandbox-oom", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/sandboxes/{id}", gateway.url), USER).await?;
        page.text_containing(".status", "Failed").await?;
        let reason = page.text_containing(".status-reason", "OOMKilled").await?;
        assert!(reason.contains("64 MiB"), "{reason}");
        save_screenshot(&client, "sandbox-oom").await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn an_unisolated_sandbox_is_flagged_in_the_list_and_on_its_page() -> anyhow::Result<()> {
    let gateway = demo_gateway_with(&["--isolation", "none"]).await?;
    let id = start(&gateway, "sleep 60", &["e2e-unisolated"]).await?;
    with_browser("sandbox-unisolated", |client| async move {
        let page = Page(&client);
        sign_in(
            &page,
            &format!("{}/sandboxes?tags=e2e-unisolated", gateway.url),
            USER,
        )
        .await?;
        page.text_containing("table .badge.warning", "unisolated")
            .await?;
        save_screenshot(&client, "sandboxes-unisolated").await?;
        page.0
            .goto(&format!("{}/sandboxes/{id}", gateway.url))
            .await?;
        let badge = page
            .text_containing(".facts .badge.warning", "unisolated")
            .await?;
        assert_eq!(badge, "unisolated");
        save_screenshot(&client, "sandbox-unisolated").await?;
        Ok(())
    })
    .await
}
