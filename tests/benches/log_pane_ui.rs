//! The log pane with a 1,000,000-line log, in headless Chromium against a real gateway
//! and a real sandbox process: how fast the pane takes the stream in, the frame times
//! while it does, and the renderer's memory, against a plain JavaScript page that reads
//! the same stream and appends each frame's text to a `<pre>` as a DOM text node (in a
//! fresh browser, the same run). Then how long the pane takes to show line 1 again
//! after scrolling back to it (it was dropped from memory and is read again). Prints
//! Markdown for the README.
//!
//! Run with `scripts/build-console && cargo build --release -p sandbox-gateway &&
//! cargo bench -p sandbox-e2e --bench log_pane_ui`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fantoccini::Client;
use fantoccini::wd::TimeoutConfiguration;
use sandbox_e2e::browser::{Page, with_browser};
use sandbox_e2e::demo::{USER, demo_gateway, sign_in};
use sandbox_e2e::gateway::Gateway;
use serde_json::{Value, json};

const LINES: u64 = 1_000_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Under `cargo test --benches` there is nothing to do.
    if std::env::args().any(|a| a == "--test") {
        return Ok(());
    }
    let gateway = demo_gateway().await?;
    let url = gateway.url.clone();
    // A log a quarter as long shows whether the pane's memory grows with the log.
    let short_id = write_log(&gateway, LINES / 4).await?;
    let (_, short_memory) = console_run(&url, &short_id, LINES / 4).await?;
    let id = write_log(&gateway, LINES).await?;
    let (console, console_memory) = console_run(&url, &id, LINES).await?;
    let (plain, plain_memory) = with_renderer_memory(|| {
        let (url, id) = (url.clone(), id.clone());
        in_browser("log-bench-plain", |client| async move {
            client.goto(&format!("{url}/config.json")).await?;
            Ok(client
                .execute_async(PLAIN, vec![json!(USER), json!(id), json!(LINES)])
                .await?)
        })
    })
    .await?;
    for figures in [&console["stream"], &console["back"], &plain] {
        if let Some(error) = figures.get("error") {
            anyhow::bail!("a measuring script failed: {error}");
        }
    }
    print_figures(&console, console_memory, &plain, plain_memory);
    println!(
        "The console's renderer with a {}-line log: {} MiB peak.",
        LINES / 4,
        short_memory >> 20
    );
    Ok(())
}

/// Opens the log of sandbox `id` in the console and times reading its `lines` lines;
/// the figures and the renderer's peak memory.
async fn console_run(url: &str, id: &str, lines: u64) -> anyhow::Result<(Value, u64)> {
    with_renderer_memory(|| {
        let (url, id) = (url.to_owned(), id.to_owned());
        in_browser("log-bench-console", |client| async move {
            let page = Page(&client);
            // The page opens on the last 100 lines, so that the timed read of the
            // whole log starts when the measuring script asks for it.
            sign_in(&page, &format!("{url}/sandboxes"), USER).await?;
            page.script(
                "localStorage.setItem('sandbox-console.log-pane', JSON.stringify({ tail: 100 })); return null",
            )
            .await?;
            client.goto(&format!("{url}/sandboxes/{id}")).await?;
            page.text_containing(".log-status", "Ended").await?;
            let stream = client.execute_async(CONSOLE, vec![json!(lines)]).await?;
            let back = client.execute_async(SCROLL_BACK, vec![]).await?;
            Ok(json!({ "stream": stream, "back": back }))
        })
    })
    .await
}

