//! Each object's history (`GET /v1beta2/history`, a local decision of the gateway's:
//! see `sandbox_api::history`), a page at a time, newest first.

use gloo_net::http::Request;
use sandbox_api::history::{HistoryAction, ListHistoryResponse, ObjectKind};

use super::{Api, ApiError};

/// Which entries to list; empty parts match all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    pub object_kind: Option<ObjectKind>,
    /// One object's UUID.
    pub object_id: String,
    pub action: Option<HistoryAction>,
}

impl HistoryQuery {
    /// One object's history.
    pub fn of(object_id: &str) -> HistoryQuery {
        HistoryQuery {
            object_id: object_id.to_owned(),
            ..HistoryQuery::default()
        }
    }
}

/// Entries per page (local decision: a screenful).
const PAGE_SIZE: &str = "25";

impl Api {
    /// The page of entries after `page_token` (empty: the newest).
    pub async fn list_history(
        &self,
        query: &HistoryQuery,
        page_token: &str,
    ) -> Result<ListHistoryResponse, ApiError> {
        let mut pairs = vec![("pageSize", PAGE_SIZE)];
        if let Some(kind) = query.object_kind {
            pairs.push(("objectKind", kind.as_str()));
        }
        if !query.object_id.is_empty() {
            pairs.push(("objectId", &query.object_id));
        }
        if let Some(action) = query.action {
            pairs.push(("action", action.as_str()));
        }
        if !page_token.is_empty() {
            pairs.push(("pageToken", page_token));
        }
        self.get(Request::get(&self.data_plane("history")).query(pairs))
            .await
    }
}
