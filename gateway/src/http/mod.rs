//! The HTTP surface: routes, the `Caller` extractor, the console's files, and headers
//! common to every answer. Handlers stay thin: extract (with `web`'s SPEC-shaped
//! rejections), call an operation, answer.

mod agents;
mod caller;
pub mod console;
mod discovery;
mod history;
mod profile_templates;
mod runners;
mod sandboxes;
mod terminal;
mod usage;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use sandbox_api::error::Code;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::set_header::SetResponseHeaderLayer;

use self::console::ConsoleSite;
use crate::error::ApiError;
use crate::operations::Platform;
use crate::web::extract::MAX_BODY_BYTES;
use crate::web::hosts::{AllowedHosts, check_host};
use crate::web::status_bodies::status_bodies;

#[derive(Clone)]
pub struct AppState {
    pub platform: Platform,
    pub console: Arc<ConsoleSite>,
    /// Becomes true when the gateway starts to stop: streams end then.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// The host names requests may name (the rest get 421).
    pub hosts: AllowedHosts,
}

/// Path prefix of the whole API; nothing under it falls back to the console.
const API_PREFIX: &str = "/v1beta2/";

pub fn router(state: AppState) -> Router {
    let content_security_policy = state.console.content_security_policy();
    let hosts = state.hosts.clone();
    let router = Router::new()
        .route("/v1beta2/sandbox/caller", get(caller::get))
        .route(
            "/v1beta2/sandbox/profile-templates",
            get(profile_templates::list).post(profile_templates::create),
        )
        .route(
            "/v1beta2/sandbox/profile-templates/{id}",
            get(profile_templates::get)
                .patch(profile_templates::update)
                .delete(profile_templates::delete),
        )
        .route(
            "/v1beta2/sandbox/managed-runners",
            get(runners::list).post(runners::create),
        )
        .route(
            "/v1beta2/sandbox/managed-runners/{runner}",
            get(runners::get)
                .patch(runners::update)
                .delete(runners::delete)
                .post(runners::custom_method),
        )
        .route("/v1beta2/history", get(history::list))
        .route("/v1beta2/runners", get(discovery::list_runners))
        .route("/v1beta2/runners/{runner}", get(discovery::get_runner))
        .route("/v1beta2/runners/{runner}/usage", get(usage::runner))
        .route("/v1beta2/usage", get(usage::fleet))
        .route("/v1beta2/profiles", get(discovery::list_profiles))
        .route("/v1beta2/profiles/{profile}", get(discovery::get_profile))
        .route(
            "/v1beta2/sandboxes",
            get(sandboxes::list).post(sandboxes::start),
        )
        .route(
            "/v1beta2/sandboxes/{id}",
            get(sandboxes::get).delete(sandboxes::delete),
        )
        .route("/v1beta2/sandboxes/{id}/stop", post(sandboxes::stop))
        .route("/v1beta2/sandboxes/{id}/exec", post(sandboxes::exec))
        .route("/v1beta2/sandboxes/{id}/logs", get(sandboxes::logs))
        .route("/v1beta2/sandboxes/{id}/usage", get(usage::sandbox))
        .route("/v1beta2/sandboxes/{id}/terminal", get(terminal::terminal))
        .route(
            "/v1beta2/sandboxes/{id}/files",
            post(sandboxes::add_file).layer(DefaultBodyLimit::max(sandboxes::FILE_BODY_BYTES)),
        )
        .route(
            "/v1beta2/sandboxes/{id}/files/{*filepath}",
            get(sandboxes::retrieve_file),
        )
        .route(
            "/v1beta2/internal/runners/{runner}",
            post(agents::runner_method),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/config.json", get(config_json));
    // The same API over gRPC, for the platform's own clients (HTTP/2 cleartext).
    crate::grpc::mount(router, &state.platform, state.stopping.clone())
        .fallback(console_or_not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Inside compression, so that it reads the rejections' plain text.
        .layer(middleware::from_fn(status_bodies))
        // Log streams are not compressed: gzip would hold lines back until a block fills.
        .layer(CompressionLayer::new().compress_when(
            DefaultPredicate::new().and(NotForContentType::const_new("application/x-ndjson")),
        ))
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
        // Outermost: a request for another host name reaches nothing.
        .layer(middleware::from_fn_with_state(hosts, check_host))
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
    if is_page_load && let Some(response) = state.console.embed_demo(&path, request.headers()) {
        return response;
    }
    if is_page_load && let Some(response) = state.console.serve(request).await {
        return response;
    }
    ApiError::new(Code::NotFound, format!("no such route: {path}")).into_response()
}
