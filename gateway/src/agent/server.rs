//! The agent API (`/agent/v1/`): what an agent process serves to its gateway, a thin HTTP
//! layer over its [`SandboxHost`]. Every route needs `Authorization: Bearer <key>` with
//! the key this agent generated at start and reports in its heartbeats.
//!
//! | route | body → answer |
//! |---|---|
//! | `POST /agent/v1/sandboxes` | `LaunchRequest` → `LaunchResponse` |
//! | `POST /agent/v1/sandboxes/{id}/stop` | `StopRequest` → `{}` |
//! | `GET /agent/v1/sandboxes/{id}/outcome?waitMs=N` | → `OutcomeResponse` (long poll) |
//! | `POST /agent/v1/sandboxes/{id}/exec` | `ExecRequest` → `ExecOutput` |
//! | `GET /agent/v1/sandboxes/{id}/logs?follow=&tailLines=&timestamps=&resumeSessionId=&resumeOffset=` | → NDJSON log frames |
//! | `GET /agent/v1/sandboxes/{id}/session` | WebSocket: an interactive exec (`wire::SessionMessage`) |
//! | `DELETE /agent/v1/sandboxes/{id}` | → `{}` (stops it, removes its files) |
//! | `GET /agent/v1/sandboxes/usage` | → `UsageReport` (what each running sandbox uses) |

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use sandbox_api::error::Code;
use sandbox_api::violation::Violation;
use sha2::{Digest, Sha256};

use super::host::SandboxHost;
use super::wire::{
    Empty, ExecRequest, LaunchRequest, LaunchResponse, OutcomeResponse, SessionMessage,
    StopRequest, UsageReport,
};
use crate::error::ApiError;
use crate::process::{ExecOutput, SessionInput, SessionOutput, SessionRequest};
use crate::web::extract::{ApiJson, QueryPairs, log_request};
use crate::web::ndjson::ndjson_response;

/// The longest an outcome poll is held (local decision), whatever the gateway asks.
const MAX_OUTCOME_WAIT: Duration = Duration::from_secs(60);

/// The largest request body taken. A launch carries the mounted files of a start request
/// that the gateway accepted under its own limit (axum's default, 2 MB); this leaves
/// room for the launch's own fields (local decision).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The secret the gateway must present.
#[derive(Clone)]
pub struct AgentKey(Arc<str>);

impl AgentKey {
    pub fn new(secret: &str) -> AgentKey {
        AgentKey(secret.into())
    }

    /// Compares in constant time (as digests of equal length), so that response times
    /// do not reveal how much of a guess was right.
    fn admits(&self, presented: &str) -> bool {
        let (expected, presented) = (
            Sha256::digest(self.0.as_bytes()),
            Sha256::digest(presented.as_bytes()),
        );
        expected
            .iter()
            .zip(presented.iter())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
    }
}

pub fn router(host: Arc<SandboxHost>, key: AgentKey) -> Router {
    Router::new()
        .route("/agent/v1/sandboxes", post(launch))
        .route("/agent/v1/sandboxes/usage", get(usage))
        .route("/agent/v1/sandboxes/{id}", delete(remove))
        .route("/agent/v1/sandboxes/{id}/stop", post(stop))
        .route("/agent/v1/sandboxes/{id}/outcome", get(outcome))
        .route("/agent/v1/sandboxes/{id}/exec", post(exec))
        .route("/agent/v1/sandboxes/{id}/logs", get(logs))
        .route("/agent/v1/sandboxes/{id}/session", get(session))
        .fallback(|request: Request| async move {
            ApiError::new(
                Code::NotFound,
                format!("no such route: {}", request.uri().path()),
            )
        })
        .with_state(host)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(key, authenticate))
}

async fn authenticate(State(key): State<AgentKey>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(secret) if key.admits(secret.trim()) => next.run(request).await,
        _ => ApiError::new(
            Code::Unauthenticated,
            "this agent answers only its gateway: send Authorization: Bearer <the agent key from its heartbeat>",
        )
        .into_response(),
    }
}

