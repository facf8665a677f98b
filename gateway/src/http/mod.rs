//! The HTTP surface: routes, request extraction with SPEC-shaped errors, and headers
//! common to every answer. Handlers stay thin: extract, call an operation, answer.

mod extract;
mod profile_templates;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sandbox_api::error::Code;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::console::ConsoleSite;
use crate::error::ApiError;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub console: Arc<ConsoleSite>,
}

/// Path prefix of the whole API; nothing under it falls back to the console.
const API_PREFIX: &str = "/v1beta2/";

pub fn router(state: AppState) -> Router {
    let content_security_policy = state.console.content_security_policy();
    Router::new()
        .route(
            "/v1beta2/sandbox/profile-templates",
            get(profile_templates::list).post(profile_templates::create),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/config.json", get(config_json))
        .fallback(console_or_not_found)
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            content_security_policy,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

async fn config_json(State(state): State<AppState>) -> Response {
    state.console.config_json()
}

/// The console's files for page loads; a `Status` body for unknown API routes and
/// anything that is not a GET.
async fn console_or_not_found(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let is_page_load =
        matches!(*request.method(), Method::GET | Method::HEAD) && !path.starts_with(API_PREFIX);
    if is_page_load && let Some(response) = state.console.serve(request).await {
        return response;
    }
    ApiError::new(Code::NotFound, format!("no such route: {path}")).into_response()
}