/// Starts a sandbox that writes `lines` numbered lines, the numbers coloured, and waits
/// until it has finished; its ID.
async fn write_log(gateway: &Gateway, lines: u64) -> anyhow::Result<String> {
    let http = reqwest::Client::new();
    let script = format!(
        r#"awk 'BEGIN {{ for (i = 1; i <= {lines}; i++) printf "\033[3%dm%d\033[0m a line of the benchmark log\n", i % 8, i }}'"#
    );
    let started: Value = http
        .post(format!("{}/v1beta2/sandboxes", gateway.url))
        .bearer_auth(USER)
        .json(&json!({"command": "sh", "args": ["-c", script], "containerImage": "busybox:1.36"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = started["sandboxId"].as_str().unwrap_or_default().to_owned();
    for _ in 0..600 {
        let sandbox: Value = http
            .get(format!("{}/v1beta2/sandboxes/{id}", gateway.url))
            .bearer_auth(USER)
            .send()
            .await?
            .json()
            .await?;
        match sandbox["sandboxStatus"].as_str() {
            Some("SANDBOX_STATUS_COMPLETED") => return Ok(id),
            Some("SANDBOX_STATUS_FAILED" | "SANDBOX_STATUS_TERMINATED") => {
                anyhow::bail!("the log writer did not complete: {sandbox}")
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    anyhow::bail!("the log writer did not finish within a minute")
}

/// Runs `measure` in a fresh browser that waits up to 15 minutes for a script; what
/// it measured.
async fn in_browser<F, Fut>(name: &str, measure: F) -> anyhow::Result<Value>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = anyhow::Result<Value>>,
{
    let result = Arc::new(Mutex::new(Value::Null));
    let slot = result.clone();
    with_browser(name, |client| async move {
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(900)),
                Some(Duration::from_secs(60)),
                None,
            ))
            .await?;
        let measured = measure(client).await?;
        *slot.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = measured;
        Ok(())
    })
    .await?;
    let measured = result
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .take();
    Ok(measured)
}

/// Runs `run` while sampling the resident memory of every Chromium renderer process
/// every 100 ms; its result and the peak (bytes).
async fn with_renderer_memory<F, Fut>(run: F) -> anyhow::Result<(Value, u64)>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<Value>>,
{
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(renderer_rss(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let result = run().await;
    done.store(true, Ordering::Relaxed);
    sampler.await?;
    Ok((result?, peak.load(Ordering::Relaxed)))
}

/// The summed resident set of the Chromium renderer processes on this machine.
fn renderer_rss() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("--type=renderer"))
        })
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kib| kib * 1024)
        .sum()
}

fn print_figures(console: &Value, console_memory: u64, plain: &Value, plain_memory: u64) {
    let number = |v: &Value, digits: usize| {
        v.as_f64()
            .map_or("?".to_owned(), |v| format!("{v:.digits$}"))
    };
    let mib = |bytes: u64| format!("{:.0} MiB", bytes as f64 / f64::from(1 << 20));
    let stream = &console["stream"];
    println!(
        "{LINES} lines ({} MB of log)",
        number(&stream["megabytes"], 1)
    );
    println!();
    println!("| | console log pane | plain JS `<pre>` text-node append |");
    println!("|---|---|---|");
    let row = |label: &str, key: &str, digits: usize, unit: &str| {
        println!(
            "| {label} | {} {unit} | {} {unit} |",
            number(&stream[key], digits),
            number(&plain[key], digits)
        );
    };
    row("whole log in, last line painted", "seconds", 1, "s");
    row("append throughput", "linesPerSecond", 0, "lines/s");
    for (label, key) in [
        ("frame time, median", "median"),
        ("frame time, p95", "p95"),
        ("frame time, longest", "max"),
    ] {
        println!(
            "| {label} | {} ms | {} ms |",
            number(&stream["frames"][key], 0),
            number(&plain["frames"][key], 0)
        );
    }
    println!(
        "| frames over 50 ms | {} of {} | {} of {} |",
        stream["frames"]["long"],
        stream["frames"]["count"],
        plain["frames"]["long"],
        plain["frames"]["count"]
    );
    println!(
        "| renderer memory, peak (RSS) | {} | {} |",
        mib(console_memory),
        mib(plain_memory)
    );
    println!(
        "| DOM elements at the end | {} | {} |",
        stream["elements"], plain["elements"]
    );
    println!();
    println!(
        "Scrolling back to line 1 (dropped from memory, read again from the gateway): shown after {} ms",
        number(&console["back"]["ms"], 0)
    );
}

