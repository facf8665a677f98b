//! Serving the console: its static files with a fallback to `index.html` for deep
//! links, its runtime `config.json` (SPEC §5), and the Content-Security-Policy that goes
//! with it.

use std::convert::Infallible;
use std::path::PathBuf;

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sandbox_api::console_pages::ConsolePage;
use sandbox_api::error::Code;
use serde::Serialize;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::ApiError;

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
    /// With `--demo`: the token the embedding demo page hands to the console it frames.
    pub embed_demo_token: Option<String>,
}

/// A host page that frames two console views and signs them in, as a cloud console
/// would (`/embed-demo.html`, `--demo` only).
const EMBED_DEMO_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Host console (embedding demo)</title>
<link rel="stylesheet" href="/embed-demo.css">
</head>
<body>
<header><strong>Acme Cloud</strong> <span>host console, embedding Sandbox Console</span>
<button id="light" type="button">Light</button><button id="dark" type="button">Dark</button></header>
<main>
<section><h2>Runners</h2><iframe title="Sandbox Console: runners" src="/runners?embed=1"></iframe></section>
<section><h2>Profile availability</h2><iframe title="Sandbox Console: profile availability" src="/availability?embed=1"></iframe></section>
</main>
<footer id="log" aria-live="polite"></footer>
<script type="module" src="/embed-demo.js"></script>
</body>
</html>
"#;

const EMBED_DEMO_STYLE: &str = "body{margin:0;font:15px system-ui,sans-serif;background:#eef1f5}header{display:flex;gap:12px;align-items:center;padding:10px 20px;background:#1d2939;color:#fff}header span{flex:1;opacity:.8}main{display:grid;gap:16px;padding:16px}section{background:#fff;border-radius:8px;padding:8px 16px}h2{font-size:15px}iframe{width:100%;height:420px;border:1px solid #d0d5dd;border-radius:6px}footer{padding:8px 20px;color:#475467;font-size:13px}";

/// Hands the token and a theme to every framed console, and follows what they report.
/// The token is fetched from this origin (`/embed-demo/token`), never written into the
/// script: a script can be included by any page, and would hand it the token.
const EMBED_DEMO_SCRIPT: &str = r#"const answer = await fetch("/embed-demo/token", {credentials: "omit", cache: "no-store"});
const token = answer.ok ? (await answer.json()).token : "";
const frames = [...document.querySelectorAll("iframe")];
const log = document.getElementById("log");
if (!token) log.textContent = "Could not get the demo token: " + answer.status;
let theme = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
const signedIn = new Set();
const greet = (frame) => {
  frame.contentWindow.postMessage({type: "sandbox-console:auth", token}, location.origin);
  frame.contentWindow.postMessage({type: "sandbox-console:theme", theme}, location.origin);
};
// A framed console reports its height as soon as it runs; until it has navigated past
// sign-in, every report is answered with the token (its listener may not have existed
// when the frame's load event fired).
addEventListener("message", (e) => {
  if (e.origin !== location.origin) return;
  const frame = frames.find((f) => f.contentWindow === e.source);
  if (!frame) return;
  if (e.data.type === "sandbox-console:resize") {
    frame.style.height = Math.min(e.data.height + 4, 900) + "px";
    if (!signedIn.has(frame)) greet(frame);
  }
  if (e.data.type === "sandbox-console:navigated") {
    if (!e.data.path.startsWith("/sign-in")) signedIn.add(frame);
    log.textContent = "Embedded console navigated to " + e.data.path;
  }
});
const send = (message) => frames.forEach((f) => f.contentWindow.postMessage(message, location.origin));
document.getElementById("light").onclick = () => send({type: "sandbox-console:theme", theme: (theme = "light")});
document.getElementById("dark").onclick = () => send({type: "sandbox-console:theme", theme: (theme = "dark")});
"#;

/// Whether a request for the demo token is the demo page's own `fetch`: browsers mark
/// every request with `Sec-Fetch-Site`, and a cross-origin one also with `Origin`. A
/// `<script>` or `<img>` on another site is refused before it can read anything, and
/// a cross-origin `fetch` gets no CORS headers to read the answer with.
fn is_same_origin_fetch(headers: &HeaderMap) -> bool {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let same_site = value("sec-fetch-site") == Some("same-origin");
    let as_fetch = matches!(value("sec-fetch-dest"), None | Some("empty"));
    let origin_matches = match (value("origin"), value("host")) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin == format!("http://{host}"),
        (Some(_), None) => false,
    };
    same_site && as_fetch && origin_matches
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

    /// The embedding demo's page, style, script and token; `None` outside `--demo`.
    pub fn embed_demo(&self, path: &str, headers: &HeaderMap) -> Option<Response> {
        let token = self.embed_demo_token.as_ref()?;
        self.dist.as_ref()?;
        let (content_type, body) = match path {
            "/embed-demo.html" => ("text/html; charset=utf-8", EMBED_DEMO_PAGE.to_owned()),
            "/embed-demo.css" => ("text/css", EMBED_DEMO_STYLE.to_owned()),
            "/embed-demo.js" => ("text/javascript", EMBED_DEMO_SCRIPT.to_owned()),
            "/embed-demo/token" if !is_same_origin_fetch(headers) => {
                return Some(
                    ApiError::new(
                        Code::PermissionDenied,
                        "the demo token is only handed to the demo page's own requests",
                    )
                    .into_response(),
                );
            }
            "/embed-demo/token" => (
                "application/json",
                serde_json::json!({ "token": token }).to_string(),
            ),
            _ => return None,
        };
        let mut response = body.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Some(response)
    }

    pub fn config_json(&self) -> Response {
        let mut response = Json(&self.config).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }

    /// A file from `dist/`, or the console page that serves a path that names no file
    /// but could be one of the console's routes (`sandbox_api::console_pages`). `None`
    /// when there is nothing to serve.
    pub async fn serve(&self, request: Request) -> Option<Response> {
        let dist = self.dist.as_ref()?;
        let path = request.uri().path().to_owned();
        // The build writes a Zopfli-compressed `.gz` beside each bundle file
        // (crates/precompress); those are sent as they are to browsers that take gzip.
        let files = ServeDir::new(dist).precompressed_gzip();
        let found = into_response(files.oneshot(request).await);
        let (mut response, is_page) = if found.status() != StatusCode::NOT_FOUND {
            (found, path.ends_with('/') || path.ends_with(".html"))
        } else if is_app_route(&path) {
            let page = ConsolePage::for_path(&path).html_file();
            let index = ServeFile::new(dist.join(page));
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
        // The same path may be sent gzipped or not: caches must keep them apart.
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
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
            embed_demo_token: None,
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
