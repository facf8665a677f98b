//! Headless Chromium under a private ChromeDriver, with a guard that leaves no browser
//! behind even when a test fails or panics.

use std::future::Future;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tempfile::TempDir;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(15);

/// ChromeDriver plus the Chromium it started; both killed on drop.
struct Processes {
    driver: std::process::Child,
    profile_dir: TempDir,
}

impl Drop for Processes {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // ChromeDriver starts Chromium outside its own process group, so find the
        // browser by the profile directory unique to this test.
        kill_processes_mentioning(&self.profile_dir.path().to_string_lossy());
    }
}

fn kill_processes_mentioning(needle: &str) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    }
}

/// Runs `test` in a fresh headless browser. The WebDriver session is closed and the
/// processes are killed whatever the outcome; on failure a screenshot is saved as
/// `target/e2e-screenshots/<name>-failure.png`.
pub async fn with_browser<F, Fut>(name: &str, test: F) -> anyhow::Result<()>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let profile_dir = tempfile::tempdir().context("creating a browser profile directory")?;
    let port = free_port()?;
    let driver = std::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {CHROMEDRIVER} (run scripts/bootstrap)"))?;
    let processes = Processes {
        driver,
        profile_dir,
    };
    let client = connect(port, &processes.profile_dir.path().to_string_lossy()).await?;
    let result = test(client.clone()).await;
    if result.is_err() {
        let _ = save_screenshot(&client, &format!("{name}-failure")).await;
    }
    let _ = client.close().await;
    drop(processes);
    result
}

async fn connect(port: u16, profile_dir: &str) -> anyhow::Result<Client> {
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                format!("--user-data-dir={profile_dir}"),
            ]
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object literal")
    };
    let url = format!("http://127.0.0.1:{port}");
    crate::eventually("ChromeDriver to accept a session", WAIT, || {
        let capabilities = capabilities.clone();
        let url = url.clone();
        async move {
            let client = ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities)
                .connect(&url)
                .await?;
            Ok(Some(client))
        }
    })
    .await
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Saves a PNG of the page under `target/e2e-screenshots/`.
pub async fn save_screenshot(client: &Client, name: &str) -> anyhow::Result<PathBuf> {
    let dir = crate::workspace_root().join("target/e2e-screenshots");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, client.screenshot().await?)?;
    Ok(path)
}

/// Finds elements the way a user does: by what they say.
pub struct Page<'a>(pub &'a Client);

impl Page<'_> {
    /// The form control whose `<label>` reads `label`.
    pub async fn field(&self, label: &str) -> anyhow::Result<Element> {
        self.field_within("", label).await
    }

    /// The form control whose `<label>` reads `label`, inside the element whose
    /// `aria-label` is `region` (for pages with two forms that share field names).
    pub async fn field_in(&self, region: &str, label: &str) -> anyhow::Result<Element> {
        self.field_within(&format!("//*[@aria-label={}]", xpath_string(region)), label)
            .await
    }

    async fn field_within(&self, scope: &str, label: &str) -> anyhow::Result<Element> {
        let label_element = self
            .wait_for(Locator::XPath(&format!(
                "{scope}//label[normalize-space()={}]",
                xpath_string(label)
            )))
            .await
            .with_context(|| format!("no label {label:?}"))?;
        let id = label_element
            .attr("for")
            .await?
            .with_context(|| format!("label {label:?} names no control"))?;
        self.wait_for(Locator::Id(&id)).await
    }

    /// The button that reads `text`.
    pub async fn button(&self, text: &str) -> anyhow::Result<Element> {
        self.wait_for(Locator::XPath(&format!(
            "//button[normalize-space()={}]",
            xpath_string(text)
        )))
        .await
        .with_context(|| format!("no button {text:?}"))
    }

    /// Waits for an element matching `locator`.
    pub async fn wait_for(&self, locator: Locator<'_>) -> anyhow::Result<Element> {
        Ok(self.0.wait().at_most(WAIT).for_element(locator).await?)
    }

    /// Waits until the text of the first element matching `css` contains `expected`,
    /// and returns that text.
    pub async fn text_containing(&self, css: &str, expected: &str) -> anyhow::Result<String> {
        crate::eventually(&format!("{css} to contain {expected:?}"), WAIT, || async {
            let Ok(element) = self.0.find(Locator::Css(css)).await else {
                return Ok(None);
            };
            let text = element.text().await?;
            Ok(text.contains(expected).then_some(text))
        })
        .await
    }

    /// Waits until the page's path and query equal `expected`.
    pub async fn at(&self, expected: &str) -> anyhow::Result<()> {
        crate::eventually(&format!("the page to be {expected}"), WAIT, || async {
            let url = self.0.current_url().await?;
            let here = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            Ok((here == expected).then_some(()))
        })
        .await
    }

    /// Runs axe-core (the npm package `scripts/bootstrap` installs) on the page and
    /// returns every violation as `rule: selector, selector`.
    pub async fn accessibility_violations(&self) -> anyhow::Result<Vec<String>> {
        let path = crate::workspace_root().join("node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {} (run scripts/bootstrap)", path.display()))?;
        self.0
            .execute(&format!("{source}\nreturn null;"), vec![])
            .await?;
        let found = self
            .script(
                "return axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => \
                 v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', ')));",
            )
            .await?;
        Ok(found
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect())
    }

    /// Runs JavaScript and returns its result.
    pub async fn script(&self, source: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.0.execute(source, vec![]).await?)
    }
}

/// `s` as an XPath string literal.
fn xpath_string(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        concat_expression(s)
    }
}

/// XPath 1.0 has no escapes: a string with both quote kinds is built with concat().
fn concat_expression(s: &str) -> String {
    let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
    format!("concat({})", parts.join(", \"'\", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xpath_strings_quote_whatever_they_hold() {
        assert_eq!(xpath_string("Sign in"), "'Sign in'");
        assert_eq!(xpath_string("it's"), "\"it's\"");
        assert_eq!(xpath_string(r#"a'b"c"#), r#"concat('a', "'", 'b"c')"#);
    }
}
