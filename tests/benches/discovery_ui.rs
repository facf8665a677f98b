//! The Runners view at scale, in headless Chromium against a real gateway with 10,000
//! runners: how long from a filter keystroke until the updated table is painted, for
//! the console and, in the same page and run, for a plain JavaScript render of the same
//! rows from the same API data; how long until the 10,000 runners first show; and each
//! console page's initial transfer, as served, with the first page's checked against
//! what Chromium reports it received. Prints Markdown for the README.
//!
//! Run with `scripts/build-console && cargo build --release -p sandbox-gateway &&
//! cargo bench -p sandbox-e2e --bench discovery_ui`.

use std::path::Path;
use std::time::Duration;

use fantoccini::wd::TimeoutConfiguration;
use sandbox_e2e::browser::{Page, with_browser};
use sandbox_e2e::fleet::{LARGE_FLEET, create_runners};
use sandbox_e2e::gateway::{Gateway, built_binary, built_console};
use sandbox_e2e::transfer::{PAGES, page_transfer};
use serde_json::{Value, json};

const ADMIN: &str = "bench-admin-secret-0123456789abcdef";
/// Keystrokes per kind of change, for each renderer.
const ROUNDS: usize = 10;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Under `cargo test --benches` there is nothing to do.
    if std::env::args().any(|a| a == "--test") {
        return Ok(());
    }
    let console = built_console()?;
    print_transfer(&console)?;

    let gateway = Gateway::start(
        &built_binary()?,
        &[
            "--console-dir",
            &console.to_string_lossy(),
            "--token",
            &format!("bench:SANDBOX_ADMIN:{ADMIN}"),
            "--install-step-ms",
            "10",
            "--heartbeat-interval-ms",
            "20000",
        ],
    )
    .await?;
    create_runners(&reqwest::Client::new(), &gateway, ADMIN, LARGE_FLEET).await?;

    with_browser("discovery-bench", |client| async move {
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(600)),
                Some(Duration::from_secs(60)),
                None,
            ))
            .await?;
        let page = Page(&client);
        // Sign-in lands on the overview unless told where to go.
        client
            .goto(&format!("{}/sign-in?next=/runners", gateway.url))
            .await?;
        page.field("Bearer token").await?.send_keys(ADMIN).await?;
        page.button("Sign in").await?.click().await?;
        page.text_containing(
            "table.runners caption",
            &format!("{LARGE_FLEET} of {LARGE_FLEET} runners"),
        )
        .await?;
        // Load again from cold, now that the token is in the session, to time it.
        client.goto(&format!("{}/runners", gateway.url)).await?;
        let expected = format!("{LARGE_FLEET} of {LARGE_FLEET} runners");
        let first_paint = client
            .execute_async(FIRST_PAINT, vec![json!(expected)])
            .await?;
        let received = client.execute(RECEIVED, vec![]).await?;
        println!(
            "Chromium's count for the runners page, placement.html (encodedBodySize of its wasm, js and css): {received} bytes"
        );
        println!();
        let figures = client
            .execute_async(KEYSTROKES, vec![json!(ADMIN), json!(ROUNDS)])
            .await?;
        if let Some(error) = figures.get("error") {
            anyhow::bail!("the measuring script failed: {error}");
        }
        print_figures(&first_paint, &figures);
        Ok(())
    })
    .await
}

/// Every page's initial transfer as the server sends it (`sandbox_e2e::transfer`).
fn print_transfer(dist: &Path) -> anyhow::Result<()> {
    println!("| initial transfer (gzip as served: Zopfli) | wasm | js | css | total |");
    println!("|---|---|---|---|---|");
    for page in PAGES {
        let t = page_transfer(dist, page)?;
        let total = t.total();
        println!(
            "| {page} | {} | {} | {} | **{total}** |",
            t.wasm, t.js, t.css
        );
    }
    println!();
    Ok(())
}

fn print_figures(first_paint: &Value, figures: &Value) {
    let ms = |v: &Value| v.as_f64().map_or("?".to_owned(), |v| format!("{v:.0} ms"));
    println!(
        "{LARGE_FLEET} runners on screen {} after navigation (fetch, parse, filter, first paint)",
        ms(first_paint)
    );
    println!();
    println!(
        "| filter keystroke → updated paint | console (median / p95) | plain JS (median / p95) |"
    );
    println!("|---|---|---|");
    for (kind, label) in [
        ("narrow", "narrowing to one group (about 770 rows)"),
        ("widen", "clearing the filter (10,000 rows)"),
    ] {
        let row = |renderer: &str| {
            let stats = &figures[renderer][kind];
            format!("{} / {}", ms(&stats["median"]), ms(&stats["p95"]))
        };
        println!("| {label} | {} | {} |", row("console"), row("plain"));
    }
    println!();
    println!(
        "DOM rows after clearing: console {}, plain JS {}",
        figures["console"]["rows"], figures["plain"]["rows"]
    );
}

/// Resolves with the time since navigation when the full table is on screen.
const FIRST_PAINT: &str = r#"
const [expected, done] = arguments;
const shown = () => document.querySelector('table.runners caption')?.textContent === expected;
const painted = () => requestAnimationFrame(() => {
  const channel = new MessageChannel();
  channel.port1.onmessage = () => done(performance.now());
  channel.port2.postMessage(0);
});
if (shown()) { painted(); } else {
  const observer = new MutationObserver(() => { if (shown()) { observer.disconnect(); painted(); } });
  observer.observe(document.body, { subtree: true, childList: true, characterData: true });
}
"#;

