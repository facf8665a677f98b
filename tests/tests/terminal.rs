//! The browser terminal: a shell in a running sandbox, over the gateway's terminal
//! WebSocket (the same terminal exec as gRPC's `StreamExec` with a tty).

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::key::Key;
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{USER, demo_gateway, sign_in};
use sandbox_e2e::eventually;
use serde_json::{Value, json};

/// What the terminal shows, row by row.
async fn screen(page: &Page<'_>) -> anyhow::Result<String> {
    let text = page
        .script("return document.querySelector('.xterm-rows')?.innerText ?? ''")
        .await?;
    Ok(text.as_str().unwrap_or_default().to_owned())
}

/// Waits until the terminal shows `needle`; the screen then.
async fn shows(page: &Page<'_>, needle: &str) -> anyhow::Result<String> {
    let found = eventually(needle, Duration::from_secs(15), || async {
        let text = screen(page).await?;
        Ok(text.contains(needle).then_some(text))
    })
    .await;
    match found {
        Ok(text) => Ok(text),
        Err(error) => Err(error.context(format!("the terminal shows:\n{}", screen(page).await?))),
    }
}

/// The rows and columns the last `stty size` printed.
fn last_size(screen: &str) -> Option<(u32, u32)> {
    screen.lines().rev().find_map(|line| {
        let (rows, columns) = line.trim().split_once(' ')?;
        Some((rows.parse().ok()?, columns.parse().ok()?))
    })
}

#[tokio::test]
async fn a_shell_in_the_browser_follows_resizes_takes_input_and_shows_colours() -> anyhow::Result<()>
{
    let gateway = demo_gateway().await?;
    let started: Value = reqwest::Client::new()
        .post(format!("{}/v1beta2/sandboxes", gateway.url))
        .bearer_auth(USER)
        .json(&json!({"command": "sleep", "args": ["600"], "containerImage": "busybox:1.36"}))
        .send()
        .await?
        .json()
        .await?;
    let id = started["sandboxId"].as_str().unwrap_or_default().to_owned();
    with_browser("terminal", |client| async move {
        let page = Page(&client);
        sign_in(&page, &format!("{}/sandboxes/{id}", gateway.url), USER).await?;
        page.button("Open a shell").await?.click().await?;
        page.text_containing(".terminal-header .hint", "Connected").await?;
        let keyboard = page
            .wait_for(Locator::Css(".terminal-host .xterm-helper-textarea"))
            .await?;
        let typed = |line: &str| format!("{line}{}", Key::Enter);

        // The shell's terminal has the size of its box, and follows it.
        keyboard.send_keys(&typed("stty size; echo sized")).await?;
        let first = last_size(&shows(&page, "\nsized").await?);
        let (rows, columns) = first.ok_or_else(|| anyhow::anyhow!("no size printed"))?;
        assert!(rows >= 10 && columns >= 40, "{rows} × {columns}");
        page.script("document.querySelector('.terminal-host').style.height = '12rem'")
            .await?;
        let resized = eventually("a smaller terminal", Duration::from_secs(15), || async {
            keyboard.send_keys(&typed("clear; stty size")).await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(last_size(&screen(&page).await?).filter(|(r, _)| *r < rows))
        })
        .await?;
        assert_eq!(resized.1, columns, "only the height changed");

        // A program reading its input gets what is typed.
        keyboard.send_keys(&typed("clear; read name; echo \"hello, $name\"")).await?;
        keyboard.send_keys(&typed("terminal")).await?;
        shows(&page, "hello, terminal").await?;

        // Colours are the terminal's own.
        keyboard
            .send_keys(&typed(r"clear; printf '\033[31m%s\033[0m\n' alarming"))
            .await?;
        eventually("red text", Duration::from_secs(15), || async {
            let red = page
                .script(
                    "return [...document.querySelectorAll('.xterm-rows span')]
                        .some((s) => s.textContent.includes('alarming') && s.className.includes('xterm-fg-1'))",
                )
                .await?;
            Ok((red == Value::Bool(true)).then_some(()))
        })
        .await?;
        save_screenshot(&client, "terminal").await?;

        // Ctrl+] leaves the terminal for the page.
        keyboard
            .send_keys(&format!("{}]{}", Key::Control, Key::Control))
            .await?;
        let focused = page.script("return document.activeElement.id").await?;
        assert_eq!(focused, Value::String("terminal-heading".into()));

        // The shell's end is said in words.
        keyboard.send_keys(&typed("exit 3")).await?;
        page.text_containing(".terminal-ended", "exited with code 3").await?;
        Ok(())
    })
    .await
}
