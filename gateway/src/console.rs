//! Serving the console: its static files with a fallback to `index.html` for deep
//! links, its runtime `config.json` (SPEC §5), and the Content-Security-Policy that goes
//! with it.

use std::convert::Infallible;
use std::path::PathBuf;

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// The console's `config.json`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsoleConfig {
    /// Empty: the console's own origin.
    pub control_plane_url: String,
    pub data_plane_url: String,
    pub embed_allowed_origins: Vec<String>,
    pub base_path: String,
}

pub struct ConsoleSite {
    /// `None` when the gateway serves only the API.
    pub dist: Option<PathBuf>,
    pub config: ConsoleConfig,
}

impl ConsoleSite {
    /// No inline scripts (`'wasm-unsafe-eval'` is what instantiating wasm needs); frames
    /// only from this origin and the configured embedding hosts.
    pub fn content_security_policy(&self) -> HeaderValue {
        let mut connect = vec!["'self'".to_owned()];
        for url in [&self.config.control_plane_url, &self.config.data_plane_url] {
            if !url.is_empty() {
                connect.push(url.clone());
            }
        }
        let mut ancestors = vec!["'self'".to_owned()];
        ancestors.extend(self.config.embed_allowed_origins.iter().cloned());
        let policy = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
             connect-src {}; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; \
             form-action 'self'; frame-ancestors {}",
            connect.join(" "),
            ancestors.join(" ")
        );
        // Origins are checked at start-up to hold only URL characters.
        HeaderValue::from_str(&policy)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
    }

    pub fn config_json(&self) -> Response {
        let mut response = Json(&self.config).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }

    /// A file from `dist/`, or `index.html` for a path that names no file but could be
    /// one of the console's routes. `None` when there is nothing to serve.
    pub async fn serve(&self, request: Request) -> Option<Response> {
        let dist = self.dist.as_ref()?;
        let path = request.uri().path().to_owned();
        let found = into_response(ServeDir::new(dist).oneshot(request).await);
        let (mut response, is_page) = if found.status() != StatusCode::NOT_FOUND {
            (found, path.ends_with('/') || path.ends_with(".html"))
        } else if is_app_route(&path) {
            let index = ServeFile::new(dist.join("index.html"));
            (
                into_response(index.oneshot(Request::new(Body::empty())).await),
                true,
            )
        } else {
            return None;
        };
        if response.status() == StatusCode::NOT_FOUND {
            return None;
        }
        if is_page {
            // The page names the hashed assets of one build: always revalidate it.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        }
        Some(response)
    }
}

fn into_response<B>(result: Result<axum::http::Response<B>, Infallible>) -> Response
where
    B: http_body::Body<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    match result {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

/// Deep links into the console have no file extension in their last segment.
fn is_app_route(path: &str) -> bool {
    !path.rsplit('/').next().unwrap_or_default().contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(origins: &[&str]) -> ConsoleSite {
        ConsoleSite {
            dist: None,
            config: ConsoleConfig {
                control_plane_url: String::new(),
                data_plane_url: "https://api.example.com".into(),
                embed_allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
                base_path: "/".into(),
            },
        }
    }

    #[test]
    fn policy_allows_no_inline_script_and_names_the_embedding_hosts() {
        let policy = site(&["https://host.example"]).content_security_policy();
        let policy = policy.to_str().unwrap();
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(!policy.contains("script-src 'self' 'unsafe-inline'"));
        assert!(policy.contains("frame-ancestors 'self' https://host.example"));
        assert!(policy.contains("connect-src 'self' https://api.example.com;"));
    }

    #[test]
    fn app_routes_are_paths_without_a_file_extension() {
        assert!(is_app_route("/profiles"));
        assert!(is_app_route("/runners/r-1/bindings"));
        assert!(!is_app_route("/sandbox-console-abc.wasm"));
    }
}