/// Bytes of wasm, JavaScript and CSS the page received, as compressed on the wire.
const RECEIVED: &str = r#"
return performance.getEntriesByType('resource')
  .filter((entry) => /\.(wasm|js|css)$/.test(new URL(entry.name).pathname))
  .reduce((sum, entry) => sum + entry.encodedBodySize, 0);
"#;

/// Types into the Runner group filter, alternately narrowing to one group and clearing
/// it, and times each keystroke until the frame after the table shows the new count.
/// Then does the same for a plain JavaScript table rendered from the same API data.
const KEYSTROKES: &str = r#"
const [token, rounds, done] = arguments;
const fail = (e) => done({ error: String(e && e.stack || e) });
(async () => {
  const afterPaint = () => new Promise((resolve) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve(performance.now());
    channel.port2.postMessage(0);
  }));
  const until = (condition) => new Promise((resolve) => {
    if (condition()) return resolve();
    const observer = new MutationObserver(() => { if (condition()) { observer.disconnect(); resolve(); } });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  const stats = (samples) => {
    const sorted = [...samples].sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return { median: at(0.5), p95: at(0.95), samples: sorted.length };
  };

  // The same data the console shows, from the same API.
  const runners = [];
  let pageToken = '';
  do {
    const response = await fetch(`/v1beta2/runners?view=RUNNER_VIEW_FULL&pageSize=1000&pageToken=${pageToken}`,
      { headers: { Authorization: `Bearer ${token}` } });
    const page = await response.json();
    runners.push(...page.runners);
    pageToken = page.nextPageToken || '';
  } while (pageToken);
  const total = runners.length;
  const count = (group) => runners.filter((r) => !group || r.runnerGroupId === group).length;
  const steps = [];
  for (let i = 0; i < rounds; i++) {
    steps.push({ kind: 'narrow', value: `group-${i % 13}` }, { kind: 'widen', value: '' });
  }

  // The console: one input event per keystroke, as typing sends, into the focused
  // field (whose suggestions are counted, as for a person typing).
  const input = document.getElementById('filter-group');
  input.focus();
  const caption = () => document.querySelector('table.runners caption')?.textContent;
  const consoleTimes = { narrow: [], widen: [] };
  for (const step of steps) {
    const expected = `${count(step.value)} of ${total} runners`;
    const start = performance.now();
    input.value = step.value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await until(() => caption() === expected);
    consoleTimes[step.kind].push((await afterPaint()) - start);
  }
  const consoleRows = document.querySelectorAll('table.runners tbody tr:not(.spacer)').length;

  // Plain JavaScript: filter, sort and build every matching row with DOM calls, over
  // the console (which is hidden so only one table is laid out).
  document.querySelector('main').style.display = 'none';
  const table = document.createElement('table');
  table.className = 'data-table';
  const head = table.createTHead().insertRow();
  for (const h of ['Runner', 'Group', 'Zone', 'Health', 'GPU types', 'Architectures', 'Profiles', 'Running', 'CPU', 'Memory', 'GPUs']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.appendChild(th);
  }
  let body = table.createTBody();
  document.body.appendChild(table);
  const bar = (available, max, unit) => {
    const cell = document.createElement('td');
    const track = document.createElement('div');
    track.className = 'capacity-track';
    const fill = document.createElement('div');
    fill.className = 'capacity-fill high';
    fill.style.width = `${max > 0 ? Math.round(available / max * 100) : 0}%`;
    track.appendChild(fill);
    const text = document.createElement('span');
    text.textContent = `${available / unit} of ${max / unit} free`;
    cell.append(track, text);
    return cell;
  };
  const render = (group) => {
    const shown = runners.filter((r) => !group || r.runnerGroupId === group)
      .sort((a, b) => a.runnerId < b.runnerId ? -1 : 1);
    const next = document.createElement('tbody');
    for (const r of shown) {
      const row = next.insertRow();
      const caps = r.capabilities || {};
      const res = r.resources || {};
      for (const text of [r.runnerId, r.runnerGroupId, (r.tags || []).find((t) => t.startsWith('zone:')) || '',
        r.healthy ? 'Healthy' : 'Unhealthy', (caps.supportedGpuTypes || []).join(', '),
        (caps.supportedArchitectures || []).join(', '), (r.profileNames || []).join(', '),
        String(res.runningSandboxes || 0)]) {
        row.insertCell().textContent = text;
      }
      row.append(bar(Number(res.availableCpuMillicores || 0), Number(caps.maxCpuMillicores || 0), 1000),
        bar(Number(res.availableMemoryBytes || 0), Number(caps.maxMemoryBytes || 0), 2 ** 30),
        bar(Number(res.availableGpuCount || 0), Number(caps.maxGpuCount || 0), 1));
    }
    table.replaceChild(next, body);
    body = next;
  };
  const plainTimes = { narrow: [], widen: [] };
  for (const step of steps) {
    const start = performance.now();
    render(step.value);
    plainTimes[step.kind].push((await afterPaint()) - start);
  }
  const plainRows = body.rows.length;
  table.remove();
  document.querySelector('main').style.display = '';

  done({
    console: { narrow: stats(consoleTimes.narrow), widen: stats(consoleTimes.widen), rows: consoleRows },
    plain: { narrow: stats(plainTimes.narrow), widen: stats(plainTimes.widen), rows: plainRows },
  });
})().catch(fail);
"#;
