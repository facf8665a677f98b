//! `/v1beta2/sandboxes` (SPEC §4), including the NDJSON log stream for browsers.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use sandbox_api::sandbox::{
    DeleteSandboxResponse, ExecSandboxRequest, ExecSandboxResponse, GetSandboxResponse,
    ListSandboxesResponse, StartSandboxRequest, StartSandboxResponse, StopSandboxRequest,
    StopSandboxResponse,
};

use super::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::operations::sandboxes::{self, SandboxListQuery};
use crate::shutdown::until_stopping;
use crate::web::extract::{ApiJson, OptionalJson, QueryPairs, log_request};
use crate::web::ndjson::ndjson_response;

pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<StartSandboxRequest>,
) -> Result<Json<StartSandboxResponse>, ApiError> {
    sandboxes::start(&state.platform, &caller, request)
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
    sandboxes::list(&state.platform, &caller, filters)
        .await
        .map(Json)
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<GetSandboxResponse>, ApiError> {
    sandboxes::get(&state.platform, &caller, &id)
        .await
        .map(Json)
}

pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(request): OptionalJson<StopSandboxRequest>,
) -> Result<Json<StopSandboxResponse>, ApiError> {
    sandboxes::stop(&state.platform, &caller, &id, request)
        .await
        .map(Json)
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeleteSandboxResponse>, ApiError> {
    sandboxes::delete(&state.platform, &caller, &id)
        .await
        .map(Json)
}

pub async fn exec(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ExecSandboxRequest>,
) -> Result<Json<ExecSandboxResponse>, ApiError> {
    sandboxes::exec(&state.platform, &caller, &id, request)
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
    let record = sandboxes::find(&state.platform, &caller, &id).await?;
    let frames = sandboxes::logs(&state.platform, &record, log_request(&query)?);
    Ok(ndjson_response(until_stopping(
        frames,
        state.stopping.clone(),
    )))
}
