//! The `Caller` of a request, from its `Authorization: Bearer` header, and
//! `GET /v1beta2/sandbox/caller`, which says who that is.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sandbox_api::caller::CallerResponse;
use sandbox_api::error::Code;

use super::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::operations;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            unauthenticated("missing bearer token: send Authorization: Bearer <token>")
        })?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|secret| !secret.is_empty())
            .ok_or_else(|| unauthenticated("the Authorization header must be `Bearer <token>`"))?;
        operations::authenticate(&state.platform, secret).await
    }
}

/// `GET /v1beta2/sandbox/caller` (local extension): the caller's organization and role.
pub async fn get(caller: Caller) -> Result<Json<CallerResponse>, ApiError> {
    operations::caller::describe(&caller).map(Json)
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(Code::Unauthenticated, message)
}
