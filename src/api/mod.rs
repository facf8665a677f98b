//! The API client: the only console code that knows URLs. Every call returns the
//! gateway's own error (`google.rpc.Status`) when it gives one, and says plainly when
//! there was no answer at all. A request is aborted when its future is dropped, so a
//! view that goes away cancels what it was waiting for.

use std::fmt;
use std::sync::Arc;

use gloo_net::http::{Request, RequestBuilder, Response};
use leptos::prelude::*;
use sandbox_api::discovery::{
    AvailableRunner, ListAvailableRunnersResponse, ListProfilesResponse, ProfileSummary,
};
use sandbox_api::error::{Code, Status};
use sandbox_api::filters::DiscoveryFilter;
use sandbox_api::profile::{ListProfileTemplatesResponse, ProfileTemplate};
use sandbox_api::role::Role;
use serde::de::DeserializeOwned;

use crate::config::ConsoleConfig;
use crate::connectivity::Connectivity;
use crate::session::Session;

mod history;
mod profiles;
mod runners;
mod sandboxes;
mod usage;

pub use history::HistoryQuery;
pub use runners::ManagedRunnerQuery;
pub use sandboxes::{LogCursor, LogEnd, LogRead, SandboxQuery};
pub use usage::UsageOf;

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

    /// The change was refused because the thing changed meanwhile (its etag is stale).
    pub fn is_stale_etag(&self) -> bool {
        self.status().and_then(Status::reason) == Some("CWSANDBOX_STALE_ETAG")
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
            } => write!(
                f,
                "The gateway gave an unexpected answer (HTTP {http_status}): {detail}"
            ),
            ApiError::SignedOut => f.write_str("You are signed out"),
        }
    }
}

/// Loads `config.json`, relative to the page's base URL so the console can live under
/// any path.
pub async fn load_config() -> Result<ConsoleConfig, ApiError> {
    call(Request::get("config.json")).await
}

/// A profile template ID that cannot exist: asking to change it tells an admin (not
/// found) from a user (permission denied) without changing anything. Only for an API
/// without the local gateway's "who am I" call (`GET …/sandbox/caller`, local
/// decision), which is asked first because it answers without a failed request.
const ROLE_PROBE_TEMPLATE: &str = "00000000-0000-0000-0000-000000000000";

/// A handle on the API, shared through context.
#[derive(Clone)]
pub struct Api {
    config: Arc<ConsoleConfig>,
    session: Session,
    connectivity: Connectivity,
}

impl Api {
    pub fn new(config: ConsoleConfig, session: Session, connectivity: Connectivity) -> Api {
        Api {
            config: Arc::new(config),
            session,
            connectivity,
        }
    }

    pub fn config(&self) -> &ConsoleConfig {
        &self.config
    }

    /// The absolute address of a control- or data-plane base URL (the console's own
    /// origin when the configuration leaves it empty), for commands copied elsewhere.
    fn absolute(base: &str) -> String {
        if base.is_empty() {
            web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .unwrap_or_default()
        } else {
            base.trim_end_matches('/').to_owned()
        }
    }

    /// The data plane's base URL, absolute (what an SDK's `base_url` is).
    pub fn data_plane_base(&self) -> String {
        Self::absolute(&self.config.data_plane_url)
    }

    /// The absolute URL of data-plane `path`, for a copied command.
    pub fn data_plane_absolute(&self, path: &str) -> String {
        format!("{}/v1beta2/{path}", self.data_plane_base())
    }

    /// The absolute URL of control-plane `path`, for a copied command.
    pub fn control_plane_absolute(&self, path: &str) -> String {
        format!(
            "{}/v1beta2/sandbox/{path}",
            Self::absolute(&self.config.control_plane_url)
        )
    }

    fn control_plane(&self, path: &str) -> String {
        let base = self.config.control_plane_url.trim_end_matches('/');
        format!("{base}/v1beta2/sandbox/{path}")
    }

    fn data_plane(&self, path: &str) -> String {
        let base = self.config.data_plane_url.trim_end_matches('/');
        format!("{base}/v1beta2/{path}")
    }

    /// An authorized GET; records whether the gateway answered at all.
    async fn get<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ApiError> {
        self.authorized(request, None).await?.decode()
    }

