//! The browser terminal's WebSocket (`GET /v1beta2/sandboxes/{id}/terminal`): the
//! token in the first message, `StreamExec`'s messages as JSON after it, the same
//! roles and organizations as exec, and only the gateway's own pages as callers.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(
    gateway: &sandbox_e2e::gateway::Gateway,
    id: &str,
    origin: Option<&str>,
) -> Result<Socket, String> {
    let url = format!(
        "{}/v1beta2/sandboxes/{id}/terminal",
        gateway.url.replacen("http", "ws", 1)
    );
    let mut request = url.into_client_request().unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
        .map_err(|e| e.to_string())
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap();
}

/// The next message from the gateway, or `None` once the socket is closed.
async fn next(socket: &mut Socket) -> Option<Value> {
    within(socket, Duration::from_secs(30))
        .await
        .expect("an answer within 30 s")
}

/// The next message, `Ok(None)` once the socket is closed, `Err` if none came in `wait`.
async fn within(socket: &mut Socket, wait: Duration) -> Result<Option<Value>, ()> {
    loop {
        let Some(message) = tokio::time::timeout(wait, socket.next())
            .await
            .map_err(drop)?
        else {
            return Ok(None);
        };
        match message {
            Ok(Message::Text(text)) => return Ok(Some(serde_json::from_str(&text).unwrap())),
            Ok(Message::Close(_)) => return Ok(None),
            Err(error) => panic!("the socket failed: {error}"),
            Ok(_) => {}
        }
    }
}

fn typed(text: &str) -> Value {
    json!({"stdin": {"data": base64::engine::general_purpose::STANDARD.encode(text)}})
}

/// Output until it contains `needle`.
async fn read_until(socket: &mut Socket, needle: &str) -> String {
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let seen_text = || String::from_utf8_lossy(&seen).into_owned();
        let message = match within(socket, Duration::from_secs(30)).await {
            Ok(Some(message)) => message,
            Ok(None) => panic!("closed before {needle:?}: {:?}", seen_text()),
            Err(()) => panic!("no {needle:?} within 30 s; the output: {:?}", seen_text()),
        };
        if let Some(data) = message["output"]["data"].as_str() {
            seen.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .unwrap(),
            );
        } else {
            panic!("{message} before {needle:?}");
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn a_terminal_runs_a_shell_on_a_tty_for_the_sandboxes_own_organization_only() {
    // One exec at a time per sandbox: a session that holds on is seen at once.
    let gateway = gateway(&["--max-execs-per-sandbox", "1"]).await;
    runner_with_profiles(&gateway, "local", &[("web", internet_network())]).await;
    wait_until_ready(&gateway, "local").await;
    let started = post(&gateway, "/v1beta2/sandboxes", USER, shell("sleep 600")).await;
    let id = started.body["sandboxId"].as_str().unwrap().to_owned();
    wait_status(&gateway, &id, false).await;
    let init =
        json!({"init": {"command": ["/bin/sh"], "tty": true, "ttyWidth": 100, "ttyHeight": 30}});

    // A shell on a terminal of the asked size, which follows resizes; its exit ends it.
    let mut socket = open(&gateway, &id, Some(&gateway.url)).await.unwrap();
    send(&mut socket, json!({"token": USER})).await;
    send(&mut socket, init.clone()).await;
    assert_eq!(next(&mut socket).await, Some(json!({"ready": {}})));
    send(&mut socket, typed("stty size\n")).await;
    read_until(&mut socket, "30 100").await;
    send(&mut socket, json!({"resize": {"width": 120, "height": 40}})).await;
    send(&mut socket, typed("stty size; exit 7\n")).await;
    read_until(&mut socket, "40 120").await;
    let mut before_the_exit = Vec::new();
    loop {
        let message = next(&mut socket)
            .await
            .unwrap_or_else(|| panic!("closed before an exit, after {before_the_exit:?}"));
        if message.get("output").is_none() {
            before_the_exit.push(message.clone());
        }
        if message.get("exit").is_some() {
            assert_eq!(message, json!({"exit": {"exitCode": 7}}));
            break;
        }
    }
    assert_eq!(
        next(&mut socket).await,
        None,
        "the socket closes after the exit"
    );

    // Refusals come as one error message: a wrong token, another organization.
    for (token, code) in [
        ("not-a-token-at-all-0123456789abcdef", "UNAUTHENTICATED"),
        (OTHER_ADMIN, "CWSANDBOX_SANDBOX_NOT_FOUND"),
    ] {
        let mut socket = open(&gateway, &id, None).await.unwrap();
        send(&mut socket, json!({"token": token})).await;
        send(&mut socket, init.clone()).await;
        let refusal = next(&mut socket).await.expect("a refusal");
        assert_eq!(refusal["error"]["code"], code, "{refusal}");
    }

    // A page that goes away ends its shell, and so frees the exec slot it held.
    let mut socket = open(&gateway, &id, None).await.unwrap();
    send(&mut socket, json!({"token": USER})).await;
    send(&mut socket, init.clone()).await;
    assert_eq!(next(&mut socket).await, Some(json!({"ready": {}})));
    let exec = format!("/v1beta2/sandboxes/{id}/exec");
    let busy = post(&gateway, &exec, USER, json!({"command": ["true"]})).await;
    assert_eq!(
        busy.metadata()["quota"],
        "max-execs-per-sandbox",
        "{}",
        busy.body
    );
    drop(socket);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let after = post(&gateway, &exec, USER, json!({"command": ["true"]})).await;
        if after.status.is_success() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the shell outlived its page: {}",
            after.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A page of another origin cannot open one at all.
    let refused = open(&gateway, &id, Some("http://127.0.0.1:1"))
        .await
        .unwrap_err();
    assert!(refused.contains("403"), "{refused}");
}
