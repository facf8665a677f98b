//! A sandbox that a developer's own code started with the platform's Python client
//! (`cwsandbox`, over gRPC) is in the console like any other, with its log.

use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{USER, demo_gateway, sign_in};
use sandbox_e2e::python;

/// Starts a sandbox with the Python client, as a script of a developer's would.
const SCRIPT: &str = r#"
from cwsandbox import Sandbox
sandbox = Sandbox.run(
    "sh", "-c", "echo hello from python; sleep 600",
    container_image="debian:12", tags=["from-python"],
)
sandbox.wait()
print(sandbox.sandbox_id)
"#;

#[tokio::test]
async fn a_sandbox_the_python_client_started_shows_in_the_console_with_its_log()
-> anyhow::Result<()> {
    let gateway = demo_gateway().await?;
    let output = python::run(&gateway, USER, true, &["-c", SCRIPT]).await?;
    anyhow::ensure!(
        output.status.success(),
        "the script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let id = String::from_utf8(output.stdout)?.trim().to_owned();

    with_browser("python-sandbox", |client| async move {
        let page = Page(&client);
        sign_in(
            &page,
            &format!("{}/sandboxes?tags=from-python", gateway.url),
            USER,
        )
        .await?;
        page.text_containing("table.sandboxes", &id).await?;
        client
            .goto(&format!("{}/sandboxes/{id}", gateway.url))
            .await?;
        page.text_containing(".log-lines", "hello from python")
            .await?;
        save_screenshot(&client, "python-sandbox").await?;
        Ok(())
    })
    .await
}
