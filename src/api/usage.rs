//! Usage over time (`sandbox_api::usage`, a local decision of the gateway's): a
//! sandbox's, a runner's, or the organization's fleet's.

use gloo_net::http::Request;
use sandbox_api::usage::UsageHistoryResponse;

use super::{Api, ApiError};

/// Whose usage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageOf {
    Sandbox(String),
    Runner(String),
    Fleet,
}

impl Api {
    pub async fn usage_history(&self, of: &UsageOf) -> Result<UsageHistoryResponse, ApiError> {
        let path = match of {
            UsageOf::Sandbox(id) => {
                format!("sandboxes/{}/usage", js_sys::encode_uri_component(id))
            }
            UsageOf::Runner(id) => format!("runners/{}/usage", js_sys::encode_uri_component(id)),
            UsageOf::Fleet => "usage".to_owned(),
        };
        self.get(Request::get(&self.data_plane(&path))).await
    }
}
