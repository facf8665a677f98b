//! The `Caller` of a request, from its `Authorization: Bearer` header.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
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

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(Code::Unauthenticated, message)
}