    /// Every item of a paged list, following page tokens: `request` asks for the page
    /// that `page_token` names (empty: the first), `parts` splits an answer into its
    /// items and the next page's token (empty after the last page).
    async fn all_pages<Page: DeserializeOwned, Item>(
        &self,
        request: impl Fn(&str) -> RequestBuilder,
        parts: impl Fn(Page) -> (Vec<Item>, String),
    ) -> Result<Vec<Item>, ApiError> {
        let mut items = Vec::new();
        let mut page_token = String::new();
        loop {
            let (page, next_page_token) = parts(self.get(request(&page_token)).await?);
            items.extend(page);
            if next_page_token.is_empty() {
                return Ok(items);
            }
            page_token = next_page_token;
        }
    }

    /// An authorized call with a JSON body.
    async fn send<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        body: String,
    ) -> Result<T, ApiError> {
        self.authorized(request, Some(body)).await?.decode()
    }

    /// The one place that sends the session's token. Not generic, like everything
    /// below it, so the network code is in the bundle once, not once per answer type.
    async fn authorized(
        &self,
        request: RequestBuilder,
        body: Option<String>,
    ) -> Result<Answer, ApiError> {
        let token = self.session.token_untracked().ok_or(ApiError::SignedOut)?;
        let result = exchange(request, &token, body).await;
        self.connectivity
            .record(!matches!(result, Err(ApiError::Unreachable(_))));
        result
    }

    /// Every profile template of the caller's organization, following page tokens.
    pub async fn list_profile_templates(&self) -> Result<Vec<ProfileTemplate>, ApiError> {
        self.all_pages(
            |page_token| {
                Request::get(&self.control_plane("profile-templates"))
                    .query([("pageSize", "1000"), ("pageToken", page_token)])
            },
            |page: ListProfileTemplatesResponse| (page.profile_templates, page.next_page_token),
        )
        .await
    }

    /// Profile template names by ID, for showing which profile a sandbox runs under.
    pub async fn profile_names(
        &self,
    ) -> Result<std::collections::HashMap<String, String>, ApiError> {
        Ok(self
            .list_profile_templates()
            .await?
            .into_iter()
            .map(|t| (t.id, t.display_name))
            .collect())
    }

    /// Every runner the filter lets through, with live resources.
    pub async fn list_available_runners(
        &self,
        filter: &DiscoveryFilter,
    ) -> Result<Vec<AvailableRunner>, ApiError> {
        self.all_pages(
            |page_token| {
                let mut query = filter.to_query();
                query.push(("view", "RUNNER_VIEW_FULL".into()));
                query.push(("pageSize", "1000".into()));
                query.push(("pageToken", page_token.to_owned()));
                Request::get(&self.data_plane("runners")).query(query)
            },
            |page: ListAvailableRunnersResponse| (page.runners, page.next_page_token),
        )
        .await
    }

    pub async fn get_available_runner(&self, runner_id: &str) -> Result<AvailableRunner, ApiError> {
        let id = js_sys::encode_uri_component(runner_id);
        self.get(Request::get(&self.data_plane(&format!("runners/{id}"))))
            .await
    }

    /// Every (profile, runner) pair the filter lets through.
    pub async fn list_profiles(
        &self,
        filter: &DiscoveryFilter,
    ) -> Result<Vec<ProfileSummary>, ApiError> {
        self.all_pages(
            |page_token| {
                let mut query = filter.to_query();
                query.push(("pageSize", "1000".into()));
                query.push(("pageToken", page_token.to_owned()));
                Request::get(&self.data_plane("profiles")).query(query)
            },
            |page: ListProfilesResponse| (page.profiles, page.next_page_token),
        )
        .await
    }

    /// Whether the gateway answers at all, asked with the cheapest authorized read.
    pub async fn ping(&self) -> bool {
        // The answer is not read, so none of it is decoded (a profile's decoder would
        // otherwise be part of every page).
        let result: Result<serde::de::IgnoredAny, ApiError> = self
            .get(Request::get(&self.control_plane("profile-templates")).query([("pageSize", "1")]))
            .await;
        !matches!(result, Err(ApiError::Unreachable(_)))
    }

    /// Whether the gateway accepts `token`, asked with the cheapest read there is.
    pub async fn check_token(&self, token: &str) -> Result<(), ApiError> {
        let answer = exchange(
            Request::get(&self.control_plane("profile-templates")).query([("pageSize", "1")]),
            token,
            None,
        )
        .await?;
        answer.decode::<serde::de::IgnoredAny>().map(drop)
    }

    /// What `token` may do: an update of a template that cannot exist is refused with
    /// PERMISSION_DENIED for a user and NOT_FOUND for an administrator.
    pub async fn probe_role(&self, token: &str) -> Result<Role, ApiError> {
        let asked = exchange(Request::get(&self.control_plane("caller")), token, None).await;
        match asked.and_then(|a| a.decode::<sandbox_api::caller::CallerResponse>()) {
            Ok(caller) => return Ok(caller.role),
            Err(ApiError::Rejected(status)) if status.code == Code::Unauthenticated => {
                return Err(ApiError::Rejected(status));
            }
            Err(ApiError::Unreachable(detail)) => return Err(ApiError::Unreachable(detail)),
            // Not there (an API without the call): ask the old way.
            Err(_) => {}
        }
        let request = Request::patch(
            &self.control_plane(&format!("profile-templates/{ROLE_PROBE_TEMPLATE}")),
        )
        .query([("updateMask", "description")]);
        let answer = exchange(request, token, Some(r#"{"profileTemplate":{}}"#.to_owned())).await;
        match answer.and_then(|a| a.decode::<serde::de::IgnoredAny>()) {
            Err(ApiError::Rejected(status)) if status.code == Code::PermissionDenied => {
                Ok(Role::User)
            }
            Err(ApiError::Rejected(status)) if status.code == Code::Unauthenticated => {
                Err(ApiError::Rejected(status))
            }
            Err(ApiError::Unreachable(detail)) => Err(ApiError::Unreachable(detail)),
            _ => Ok(Role::Admin),
        }
    }
}

pub fn use_api() -> Api {
    expect_context::<Api>()
}

/// An HTTP answer, read in full.
struct Answer {
    http_status: u16,
    ok: bool,
    text: String,
}

impl Answer {
    /// The body as `T` on success, else the gateway's `Status`.
    fn decode<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        let Answer {
            http_status,
            ok,
            text,
        } = self;
        if ok {
            return serde_json::from_str(&text).map_err(|e| ApiError::Unexpected {
                http_status,
                detail: format!("the body is not what the API returns: {e}"),
            });
        }
        Err(serde_json::from_str::<Status>(&text)
            .map(ApiError::Rejected)
            .unwrap_or_else(|_| ApiError::Unexpected {
                http_status,
                detail: text.chars().take(200).collect(),
            }))
    }
}

