//! `/v1beta2/sandboxes` (SPEC §4), including the NDJSON log stream for browsers.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use sandbox_api::sandbox::{
    DeleteSandboxResponse, ExecSandboxRequest, ExecSandboxResponse, GetSandboxResponse,
    ListSandboxesResponse, StartSandboxRequest, StartSandboxResponse, StopSandboxRequest,
    StopSandboxResponse,
};
use sandbox_api::violation::Violation;

use super::AppState;
use super::extract::{ApiJson, OptionalJson, QueryPairs};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::process::{self, LogRequest};
use crate::sandboxes::{self, SandboxListQuery};

pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<StartSandboxRequest>,
) -> Result<Json<StartSandboxResponse>, ApiError> {
    sandboxes::start(&state.fleet, &state.policy, &caller, request)
        .await
        .map(Json)
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryPairs,
) -> Result<Json<ListSandboxesResponse>, ApiError> {
    let filters = SandboxListQuery {
        statuses: query.all("status"),
        tags: query.all("tags"),
        profile_names: query.all("profileNames"),
        runner_ids: query.all("runnerIds"),
        include_stopped: query.flag("includeStopped")?,
    };
    sandboxes::list(&state.store, &caller, filters)
        .await
        .map(Json)
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<GetSandboxResponse>, ApiError> {
    sandboxes::get(&state.store, &caller, &id).await.map(Json)
}

pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(request): OptionalJson<StopSandboxRequest>,
) -> Result<Json<StopSandboxResponse>, ApiError> {
    sandboxes::stop(&state.fleet, &caller, &id, request)
        .await
        .map(Json)
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeleteSandboxResponse>, ApiError> {
    sandboxes::delete(&state.fleet, &caller, &id)
        .await
        .map(Json)
}

pub async fn exec(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ExecSandboxRequest>,
) -> Result<Json<ExecSandboxResponse>, ApiError> {
    sandboxes::exec(&state.fleet, &caller, &id, request)
        .await
        .map(Json)
}

/// `GET /v1beta2/sandboxes/{id}/logs`: one `LogStreamResponse` JSON object per line.
pub async fn logs(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let record = sandboxes::find(&state.store, &caller, &id).await?;
    let number = |name: &str| -> Result<Option<u64>, ApiError> {
        match query.get(name) {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                ApiError::invalid(&[Violation::error(
                    name,
                    format!("must be a whole number, not {text:?}"),
                )])
            }),
        }
    };
    let request = LogRequest {
        follow: query.flag("follow")?,
        tail_lines: number("tailLines")?,
        timestamps: query.flag("timestamps")?,
        resume_session_id: query
            .get("resumeSessionId")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        resume_offset: number("resumeOffset")?,
    };
    let live = state
        .fleet
        .agent(&record.runner_uuid)
        .and_then(|agent| agent.sandbox(&record.id));
    let frames = process::stream_log(
        &sandboxes::log_dir(&state.fleet, &record.id),
        live.as_ref(),
        request,
    );
    let lines = frames.map(|frame| {
        let mut line = serde_json::to_vec(&frame).unwrap_or_default();
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(bytes::Bytes::from(line))
    });
    let mut response = Body::from_stream(lines).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
