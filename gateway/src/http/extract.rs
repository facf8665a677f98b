//! Request extractors whose rejections are SPEC error bodies with field violations,
//! instead of axum's plain-text ones.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use sandbox_api::violation::Violation;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body; a type error names the offending field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<ApiJson<T>, ApiError> {
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            ApiError::invalid(&[Violation::error("body", format!("could not be read: {e}"))])
        })?;
        let deserializer = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(deserializer)
            .map(ApiJson)
            .map_err(|e| {
                let field = match e.path().to_string() {
                    path if path == "." => "body".to_owned(),
                    path => path,
                };
                ApiError::invalid(&[Violation::error(field, e.inner().to_string())])
            })
    }
}

/// Query parameters; a malformed one names itself.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<ApiQuery<T>, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|e| {
                ApiError::invalid(&[Violation::error(
                    e.path().to_string(),
                    e.inner().to_string(),
                )])
            })
    }
}