/// Loads `config.json` (no token: it says where the API is).
async fn call<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ApiError> {
    send_request(request, None).await?.decode()
}

/// Sends `request` with `token` (and `body` as JSON, if any).
async fn exchange(
    request: RequestBuilder,
    token: &str,
    body: Option<String>,
) -> Result<Answer, ApiError> {
    let request = request.header("Authorization", &format!("Bearer {token}"));
    send_request(request, body).await
}

/// Sends the request and reads the whole answer; dropping the future aborts the
/// request.
async fn send_request(request: RequestBuilder, body: Option<String>) -> Result<Answer, ApiError> {
    // Lives until the body has been read: aborting earlier would cut the body off.
    let (response, _abort) = open(request, body).await?;
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Unreachable(format!("the answer was cut off: {e}")))?;
    Ok(Answer {
        http_status: response.status(),
        ok: response.ok(),
        text,
    })
}

/// Sends the request and returns the response as soon as its headers are in, with
/// what aborts it (dropping it cuts the body off).
async fn open(
    request: RequestBuilder,
    body: Option<String>,
) -> Result<(Response, AbortOnDrop), ApiError> {
    let abort = AbortOnDrop::new();
    let request = request.abort_signal(abort.signal().as_ref());
    let sent = match body {
        None => request.send().await,
        Some(body) => {
            let request = request
                .header("Content-Type", "application/json")
                .body(body)
                .map_err(|e| ApiError::Unexpected {
                    http_status: 0,
                    detail: format!("the request could not be built: {e}"),
                })?;
            request.send().await
        }
    };
    let response: Response = sent.map_err(|e| ApiError::Unreachable(e.to_string()))?;
    Ok((response, abort))
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
