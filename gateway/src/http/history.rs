//! `GET /v1beta2/history` (local decision, see `sandbox_api::history`): the
//! organization's changes, newest first, filtered by `objectKind`, `objectId` and
//! `action`, paged with `pageSize` and `pageToken`.

use axum::Json;
use axum::extract::State;
use sandbox_api::history::ListHistoryResponse;

use super::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::operations::history::{self, HistoryQuery};
use crate::web::extract::QueryPairs;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryPairs,
) -> Result<Json<ListHistoryResponse>, ApiError> {
    let text = |name| query.get(name).unwrap_or_default().to_owned();
    let request = HistoryQuery {
        object_kind: text("objectKind"),
        object_id: text("objectId"),
        action: text("action"),
        page_size: query.page_size()?,
        page_token: text("pageToken"),
    };
    history::list(&state.platform, &caller, request)
        .await
        .map(Json)
}
