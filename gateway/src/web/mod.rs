//! HTTP plumbing that knows nothing of the gateway's resources, shared by the public
//! API (`http`) and the agent API (`agent::server`): extractors whose rejections are
//! `google.rpc.Status` bodies, NDJSON streaming, and `ApiError` as an HTTP answer.

pub mod extract;
pub mod hosts;
pub mod ndjson;
pub mod status_bodies;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0)).into_response()
    }
}
