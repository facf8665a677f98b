//! The console inside a host cloud console (SPEC §5): no chrome with `?embed=1`, the
//! token handed over by `postMessage` from an allowlisted origin only, and resize and
//! navigation reported back to the host.

use std::time::Duration;

use fantoccini::Locator;
use sandbox_e2e::browser::{Page, save_screenshot, with_browser};
use sandbox_e2e::demo::{USER, demo_gateway_with};
use sandbox_e2e::eventually;
use sandbox_e2e::host_page::serve;

#[tokio::test]
async fn an_allowlisted_host_signs_the_embedded_console_in_and_hears_back() -> anyhow::Result<()> {
    // The host's origin must be known before the gateway starts, to be allowlisted.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let host_origin = format!("http://{}", listener.local_addr()?);
    let gateway = demo_gateway_with(&["--embed-allowed-origin", &host_origin]).await?;
    // Serve the host page on exactly the allowlisted port.
    let host_page = format!(
        r#"<!DOCTYPE html><title>Host console</title>
<iframe id="console" src="{gateway}/runners?embed=1" width="1000" height="1500"></iframe>
<script>
  window.received = [];
  window.addEventListener("message", (e) => {{ if (e.origin === "{gateway}") window.received.push(e.data); }});
  const frame = document.getElementById("console");
  let attempts = 0;
  const timer = setInterval(() => {{
    frame.contentWindow.postMessage({{type: "sandbox-console:auth", token: "{USER}"}}, "{gateway}");
    frame.contentWindow.postMessage({{type: "sandbox-console:theme", theme: "dark"}}, "{gateway}");
    if (++attempts > 40) clearInterval(timer);
  }}, 250);
</script>"#,
        gateway = gateway.url
    );
    let server = serve(listener, host_page);

    let result = with_browser("embedded", |client| async move {
        client.goto(&host_origin).await?;
        client.enter_frame(0).await?;
        let page = Page(&client);
        page.text_containing("table.runners", "gpu-east").await?;
        assert!(
            client.find(Locator::Css(".topbar")).await.is_err(),
            "no console chrome when embedded"
        );
        let theme = page
            .script("return document.documentElement.getAttribute('data-theme');")
            .await?;
        assert_eq!(theme, "dark");
        client.enter_parent_frame().await?;
        save_screenshot(&client, "embedded").await?;
        let received = eventually(
            "the host to hear resize and navigated",
            Duration::from_secs(10),
            || async {
                let messages = Page(&client).script("return window.received;").await?;
                let kinds: Vec<String> = messages
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m["type"].as_str().map(str::to_owned))
                    .collect();
                let heard = kinds.iter().any(|k| k == "sandbox-console:resize")
                    && kinds.iter().any(|k| k == "sandbox-console:navigated");
                Ok(heard.then_some(messages))
            },
        )
        .await?;
        let navigated: Vec<&str> = received
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["type"] == "sandbox-console:navigated")
            .filter_map(|m| m["path"].as_str())
            .collect();
        assert!(navigated.contains(&"/runners"), "{navigated:?}");
        // The height is the content's, not the frame's: a host that sizes its frame by
        // it can shrink it as well as grow it.
        let heights: Vec<i64> = received
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["type"] == "sandbox-console:resize")
            .filter_map(|m| m["height"].as_i64())
            .collect();
        assert!(
            heights.last().is_some_and(|h| (100..1500).contains(h)),
            "{heights:?}"
        );
        Ok(())
    })
    .await;
    server.abort();
    result
}

