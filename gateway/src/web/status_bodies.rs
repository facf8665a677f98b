//! Every error answer is a `google.rpc.Status` body (SPEC §2), including the ones axum
//! and tower-http make on their own: a path segment that is not UTF-8, a method a route
//! does not have, a body over the limit. Clients then parse one shape, always.

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sandbox_api::error::{Code, Reason, Status};

use crate::error::ApiError;

/// How much of a plain-text rejection is kept as the Status message.
const MESSAGE_LIMIT: usize = 4096;

/// Middleware: rewrites an error answer that is not already JSON into a Status body with
/// the same HTTP status and the original text as its message.
pub async fn status_bodies(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match to_bytes(body, MESSAGE_LIMIT).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let mut rewritten = ApiError(status_for(status, message)).into_response();
    // The original status stands (a 405 stays a 405), and so do headers such as Allow.
    *rewritten.status_mut() = status;
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name, value.clone());
        }
    }
    rewritten
}

/// The Status for an HTTP error status, as the gRPC-HTTP mapping pairs them.
fn status_for(status: StatusCode, message: String) -> Status {
    let code = match status {
        StatusCode::UNAUTHORIZED => Code::Unauthenticated,
        StatusCode::FORBIDDEN => Code::PermissionDenied,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED => Code::Unimplemented,
        StatusCode::CONFLICT => Code::Aborted,
        StatusCode::TOO_MANY_REQUESTS => Code::ResourceExhausted,
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => Code::DeadlineExceeded,
        StatusCode::SERVICE_UNAVAILABLE => Code::Unavailable,
        s if s.is_client_error() => Code::InvalidArgument,
        _ => Code::Internal,
    };
    let status_body = Status::new(code, message);
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        status_body.with_reason(Reason::BodyTooLarge, Default::default())
    } else {
        status_body
    }
}

/// A body over the route's limit: 413 with the limit in the message.
pub fn body_too_large(limit: usize) -> ApiError {
    ApiError(
        Status::new(
            Code::InvalidArgument,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
        .with_reason(Reason::BodyTooLarge, Default::default()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_map_to_status_codes_that_map_back() {
        for status in [400, 401, 403, 404, 409, 429, 503, 504] {
            let status = StatusCode::from_u16(status).unwrap();
            let body = status_for(status, "x".into());
            assert_eq!(body.http_status(), status.as_u16(), "{status}");
        }
        let too_large = status_for(StatusCode::PAYLOAD_TOO_LARGE, "x".into());
        assert_eq!(too_large.http_status(), 413);
    }
}
