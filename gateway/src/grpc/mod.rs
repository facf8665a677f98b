//! The v1beta2 data plane over gRPC (HTTP/2 cleartext), on the gateway's one port beside
//! the JSON API and the console: what the platform's own clients (the `cwsandbox` Python
//! client) speak. A transport like `http/`: every RPC authenticates the same way and
//! calls the same operations, and only converts messages and errors.

mod convert;
mod discovery;
mod gateway;
pub mod proto;
mod status;
mod streaming;

use axum::Router;
use tonic::Status;
use tonic::server::NamedService;

use self::proto::discovery_service_server::DiscoveryServiceServer;
use self::proto::gateway_service_server::GatewayServiceServer;
use self::proto::gateway_streaming_service_server::GatewayStreamingServiceServer;
use crate::auth::Caller;
use crate::operations::{self, Platform};

/// The largest message taken or sent: files travel whole in `AddFile` and
/// `RetrieveFile`, and the client allows 100 MiB each way.
const MAX_MESSAGE_BYTES: usize = 100 * 1024 * 1024;

/// The gRPC services, mounted on `router` by their paths
/// (`/coreweave.sandbox.v1beta2.GatewayService/Start`, …), which no JSON route shares.
/// `stopping` becomes true when the gateway starts to stop: log follows end then.
pub fn mount<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    platform: &Platform,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> Router<S> {
    let discovery = DiscoveryServiceServer::new(discovery::Discovery::new(platform.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let gateway = GatewayServiceServer::new(gateway::Gateway::new(platform.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let streaming = GatewayStreamingServiceServer::new(streaming::StreamingService::new(
        platform.clone(),
        stopping,
    ))
    .max_decoding_message_size(MAX_MESSAGE_BYTES)
    .max_encoding_message_size(MAX_MESSAGE_BYTES);
    router
        .route_service(&service_path(&discovery), discovery)
        .route_service(&service_path(&gateway), gateway)
        .route_service(&service_path(&streaming), streaming)
}

fn service_path<T: NamedService>(_: &T) -> String {
    format!("/{}/{{*method}}", T::NAME)
}

/// Who calls: the `authorization: Bearer …` metadata, checked as the JSON API checks
/// its header.
async fn caller<T>(platform: &Platform, request: &tonic::Request<T>) -> Result<Caller, Status> {
    let secret = request
        .metadata()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| {
            Status::unauthenticated(
                "missing bearer token: send `authorization: Bearer <token>` metadata",
            )
        })?;
    operations::authenticate(platform, secret)
        .await
        .map_err(status::to_status)
}
