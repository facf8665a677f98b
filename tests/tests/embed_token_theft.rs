//! The embedding demo's token as a page on another origin would try to take it: include
//! the demo's script, fetch the token in every mode, frame the demo page and read it.
//! None of it works (issue 17: the token never travels in a script, and the gateway
//! hands it only to its own page's same-origin requests).

use std::time::Duration;

use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::eventually;
use sandbox_e2e::gateway::{Gateway, built_binary, built_console};
use sandbox_e2e::host_page::serve;

#[tokio::test]
async fn a_page_on_another_loopback_port_cannot_obtain_the_demo_token() -> anyhow::Result<()> {
    let console = built_console()?;
    let gateway = Gateway::start(
        &built_binary()?,
        &["--console-dir", &console.to_string_lossy(), "--demo"],
    )
    .await?;
    let token = gateway
        .startup_output()
        .iter()
        .find_map(|line| {
            line.split_once("(SANDBOX_USER):")
                .map(|(_, t)| t.trim().to_owned())
        })
        .expect("the demo prints its user token");
    let port = gateway
        .url
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let attacker = format!("http://{}", listener.local_addr()?);
    let page = format!(
        r#"<!DOCTYPE html><title>Another site</title>
<script>
  window.results = [];
  window.note = (what, value) => window.results.push(what + ": " + String(value));
  // What an included script could leave behind.
  window.addEventListener("error", (e) => note("error event", e.message));
</script>
<script src="{gateway}/embed-demo.js" onerror="note('classic script', 'not loaded')"></script>
<script type="module" src="{gateway}/embed-demo.js" onerror="note('module script', 'not loaded')"></script>
<script>
  (async () => {{
    const origins = ["{gateway}", "http://localhost:{port}"];
    for (const origin of origins) {{
      for (const mode of ["cors", "no-cors"]) {{
        for (const credentials of ["omit", "include"]) {{
          try {{
            const answer = await fetch(origin + "/embed-demo/token", {{mode, credentials}});
            note(mode + " " + origin, answer.type + " " + answer.status + " " + (await answer.text()));
          }} catch (e) {{
            note(mode + " " + origin, "refused: " + e);
          }}
        }}
      }}
    }}
    const frame = document.createElement("iframe");
    frame.src = "{gateway}/embed-demo.html";
    document.body.append(frame);
    await new Promise((done) => {{ frame.onload = done; setTimeout(done, 3000); }});
    try {{
      note("frame", frame.contentDocument.documentElement.outerHTML);
    }} catch (e) {{
      note("frame", "refused: " + e);
    }}
    // A classic script's top-level `const token` would be a global binding here.
    note("global binding", typeof token === "undefined" ? "none" : token);
    note("globals", Object.keys(window).filter((k) => /token/i.test(k)).map((k) => window[k]).join());
    window.done = true;
  }})();
</script>"#,
        gateway = gateway.url
    );
    let server = serve(listener, page);

    let outcome = with_browser("embed-token-theft", |client| async move {
        client.goto(&attacker).await?;
        let results = eventually(
            "the attempts to finish",
            Duration::from_secs(20),
            || async {
                let page = Page(&client);
                let done = page.script("return window.done === true;").await?;
                if done == serde_json::Value::Bool(true) {
                    Ok(Some(page.script("return window.results;").await?))
                } else {
                    Ok(None)
                }
            },
        )
        .await?;
        let results: Vec<String> = serde_json::from_value(results)?;
        for result in &results {
            println!("{:.160}", result);
        }
        assert!(results.len() >= 8, "every attempt reported: {results:#?}");
        for result in &results {
            assert!(!result.contains(&token), "the token leaked: {result}");
        }
        // The attempts were made and refused, not skipped.
        assert!(
            results
                .iter()
                .any(|r| r.starts_with("no-cors") && r.contains("opaque")),
            "{results:#?}"
        );
        assert!(
            results
                .iter()
                .any(|r| r.starts_with("cors") && r.contains("refused")),
            "{results:#?}"
        );
        Ok(())
    })
    .await;
    server.abort();
    outcome
}

#[tokio::test]
async fn the_demo_host_page_fetches_the_token_and_signs_both_frames_in() -> anyhow::Result<()> {
    let console = built_console()?;
    let gateway = Gateway::start(
        &built_binary()?,
        &["--console-dir", &console.to_string_lossy(), "--demo"],
    )
    .await?;
    let url = format!("{}/embed-demo.html", gateway.url);
    with_browser("embed-demo-page", |client| async move {
        client.goto(&url).await?;
        for frame in [0, 1] {
            client.enter_frame(frame).await?;
            let page = Page(&client);
            let signed_in = eventually(
                "the frame to leave sign-in",
                Duration::from_secs(20),
                || async {
                    let path = Page(&client).script("return location.pathname;").await?;
                    let path = path.as_str().unwrap_or_default().to_owned();
                    Ok((!path.starts_with("/sign-in")).then_some(path))
                },
            )
            .await?;
            assert!(
                signed_in == "/runners" || signed_in == "/availability",
                "{signed_in}"
            );
            page.text_containing("body", "gpu-east").await?;
            client.enter_parent_frame().await?;
        }
        save_screenshot(&client, "embed-demo").await?;
        Ok(())
    })
    .await
}
