//! Request extractors whose rejections are SPEC error bodies with field violations,
//! instead of axum's plain-text ones.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use sandbox_api::violation::Violation;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::process::LogRequest;
use crate::web::status_bodies::body_too_large;

/// A JSON body; a type error names the offending field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<ApiJson<T>, ApiError> {
        let bytes = read_body(request, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The largest request body the API reads (profile documents are the largest bodies,
/// a few kilobytes): past it, 413.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    read_body_up_to(request, state, MAX_BODY_BYTES).await
}

/// A JSON body of up to `limit` bytes, for the routes whose bodies may be larger than
/// [`MAX_BODY_BYTES`] (the route sets the same limit with `DefaultBodyLimit`).
pub async fn json_body_up_to<T: DeserializeOwned>(
    request: Request,
    limit: usize,
) -> Result<T, ApiError> {
    let bytes = read_body_up_to(request, &(), limit).await?;
    parse_json(&bytes)
}

async fn read_body_up_to<S: Send + Sync>(
    request: Request,
    state: &S,
    limit: usize,
) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            body_too_large(limit)
        } else {
            ApiError::invalid(&[Violation::error("body", format!("could not be read: {e}"))])
        }
    })
}

/// Parses a JSON body; a type error names the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // JSON is UTF-8 text (RFC 8259). serde_json checks the strings it keeps, but not the
    // ones it skips (unknown fields), so the whole body is checked first.
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(ApiError::invalid(&[Violation::error(
            "body",
            format!("is not UTF-8 text (invalid bytes at {})", e.valid_up_to()),
        )]));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let field = match e.path().to_string() {
            path if path == "." => "body".to_owned(),
            path => path,
        };
        ApiError::invalid(&[Violation::error(field, e.inner().to_string())])
    })
}

/// A JSON body that may be left out entirely (an empty body is the default value).
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<OptionalJson<T>, ApiError> {
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            Ok(OptionalJson(T::default()))
        } else {
            parse_json(&bytes).map(OptionalJson)
        }
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

/// Every query parameter in order, repeats included (`tags=a&tags=b`).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<QueryPairs, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        Ok(QueryPairs(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

impl QueryPairs {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, also splitting comma-separated values.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            })
            .collect()
    }

    /// `pageSize`, when given: a whole number, or a violation.
    pub fn page_size(&self) -> Result<Option<i64>, ApiError> {
        match self.get("pageSize") {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                ApiError::invalid(&[Violation::error(
                    "pageSize",
                    format!("must be a whole number, not {text:?}"),
                )])
            }),
        }
    }

    /// A boolean parameter; anything but `true`/`false`/`1`/`0` is a violation.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("") | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(ApiError::invalid(&[Violation::error(
                name,
                format!("must be true or false, not {other:?}"),
            )])),
        }
    }
}

/// The `If-Match` header, without quotes.
pub struct IfMatch(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<IfMatch, ApiError> {
        Ok(IfMatch(
            parts
                .headers
                .get(axum::http::header::IF_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(|v| {
                    v.trim()
                        .trim_start_matches("W/")
                        .trim_matches('"')
                        .to_owned()
                })
                .filter(|v| !v.is_empty()),
        ))
    }
}

/// The query of a log request (`follow`, `tailLines`, `timestamps`, `resumeSessionId`,
/// `resumeOffset`), as the gateway's log route and the agent API's take it.
pub fn log_request(query: &QueryPairs) -> Result<LogRequest, ApiError> {
    let number = |name: &str| -> Result<Option<u64>, ApiError> {
        match query.get(name) {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                ApiError::invalid(&[Violation::error(
                    name,
                    format!("must be a whole number, not {text:?}"),
                )])
            }),
        }
    };
    Ok(LogRequest {
        follow: query.flag("follow")?,
        tail_lines: number("tailLines")?,
        timestamps: query.flag("timestamps")?,
        resume_session_id: query
            .get("resumeSessionId")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        resume_offset: number("resumeOffset")?,
    })
}
