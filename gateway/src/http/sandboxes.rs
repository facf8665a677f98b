//! `/v1beta2/sandboxes` (SPEC §4), including the NDJSON log stream for browsers and the
//! sandbox's files.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use sandbox_api::sandbox::{
    AddFileSandboxRequest, AddFileSandboxResponse, DeleteSandboxResponse, ExecSandboxRequest,
    ExecSandboxResponse, GetSandboxResponse, ListSandboxesResponse, RetrieveFileSandboxResponse,
    StartSandboxRequest, StartSandboxResponse, StopSandboxRequest, StopSandboxResponse,
};
use sandbox_api::violation::Violation;

use super::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::operations::sandboxes::{self, SandboxListQuery};
use crate::operations::{execs, files};
use crate::shutdown::until_stopping;
use crate::web::extract::{ApiJson, OptionalJson, QueryPairs, json_body_up_to, log_request};
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
    execs::exec(&state.platform, &caller, &id, request)
        .await
        .map(Json)
}

/// The largest body of `POST /v1beta2/sandboxes/{id}/files`: a file of the most one call
/// carries, in base64, and the rest of the request.
pub const FILE_BODY_BYTES: usize = (files::MAX_FILE_BYTES as usize).div_ceil(3) * 4 + 64 * 1024;

/// `POST /v1beta2/sandboxes/{id}/files`: writes a file in the sandbox.
pub async fn add_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<AddFileSandboxResponse>, ApiError> {
    let body: AddFileSandboxRequest = json_body_up_to(request, FILE_BODY_BYTES).await?;
    files::add_file(&state.platform, &caller, &id, body)
        .await
        .map(Json)
}

/// `GET /v1beta2/sandboxes/{id}/files/{filepath}`: reads a file of the sandbox (the rest
/// of the path, decoded, is the file's path).
pub async fn retrieve_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, filepath)): Path<(String, String)>,
    query: QueryPairs,
) -> Result<Json<RetrieveFileSandboxResponse>, ApiError> {
    let timeout = match query.get("maxTimeoutSeconds") {
        None | Some("") => 0,
        Some(text) => text.parse().map_err(|_| {
            ApiError::invalid(&[Violation::error(
                "maxTimeoutSeconds",
                format!("must be a whole number, not {text:?}"),
            )])
        })?,
    };
    files::retrieve_file(&state.platform, &caller, &id, &filepath, timeout)
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
