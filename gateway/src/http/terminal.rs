//! `GET /v1beta2/sandboxes/{id}/terminal` (SPEC §4, local decision): the browser's
//! terminal, an exec session on a WebSocket, because browsers cannot speak gRPC's
//! bidirectional streams. The token comes in the first message (`TerminalHello`),
//! never in the URL; then the messages are `StreamExec`'s in their JSON form
//! (`sandbox_api::exec_stream`), relayed by the same code as gRPC's (`execs::relay`).

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use sandbox_api::error::Code;
use sandbox_api::exec_stream::{
    ExecStreamError, ExecStreamRequest, ExecStreamResponse, TerminalHello,
};
use tokio::sync::{mpsc, oneshot};

use super::AppState;
use crate::error::ApiError;
use crate::operations::execs::{SessionRequest, TerminalSize};
use crate::operations::{self, execs};

/// How long the client has to say who it is and what to run.
const OPENING_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest message taken from a client: typed input and resizes are small
/// (local decision).
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

pub async fn terminal(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // A page on another origin may open a WebSocket to this one; it would still need a
    // token, but the console's own pages are the only ones that should ask.
    if !same_origin(&headers) {
        return ApiError::new(
            Code::PermissionDenied,
            "the terminal is open to the console's own pages only (Origin differs from Host)",
        )
        .into_response();
    }
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve(state, id, socket))
}

/// Whether the handshake came from a page of the gateway's own origin, or from no
/// page at all (a client that sends no Origin is not a browser).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ["http://", "https://"]
        .iter()
        .any(|scheme| origin.strip_prefix(scheme) == Some(host))
}

async fn serve(state: AppState, id: String, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let opening = async {
        let hello: TerminalHello = read(next_text(&mut stream).await, "the first message")?;
        let caller = operations::authenticate(&state.platform, hello.token.trim()).await?;
        let init =
            match read::<ExecStreamRequest>(next_text(&mut stream).await, "the second message")? {
                ExecStreamRequest::Init(init) => init,
                _ => return Err(invalid("the second message must be `init`")),
            };
        if !init.sandbox_id.is_empty() && init.sandbox_id != id {
            return Err(invalid("`init.sandboxId` must be the sandbox of the URL"));
        }
        let request = SessionRequest {
            command: init.command,
            env: Default::default(),
            terminal: init
                .tty
                .then(|| TerminalSize::from_client(init.tty_width, init.tty_height)),
            timeout_seconds: None,
        };
        execs::exec_session(&state.platform, &caller, &id, &request).await
    };
    let running = match tokio::time::timeout(OPENING_TIMEOUT, opening).await {
        Ok(Ok(running)) => running,
        Ok(Err(refused)) => return refuse(sink, &refused).await,
        Err(_) => {
            let late = invalid("say who you are and what to run within 10 s");
            return refuse(sink, &late).await;
        }
    };
    // A socket has no half-close: its read side ending means the page has gone, and
    // then the session ends (the relay sees its answers' receiver go).
    let (gone, page_gone) = oneshot::channel::<()>();
    let client = futures_util::stream::unfold(
        (stream, Some(gone)),
        move |(mut stream, mut gone)| async move {
            loop {
                let Some(text) = next_text(&mut stream).await else {
                    if let Some(gone) = gone.take() {
                        let _ = gone.send(());
                    }
                    return None;
                };
                match serde_json::from_str::<ExecStreamRequest>(&text) {
                    Ok(request) => return Some((request, (stream, gone))),
                    Err(error) => tracing::debug!(%error, "a terminal message could not be read"),
                }
            }
        },
    );
    let (frames, mut answers) = mpsc::channel(4);
    let relaying = execs::relay(running, Box::pin(client), frames, state.stopping.clone());
    let sending = async move {
        tokio::pin!(page_gone);
        // A oneshot must not be polled once it has answered, and a `select!` in a loop
        // forgets between turns that a branch is done: hence the flag.
        let mut relay_over = false;
        loop {
            tokio::select! {
                answer = answers.recv() => match answer {
                    Some(answer) => {
                        if send(&mut sink, &answer).await.is_err() {
                            return;
                        }
                    }
                    None => break,
                },
                gone = &mut page_gone, if !relay_over => match gone {
                    Ok(()) => return,
                    // The relay dropped the page's input: it is over, and its last
                    // answers are still to be sent.
                    Err(_) => relay_over = true,
                },
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    };
    tokio::join!(relaying, sending);
}

/// The next text message; `None` once the socket is closed.
async fn next_text(stream: &mut SplitStream<WebSocket>) -> Option<String> {
    loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => return Some(text.to_string()),
            Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => {}
            _ => return None,
        }
    }
}

fn read<T: serde::de::DeserializeOwned>(text: Option<String>, what: &str) -> Result<T, ApiError> {
    let text = text.ok_or_else(|| invalid(&format!("the socket closed before {what}")))?;
    serde_json::from_str(&text).map_err(|e| invalid(&format!("{what} cannot be read: {e}")))
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(Code::InvalidArgument, message)
}

/// Says why the session cannot be, and closes the socket.
async fn refuse(mut sink: SplitSink<WebSocket, Message>, error: &ApiError) {
    if send(&mut sink, &refusal(error)).await.is_ok() {
        let _ = sink.send(Message::Close(None)).await;
    }
}

/// A refusal as the stream's last message: its reason if it has one, else its code.
fn refusal(error: &ApiError) -> ExecStreamResponse {
    ExecStreamResponse::Error(ExecStreamError {
        message: error.0.message.clone(),
        code: error.0.reason().unwrap_or(error.0.code.name()).to_owned(),
    })
}

async fn send(
    sink: &mut SplitSink<WebSocket, Message>,
    message: &ExecStreamResponse,
) -> Result<(), axum::Error> {
    let text = serde_json::to_string(message).expect("exec stream messages serialize");
    sink.send(Message::Text(text.into())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_of_the_gateways_own_origin_may_open_a_terminal() {
        let headers = |origin: Option<&str>| {
            let mut headers = HeaderMap::new();
            headers.insert(HOST, "127.0.0.1:8080".parse().unwrap());
            if let Some(origin) = origin {
                headers.insert(ORIGIN, origin.parse().unwrap());
            }
            headers
        };
        assert!(same_origin(&headers(Some("http://127.0.0.1:8080"))));
        assert!(same_origin(&headers(None)));
        assert!(!same_origin(&headers(Some("http://127.0.0.1:9999"))));
        assert!(!same_origin(&headers(Some("http://evil.example"))));
        assert!(!same_origin(&headers(Some("null"))));
    }
}