async fn usage(State(host): State<Arc<SandboxHost>>) -> Json<UsageReport> {
    // Reading cgroup files is quick, but it is file I/O: off the async threads.
    let report = tokio::task::spawn_blocking(move || host.usage()).await;
    Json(report.unwrap_or_default())
}

async fn launch(
    State(host): State<Arc<SandboxHost>>,
    ApiJson(request): ApiJson<LaunchRequest>,
) -> Result<Json<LaunchResponse>, ApiError> {
    let pid = host.launch(request).await?;
    Ok(Json(LaunchResponse { pid }))
}

async fn stop(
    State(host): State<Arc<SandboxHost>>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<StopRequest>,
) -> Result<Json<Empty>, ApiError> {
    host.stop(&id, Duration::from_millis(request.grace_ms))?;
    Ok(Json(Empty {}))
}

async fn outcome(
    State(host): State<Arc<SandboxHost>>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<OutcomeResponse>, ApiError> {
    let wait = match query.get("waitMs") {
        None | Some("") => Duration::ZERO,
        Some(text) => Duration::from_millis(text.parse().map_err(|_| {
            ApiError::invalid(&[Violation::error(
                "waitMs",
                format!("must be a whole number, not {text:?}"),
            )])
        })?),
    };
    let outcome = host.outcome_within(&id, wait.min(MAX_OUTCOME_WAIT)).await?;
    Ok(Json(OutcomeResponse { outcome }))
}

async fn exec(
    State(host): State<Arc<SandboxHost>>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ExecRequest>,
) -> Result<Json<ExecOutput>, ApiError> {
    host.exec(
        &id,
        &request.command,
        Duration::from_millis(request.timeout_ms),
    )
    .await
    .map(Json)
}

async fn logs(
    State(host): State<Arc<SandboxHost>>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let frames = host.logs(&id, log_request(&query)?)?;
    Ok(ndjson_response(frames))
}

async fn remove(
    State(host): State<Arc<SandboxHost>>,
    Path(id): Path<String>,
) -> Result<Json<Empty>, ApiError> {
    host.delete(&id).await?;
    Ok(Json(Empty {}))
}

async fn session(
    State(host): State<Arc<SandboxHost>>,
    Path(id): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| serve_session(host, id, socket))
}

/// Runs one interactive exec for the gateway over `socket` (see `wire::SessionMessage`).
/// A socket that closes ends the session, and so its command.
async fn serve_session(host: Arc<SandboxHost>, id: String, mut socket: WebSocket) {
    let request = match socket.recv().await {
        Some(Ok(Message::Text(text))) => serde_json::from_str::<SessionRequest>(&text),
        _ => return,
    };
    let started = request
        .map_err(|e| {
            ApiError::invalid(&[Violation::error("session", format!("cannot be read: {e}"))])
        })
        .and_then(|request| host.exec_session(&id, &request));
    let mut session = match started {
        Ok(session) => session,
        Err(refused) => {
            let _ = send(&mut socket, &SessionMessage::Refused(refused.0)).await;
            return;
        }
    };
    if send(&mut socket, &SessionMessage::Started).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            output = session.output.recv() => {
                let Some(output) = output else { return };
                let last = matches!(output, SessionOutput::Ended { .. });
                if send(&mut socket, &SessionMessage::Output(output)).await.is_err() || last {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            }
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    let Ok(input) = serde_json::from_str::<SessionInput>(&text) else {
                        tracing::warn!("a session's input could not be read; the session ends");
                        return;
                    };
                    // A command that has ended takes no more input (a second close of
                    // its stdin may come after it ended); its end is still to be sent.
                    let _ = session.input.send(input).await;
                }
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return,
            },
        }
    }
}

async fn send(socket: &mut WebSocket, message: &SessionMessage) -> Result<(), axum::Error> {
    let text = serde_json::to_string(message).expect("session messages serialize");
    socket.send(Message::Text(text.into())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_admits_only_itself() {
        let key = AgentKey::new("0123456789abcdef");
        assert!(key.admits("0123456789abcdef"));
        assert!(!key.admits("0123456789abcdeF"));
        assert!(!key.admits(""));
        assert!(!key.admits("0123456789abcdef0"));
    }
}
