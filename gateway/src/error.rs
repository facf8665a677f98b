//! `ApiError`: a `google.rpc.Status` on its way to a client, whatever the transport
//! (`web` turns it into an HTTP answer). Operations, agents and the HTTP layer speak
//! it; the store has its own `StoreError`, which becomes an `ApiError` once, at the
//! operation boundary (`operations`), where it is logged with its cause.

use std::fmt;

use sandbox_api::error::{Code, Status};
use sandbox_api::violation::Violation;

#[derive(Debug)]
pub struct ApiError(pub Status);

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError(Status::new(code, message))
    }

    pub fn invalid(violations: &[Violation]) -> ApiError {
        ApiError(Status::invalid(violations))
    }

    /// An internal failure: logged in full here, reported to the client without details
    /// that could leak the server's internals.
    pub fn internal(context: &str, error: impl fmt::Display) -> ApiError {
        tracing::error!("{context}: {error}");
        ApiError::new(Code::Internal, format!("internal error while {context}"))
    }
}

impl From<Status> for ApiError {
    fn from(status: Status) -> ApiError {
        ApiError(status)
    }
}

/// `Code: message`, so that background work can report an operation's refusal with
/// `anyhow` context (`seeding runner gpu-east: InvalidArgument: …`).
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.0.code, self.0.message)
    }
}

impl std::error::Error for ApiError {}