/// Frame-time bookkeeping both pages share: every animation frame's duration from the
/// moment the script starts.
macro_rules! frames {
    () => {
        r#"
const frameTimes = [];
let lastFrame = performance.now();
let recording = true;
const tick = (now) => { frameTimes.push(now - lastFrame); lastFrame = now; if (recording) requestAnimationFrame(tick); };
requestAnimationFrame(tick);
const frameStats = () => {
  recording = false;
  const sorted = [...frameTimes].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1], long: sorted.filter((t) => t > 50).length, count: sorted.length };
};
const afterPaint = () => new Promise((resolve) => requestAnimationFrame(() => {
  const channel = new MessageChannel();
  channel.port1.onmessage = () => resolve(performance.now());
  channel.port2.postMessage(0);
}));
"#
    };
}

/// Switches the console's pane from the last 100 lines to the whole log and waits
/// until it says the log ended with its last line in view.
const CONSOLE: &str = concat!(
    frames!(),
    r#"
const [lines, done] = arguments;
const start = performance.now();
const select = document.getElementById('log-start');
select.value = '';
select.dispatchEvent(new Event('change', { bubbles: true }));
const lastShown = () => [...document.querySelectorAll('.log-line .log-number')].some((n) => n.textContent === String(lines));
const timer = setInterval(async () => {
  const status = document.querySelector('.log-status')?.textContent || '';
  if (!status.startsWith('Ended') || !lastShown()) return;
  clearInterval(timer);
  const end = await afterPaint();
  const entry = performance.getEntriesByType('resource').filter((e) => e.name.includes('/logs')).pop();
  const seconds = (end - start) / 1000;
  done({ seconds, linesPerSecond: lines / seconds, megabytes: entry.decodedBodySize / 1e6,
    frames: frameStats(), elements: document.getElementsByTagName('*').length });
}, 20);
"#
);

/// Scrolls the pane to the top and waits for line 1's text.
const SCROLL_BACK: &str = r#"
const [done] = arguments;
const start = performance.now();
document.querySelector('.log-lines').scrollTop = 0;
const timer = setInterval(() => {
  const first = document.querySelector('.log-line .log-text');
  if (first && first.textContent.startsWith('1 a line')) { clearInterval(timer); done({ ms: performance.now() - start }); }
}, 5);
"#;

/// Reads the same stream the pane reads and appends every frame's text to a `<pre>`,
/// keeping the end in view.
const PLAIN: &str = concat!(
    frames!(),
    r#"
const [token, id, lines, done] = arguments;
(async () => {
  document.body.replaceChildren();
  const pre = document.createElement('pre');
  pre.style.cssText = 'height: 600px; overflow: auto; margin: 0';
  document.body.appendChild(pre);
  const start = performance.now();
  const response = await fetch(`/v1beta2/sandboxes/${id}/logs?follow=true&timestamps=true`, { headers: { Authorization: `Bearer ${token}` } });
  const reader = response.body.getReader();
  const frames = new TextDecoder();
  const text = new TextDecoder();
  let pending = '';
  let bytes = 0;
  let scrollScheduled = false;
  for (;;) {
    const { done: finished, value } = await reader.read();
    if (finished) break;
    pending += frames.decode(value, { stream: true });
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) continue;
    const complete = pending.slice(0, cut);
    pending = pending.slice(cut + 1);
    for (const line of complete.split('\n')) {
      const frame = JSON.parse(line);
      if (!frame.data) continue;
      const raw = Uint8Array.from(atob(frame.data.data), (c) => c.charCodeAt(0));
      bytes += raw.length;
      pre.appendChild(document.createTextNode(text.decode(raw, { stream: true })));
    }
    if (!scrollScheduled) {
      scrollScheduled = true;
      requestAnimationFrame(() => { pre.scrollTop = pre.scrollHeight; scrollScheduled = false; });
    }
  }
  pre.scrollTop = pre.scrollHeight;
  const end = await afterPaint();
  const seconds = (end - start) / 1000;
  done({ seconds, linesPerSecond: lines / seconds, megabytes: bytes / 1e6, frames: frameStats(),
    elements: document.getElementsByTagName('*').length });
})().catch((e) => done({ error: String(e && e.stack || e) }));
"#
);
