//! `/v1beta2/sandbox/managed-runners` (SPEC §3.2).

use axum::Json;
use axum::extract::{Path, State};
use sandbox_api::runner::{CreateRunnerRequest, ListRunnersResponse, Runner, UpdateRunnerRequest};

use super::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::operations::runners::{self, RunnerListQuery};
use crate::web::extract::{ApiJson, IfMatch, QueryPairs};

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateRunnerRequest>,
) -> Result<Json<Runner>, ApiError> {
    runners::create(&state.platform, &caller, request)
        .await
        .map(Json)
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryPairs,
) -> Result<Json<ListRunnersResponse>, ApiError> {
    let page_size = query.page_size()?;
    let query = RunnerListQuery {
        zone: query.get("zone").unwrap_or_default().to_owned(),
        connection_status: query.get("connectionStatus").unwrap_or_default().to_owned(),
        page_size,
        page_token: query.get("pageToken").unwrap_or_default().to_owned(),
    };
    runners::list(&state.platform, &caller, query)
        .await
        .map(Json)
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Runner>, ApiError> {
    runners::get(&state.platform, &caller, &key).await.map(Json)
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    query: QueryPairs,
    IfMatch(if_match): IfMatch,
    ApiJson(request): ApiJson<UpdateRunnerRequest>,
) -> Result<Json<Runner>, ApiError> {
    let mask = query.get("updateMask").unwrap_or_default().to_owned();
    runners::update(&state.platform, &caller, &key, request, &mask, if_match)
        .await
        .map(Json)
}

/// `POST …/managed-runners/{runnerId}:applyUpdate`: the custom method shares the path
/// segment with the runner ID.
pub async fn custom_method(
    State(state): State<AppState>,
    caller: Caller,
    Path(segment): Path<String>,
) -> Result<Json<Runner>, ApiError> {
    match segment.rsplit_once(':') {
        Some((key, "applyUpdate")) => runners::apply_update(&state.platform, &caller, key)
            .await
            .map(Json),
        _ => Err(ApiError::new(
            sandbox_api::error::Code::NotFound,
            format!("no such method on runner: {segment:?}"),
        )),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Runner>, ApiError> {
    runners::delete(&state.platform, &caller, &key)
        .await
        .map(Json)
}
