//! `POST /v1beta2/internal/runners/{runnerId}:heartbeat`: an agent process reports for
//! its runner (local decision: internal route, not part of the platform's API).

use axum::Json;
use axum::extract::{Path, State};
use sandbox_api::error::Code;

use super::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::operations::heartbeats::{self, HeartbeatRequest, HeartbeatResponse};
use crate::web::extract::ApiJson;

/// The custom method shares the path segment with the runner ID.
pub async fn runner_method(
    State(state): State<AppState>,
    caller: Caller,
    Path(segment): Path<String>,
    ApiJson(report): ApiJson<HeartbeatRequest>,
) -> Result<Json<HeartbeatResponse>, ApiError> {
    match segment.rsplit_once(':') {
        Some((runner, "heartbeat")) => heartbeats::accept(&state.platform, &caller, runner, report)
            .await
            .map(Json),
        _ => Err(ApiError::new(
            Code::NotFound,
            format!("no such internal method on runner: {segment:?}"),
        )),
    }
}
