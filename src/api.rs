//! The API client: the only console code that knows URLs. Every call returns the
//! gateway's own error (`google.rpc.Status`) when it gives one, and says plainly when
//! there was no answer at all. A request is aborted when its future is dropped, so a
//! view that goes away cancels what it was waiting for.

use std::fmt;
use std::sync::Arc;

use gloo_net::http::{Request, RequestBuilder, Response};
use leptos::prelude::*;
use sandbox_api::error::{Code, Status};
use sandbox_api::profile::{ListProfileTemplatesResponse, ProfileTemplate};
use serde::de::DeserializeOwned;

use crate::config::ConsoleConfig;
use crate::session::Session;

/// Why a call failed.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// No HTTP answer: the gateway is down, unreachable, or the request was blocked.
    Unreachable(String),
    /// The gateway refused the request and said why.
    Rejected(Status),
    /// An answer that is not the API's: a proxy's error page, a truncated body.
    Unexpected { http_status: u16, detail: String },
    /// The call needs a token and there is none.
    SignedOut,
}

impl ApiError {
    pub fn status(&self) -> Option<&Status> {
        match self {
            ApiError::Rejected(status) => Some(status),
            _ => None,
        }
    }

    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, ApiError::SignedOut)
            || self
                .status()
                .is_some_and(|s| s.code == Code::Unauthenticated)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unreachable(detail) => {
                write!(f, "The gateway could not be reached ({detail})")
            }
            ApiError::Rejected(status) if status.message.is_empty() => {
                write!(f, "The gateway refused the request ({:?})", status.code)
            }
            ApiError::Rejected(status) => f.write_str(&status.message),
            ApiError::Unexpected {
                http_status,
                detail,
            } => {
                write!(
                    f,
                    "The gateway gave an unexpected answer (HTTP {http_status}): {detail}"
                )
            }
            ApiError::SignedOut => f.write_str("You are signed out"),
        }
    }
}

/// Loads `config.json`, relative to the page's base URL so the console can live under
/// any path.
pub async fn load_config() -> Result<ConsoleConfig, ApiError> {
    call(Request::get("config.json")).await
}

/// A handle on the API, shared through context.
#[derive(Clone)]
pub struct Api {
    config: Arc<ConsoleConfig>,
    session: Session,
}

impl Api {
    pub fn new(config: ConsoleConfig, session: Session) -> Api {
        Api {
            config: Arc::new(config),
            session,
        }
    }

    fn control_plane(&self, path: &str) -> String {
        format!(
            "{}/v1beta2/sandbox/{path}",
            self.config.control_plane_url.trim_end_matches('/')
        )
    }

    /// Every profile template of the caller's organization, following page tokens.
    pub async fn list_profile_templates(&self) -> Result<Vec<ProfileTemplate>, ApiError> {
        let token = self.session.token_untracked().ok_or(ApiError::SignedOut)?;
        let mut templates = Vec::new();
        let mut page_token = String::new();
        loop {
            let page: ListProfileTemplatesResponse = get_json(
                Request::get(&self.control_plane("profile-templates"))
                    .query([("pageSize", "1000"), ("pageToken", page_token.as_str())]),
                &token,
            )
            .await?;
            templates.extend(page.profile_templates);
            if page.next_page_token.is_empty() {
                return Ok(templates);
            }
            page_token = page.next_page_token;
        }
    }

    /// Whether the gateway accepts `token`, asked with the cheapest read there is.
    pub async fn check_token(&self, token: &str) -> Result<(), ApiError> {
        let _: ListProfileTemplatesResponse = get_json(
            Request::get(&self.control_plane("profile-templates")).query([("pageSize", "1")]),
            token,
        )
        .await?;
        Ok(())
    }
}

pub fn use_api() -> Api {
    expect_context::<Api>()
}

async fn get_json<T: DeserializeOwned>(
    request: RequestBuilder,
    token: &str,
) -> Result<T, ApiError> {
    call(request.header("Authorization", &format!("Bearer {token}"))).await
}

/// Sends the request and reads the answer; dropping the future aborts the request.
async fn call<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ApiError> {
    // Lives until the body has been read: aborting earlier would cut the body off.
    let abort = AbortOnDrop::new();
    let response = request
        .abort_signal(abort.signal().as_ref())
        .send()
        .await
        .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    decode(response).await
}

/// The body as `T` on success, else the gateway's `Status`.
async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let http_status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Unreachable(format!("the answer was cut off: {e}")))?;
    if response.ok() {
        serde_json::from_str(&text).map_err(|e| ApiError::Unexpected {
            http_status,
            detail: format!("the body is not what the API returns: {e}"),
        })
    } else {
        Err(serde_json::from_str::<Status>(&text)
            .map(ApiError::Rejected)
            .unwrap_or_else(|_| ApiError::Unexpected {
                http_status,
                detail: text.chars().take(200).collect(),
            }))
    }
}

struct AbortOnDrop(Option<web_sys::AbortController>);

impl AbortOnDrop {
    fn new() -> AbortOnDrop {
        AbortOnDrop(web_sys::AbortController::new().ok())
    }

    fn signal(&self) -> Option<web_sys::AbortSignal> {
        self.0.as_ref().map(web_sys::AbortController::signal)
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = &self.0 {
            controller.abort();
        }
    }
}
