//! The browser terminal's keystroke-to-echo latency, in headless Chromium against a
//! real gateway and a sandbox in a container: from the moment the page sends a typed
//! character on the terminal's WebSocket to the first animation frame after its echo
//! came back and went to xterm.js (gateway, runc's terminal copy, the sandbox's
//! terminal and the shell's echo included; the key handling before the send is
//! xterm's own, synchronous). Prints Markdown for the README.
//!
//! Run with `scripts/build-console && cargo build --release -p sandbox-gateway &&
//! cargo bench -p sandbox-e2e --bench terminal_ui`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fantoccini::wd::TimeoutConfiguration;
use sandbox_e2e::browser::{Page, with_browser};
use sandbox_e2e::demo::{USER, demo_gateway, sign_in};
use serde_json::{Value, json};

/// Characters timed, after a few untimed ones that warm the path up.
const KEYSTROKES: usize = 300;
const WARM_UP: usize = 20;

/// Installed before the terminal opens: keeps the page's terminal socket at hand.
const CAPTURE_SOCKET: &str = r#"
const Original = window.WebSocket;
window.WebSocket = function (...args) { const socket = new Original(...args); window.__terminal = socket; return socket; };
window.WebSocket.prototype = Original.prototype;
return null;
"#;

/// Types `arguments[0]` characters one at a time through the socket, each a random
/// 0 to 20 ms after the last one's echo is on screen (so that sends do not fall in
/// step with the display's frames); for each, milliseconds until its echo arrived and
/// until the frame after it.
const MEASURE: &str = r#"
const [count, done] = arguments;
const socket = window.__terminal;
const letters = 'abcdefghijklmnopqrstuvwxyz';
const latencies = [];
let waiting = null;
socket.addEventListener('message', (event) => {
  if (!waiting) return;
  const message = JSON.parse(event.data);
  if (!message.output || !atob(message.output.data).includes(waiting.letter)) return;
  const started = waiting.started;
  waiting = null;
  const echoed = performance.now() - started;
  requestAnimationFrame(() => {
    latencies.push([echoed, performance.now() - started]);
    setTimeout(next, Math.random() * 20);
  });
});
function next() {
  if (latencies.length === count) { done(latencies); return; }
  const letter = letters[latencies.length % letters.length];
  waiting = { letter, started: performance.now() };
  socket.send(JSON.stringify({ stdin: { data: btoa(letter) } }));
}
next();
"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--test") {
        return Ok(());
    }
    let gateway = demo_gateway().await?;
    let started: Value = reqwest::Client::new()
        .post(format!("{}/v1beta2/sandboxes", gateway.url))
        .bearer_auth(USER)
        .json(&json!({"command": "sleep", "args": ["3600"], "containerImage": "busybox:1.36"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = started["sandboxId"].as_str().unwrap_or_default().to_owned();
    let result = Arc::new(Mutex::new(Vec::<(f64, f64)>::new()));
    let slot = result.clone();
    with_browser("terminal-bench", |client| async move {
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(300)),
                Some(Duration::from_secs(60)),
                None,
            ))
            .await?;
        let page = Page(&client);
        sign_in(&page, &format!("{}/sandboxes/{id}", gateway.url), USER).await?;
        page.script(CAPTURE_SOCKET).await?;
        page.button("Open a shell").await?.click().await?;
        page.text_containing(".terminal-header .hint", "Connected").await?;
        // `cat` on the terminal: each typed character is echoed by the terminal.
        page.script(
            "window.__terminal.send(JSON.stringify({ stdin: { data: btoa('exec cat\\r') } })); return null",
        )
        .await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let measured = client
            .execute_async(MEASURE, vec![json!(KEYSTROKES + WARM_UP)])
            .await?;
        let latencies: Vec<(f64, f64)> = serde_json::from_value(measured)?;
        *slot.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = latencies;
        Ok(())
    })
    .await?;
    let measured = result.lock().map_err(|_| anyhow::anyhow!("poisoned"))?[WARM_UP..].to_vec();
    println!("| {} keystrokes | median | p95 | max |", measured.len());
    println!("|---|---|---|---|");
    for (what, pick) in [
        ("echo back in the page", 0),
        ("echo on screen (next frame)", 1),
    ] {
        let mut values: Vec<f64> = measured
            .iter()
            .map(|pair| if pick == 0 { pair.0 } else { pair.1 })
            .collect();
        values.sort_by(f64::total_cmp);
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        println!(
            "| {what} | {:.1} ms | {:.1} ms | {:.1} ms |",
            at(0.5),
            at(0.95),
            values.last().copied().unwrap_or_default()
        );
    }
    Ok(())
}
