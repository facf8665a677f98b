//! `/v1beta2/sandbox/profile-templates` (SPEC §3.1).

use axum::Json;
use axum::extract::{Path, State};
use sandbox_api::profile::{
    CreateProfileTemplateRequest, ListProfileTemplatesResponse, ProfileTemplate,
    UpdateProfileTemplateRequest,
};
use serde::Deserialize;

use super::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::operations::profile_templates;
use crate::web::extract::{ApiJson, ApiQuery, IfMatch, QueryPairs};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    page_size: Option<i64>,
    #[serde(default)]
    page_token: String,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListProfileTemplatesResponse>, ApiError> {
    profile_templates::list(&state.platform, &caller, query.page_size, &query.page_token)
        .await
        .map(Json)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateProfileTemplateRequest>,
) -> Result<Json<ProfileTemplate>, ApiError> {
    profile_templates::create(&state.platform, &caller, request)
        .await
        .map(Json)
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ProfileTemplate>, ApiError> {
    profile_templates::get(&state.platform, &caller, &id)
        .await
        .map(Json)
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryPairs,
    IfMatch(if_match): IfMatch,
    ApiJson(request): ApiJson<UpdateProfileTemplateRequest>,
) -> Result<Json<ProfileTemplate>, ApiError> {
    let mask = query.get("updateMask").unwrap_or_default().to_owned();
    profile_templates::update(&state.platform, &caller, &id, request, &mask, if_match)
        .await
        .map(Json)
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    profile_templates::delete(&state.platform, &caller, &id)
        .await
        .map(|()| Json(serde_json::json!({})))
}
