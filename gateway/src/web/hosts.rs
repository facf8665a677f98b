//! The Host check: a web page on another site can make a browser send requests to this
//! gateway by pointing its own host name at 127.0.0.1 (DNS rebinding), and those
//! requests then count as same-origin for it. They still carry that site's name in
//! `Host`, so answering only the names this gateway is known by stops them.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sandbox_api::error::{Code, Reason, Status};

use crate::error::ApiError;

/// The host names (lower case, without port) requests may name.
#[derive(Clone, Debug)]
pub struct AllowedHosts(Arc<Vec<String>>);

impl AllowedHosts {
    /// The listen address, the loopback names and `extra` (`--allowed-host`).
    pub fn new(listen: SocketAddr, extra: &[String]) -> AllowedHosts {
        let listen = match listen.ip() {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let mut names = vec![
            listen,
            "localhost".into(),
            "127.0.0.1".into(),
            "[::1]".into(),
        ];
        names.extend(extra.iter().map(|name| name.to_ascii_lowercase()));
        AllowedHosts(Arc::new(names))
    }

    /// Whether a `Host` value (`name[:port]`) names this gateway.
    pub fn allows(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        self.0.contains(&name)
    }
}

/// `name` of `name:port`, `[v6]` of `[v6]:port`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Middleware: 421 with a Status body for a request naming another host. HTTP/2
/// requests name it in the URI's authority, HTTP/1.1 ones in `Host`; a request naming
/// none (HTTP/1.0 tools) is not a browser's and passes.
pub async fn check_host(
    State(allowed): State<AllowedHosts>,
    request: Request,
    next: Next,
) -> Response {
    let named = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            request
                .headers()
                .get(header::HOST)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        });
    let is_grpc = request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    match named {
        // A gRPC client reads a gRPC status, not an HTTP one.
        Some(host) if !allowed.allows(&host) && is_grpc => {
            tonic::Status::permission_denied(MISDIRECTED).into_http::<axum::body::Body>()
        }
        Some(host) if !allowed.allows(&host) => ApiError(
            Status::new(Code::PermissionDenied, MISDIRECTED)
                .with_reason(Reason::MisdirectedRequest, Default::default()),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

const MISDIRECTED: &str =
    "this gateway does not serve that host name; start it with --allowed-host NAME to serve it";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_compared_without_port_and_case() {
        let allowed = AllowedHosts::new("127.0.0.1:8080".parse().unwrap(), &["Sandbox.Lan".into()]);
        for host in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:1",
            "[::1]:8080",
            "sandbox.lan:80",
        ] {
            assert!(allowed.allows(host), "{host}");
        }
        for host in [
            "attacker.example:8080",
            "127.0.0.1.attacker.example",
            "localhost.attacker.example:8080",
            "[::2]:8080",
            "",
        ] {
            assert!(!allowed.allows(host), "{host}");
        }
    }

    #[tokio::test]
    async fn a_grpc_request_for_another_host_gets_a_grpc_status() {
        use tower::ServiceExt;
        let allowed = AllowedHosts::new("127.0.0.1:8080".parse().unwrap(), &[]);
        let app = axum::Router::new()
            .route("/x", axum::routing::post(|| async { "served" }))
            .layer(axum::middleware::from_fn_with_state(allowed, check_host));
        let request = |content_type: &'static str| {
            axum::http::Request::post("/x")
                .header(header::HOST, "attacker.example:8080")
                .header(header::CONTENT_TYPE, content_type)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let grpc = app
            .clone()
            .oneshot(request("application/grpc"))
            .await
            .unwrap();
        assert_eq!(grpc.status(), 200, "gRPC carries its status in headers");
        assert_eq!(grpc.headers()["grpc-status"], "7");
        let json = app.oneshot(request("application/json")).await.unwrap();
        assert_eq!(json.status(), 421);
    }

    #[test]
    fn a_wildcard_listen_address_is_not_a_wildcard_host() {
        let allowed = AllowedHosts::new("0.0.0.0:8080".parse().unwrap(), &[]);
        assert!(!allowed.allows("192.168.1.9:8080"));
        let v6 = AllowedHosts::new("[fd00::1]:8080".parse().unwrap(), &[]);
        assert!(v6.allows("[fd00::1]:8080"));
    }
}
