//! NDJSON answers: one JSON object per line, sent as each is produced.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use sandbox_api::logs::LogStreamResponse;

/// Streams log frames as `application/x-ndjson`, uncached.
pub fn ndjson_response(frames: impl Stream<Item = LogStreamResponse> + Send + 'static) -> Response {
    let lines = frames.map(|frame| {
        // A frame is plain data (strings, numbers, bytes as base64): it always serialises.
        let mut line = serde_json::to_vec(&frame).unwrap_or_default();
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(bytes::Bytes::from(line))
    });
    let mut response = Body::from_stream(lines).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
