//! Usage over time (local decision, see `sandbox_api::usage`):
//! `GET /v1beta2/sandboxes/{id}/usage`, `GET /v1beta2/runners/{runner}/usage` and
//! `GET /v1beta2/usage` (the organization's fleet).

use axum::Json;
use axum::extract::{Path, State};
use sandbox_api::usage::UsageHistoryResponse;

use super::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::operations::usage;

pub async fn sandbox(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<UsageHistoryResponse>, ApiError> {
    usage::sandbox(&state.platform, &caller, &id)
        .await
        .map(Json)
}

pub async fn runner(
    State(state): State<AppState>,
    caller: Caller,
    Path(runner): Path<String>,
) -> Result<Json<UsageHistoryResponse>, ApiError> {
    usage::runner(&state.platform, &caller, &runner)
        .await
        .map(Json)
}

pub async fn fleet(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<UsageHistoryResponse>, ApiError> {
    usage::fleet(&state.platform, &caller).await.map(Json)
}
