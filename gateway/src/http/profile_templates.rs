//! `/v1beta2/sandbox/profile-templates` (SPEC §3.1).

use axum::Json;
use axum::extract::State;
use sandbox_api::profile::{
    CreateProfileTemplateRequest, ListProfileTemplatesResponse, ProfileTemplate,
};
use serde::Deserialize;

use super::AppState;
use super::extract::{ApiJson, ApiQuery};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::profile_templates;

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
    profile_templates::list(&state.store, &caller, query.page_size, &query.page_token)
        .await
        .map(Json)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateProfileTemplateRequest>,
) -> Result<Json<ProfileTemplate>, ApiError> {
    profile_templates::create(&state.store, &caller, request)
        .await
        .map(Json)
}
