//! `ApiError`: a `google.rpc.Status` on its way to the client, with the HTTP status that
//! its code maps to.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sandbox_api::error::{Code, Status};
use sandbox_api::violation::Violation;

#[derive(Debug)]
pub struct ApiError(pub Status);

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError(Status::new(code, message))
    }

    pub fn invalid(violations: &[Violation]) -> ApiError {
        ApiError(Status::invalid(violations))
    }

    /// An internal failure: logged in full here, reported to the client without details
    /// that could leak the server's internals.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
        tracing::error!("{context}: {error}");
        ApiError::new(Code::Internal, format!("internal error while {context}"))
    }
}

impl From<Status> for ApiError {
    fn from(status: Status) -> ApiError {
        ApiError(status)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0)).into_response()
    }
}
