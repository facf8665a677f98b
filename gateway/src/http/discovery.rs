//! `/v1beta2/runners` and `/v1beta2/profiles` (SPEC §4).

use axum::Json;
use axum::extract::{Path, State};
use sandbox_api::discovery::{
    AvailableRunner, ListAvailableRunnersResponse, ListProfilesResponse, ProfileSummary,
};

use super::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::operations::discovery;
use crate::web::extract::QueryPairs;

pub async fn list_runners(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryPairs,
) -> Result<Json<ListAvailableRunnersResponse>, ApiError> {
    discovery::list_runners(&state.platform, &caller, query.0)
        .await
        .map(Json)
}

pub async fn get_runner(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AvailableRunner>, ApiError> {
    discovery::get_runner(&state.platform, &caller, &id)
        .await
        .map(Json)
}

pub async fn list_profiles(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryPairs,
) -> Result<Json<ListProfilesResponse>, ApiError> {
    discovery::list_profiles(&state.platform, &caller, query.0)
        .await
        .map(Json)
}

pub async fn get_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    query: QueryPairs,
) -> Result<Json<ProfileSummary>, ApiError> {
    discovery::get_profile(&state.platform, &caller, &name, query.0)
        .await
        .map(Json)
}