#[tokio::test]
async fn auth_from_an_origin_not_on_the_list_is_ignored() -> anyhow::Result<()> {
    let gateway = demo_gateway_with(&["--embed-allowed-origin", "https://host.example"]).await?;
    with_browser("embed-refused", |client| async move {
        let page = Page(&client);
        client.goto(&format!("{}/runners?embed=1", gateway.url)).await?;
        page.text_containing("main", "Waiting for the host console").await?;
        // The same message the host would send, but from the gateway's own origin,
        // which is not on the list.
        for _ in 0..5 {
            page.script(&format!("window.postMessage({{type: 'sandbox-console:auth', token: '{USER}'}}, '*'); return null;")).await?;
        }
        // Proving that nothing happens takes a bounded wait: the console acts on an
        // accepted message within milliseconds (see the allowlisted test).
        page.script("return new Promise(r => setTimeout(r, 500));").await?;
        let stored = page.script("return sessionStorage.getItem('sandbox-console.token');").await?;
        assert_eq!(stored, serde_json::Value::Null);
        page.at("/sign-in?next=%2Frunners&embed=1").await?;
        assert!(client.find(Locator::Css("table.runners")).await.is_err());
        Ok(())
    })
    .await
}

#[tokio::test]
async fn auth_from_another_frame_of_the_allowlisted_origin_is_ignored() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let host_origin = format!("http://{}", listener.local_addr()?);
    let gateway = demo_gateway_with(&["--embed-allowed-origin", &host_origin]).await?;
    // The host page frames the console and, beside it, a widget of its own: a `srcdoc`
    // frame has the host's origin, the allowlisted one, but it is not the console's
    // parent. The host signs the console in only when the test says so.
    let host_page = format!(
        r#"<!DOCTYPE html><title>Host console</title>
<iframe id="console" src="{gateway}/runners?embed=1" width="1000" height="1500"></iframe>
<iframe id="widget" srcdoc="<title>Another widget</title><p>Another widget</p>"></iframe>
<script>
  window.signIn = () => document.getElementById("console").contentWindow.postMessage(
    {{type: "sandbox-console:auth", token: "{USER}"}}, "{gateway}");
</script>"#,
        gateway = gateway.url
    );
    let server = serve(listener, host_page);

    let result = with_browser("embed-sibling", |client| async move {
        let page = Page(&client);
        client.goto(&host_origin).await?;
        client.enter_frame(0).await?;
        page.text_containing("main", "Waiting for the host console")
            .await?;

        // The widget posts the host's messages to the console, from the host's origin.
        client.enter_parent_frame().await?;
        client.enter_frame(1).await?;
        let origin = page.script("return self.origin;").await?;
        assert_eq!(origin, host_origin.as_str(), "the widget has the host's origin");
        for _ in 0..5 {
            page.script(&format!(
                "parent.frames[0].postMessage({{type: 'sandbox-console:auth', token: '{USER}'}}, '*'); \
                 parent.frames[0].postMessage({{type: 'sandbox-console:theme', theme: 'dark'}}, '*'); \
                 return null;"
            ))
            .await?;
        }
        // Proving that nothing happens takes a bounded wait: the console acts on an
        // accepted message within milliseconds (the parent's, below).
        page.script("return new Promise(r => setTimeout(r, 500));")
            .await?;
        client.enter_parent_frame().await?;
        client.enter_frame(0).await?;
        // (In a frame, WebDriver's current URL is the top page's: ask the frame.)
        let state = page
            .script(
                "return [sessionStorage.getItem('sandbox-console.token'), \
                 document.documentElement.getAttribute('data-theme'), \
                 location.pathname + location.search];",
            )
            .await?;
        assert_eq!(
            state,
            serde_json::json!([null, null, "/sign-in?next=%2Frunners&embed=1"])
        );
        assert!(client.find(Locator::Css("table.runners")).await.is_err());

        // The same message from the parent signs the console in.
        client.enter_parent_frame().await?;
        page.script("signIn(); return null;").await?;
        client.enter_frame(0).await?;
        page.text_containing("table.runners", "gpu-east").await?;
        let stored = page
            .script("return sessionStorage.getItem('sandbox-console.token');")
            .await?;
        assert_eq!(stored, USER);
        Ok(())
    })
    .await;
    server.abort();
    result
}
