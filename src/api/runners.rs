//! Managed runners on the control plane: listing (with the zone and connection
//! filters the API takes), reading, creating, changing chosen fields with the etag
//! (so a concurrent change is refused rather than overwritten), applying an update and
//! deleting.

use gloo_net::http::Request;
use sandbox_api::runner::{
    CreateRunnerRequest, ListRunnersResponse, ProfileBinding, Runner, UpdateRunnerRequest,
};

use super::{Api, ApiError};

/// What the runners list asks the API for; empty means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManagedRunnerQuery {
    pub zone: String,
    /// `RUNNER_CONNECTION_STATUS_…`.
    pub connection_status: String,
}

impl Api {
    fn managed_runner_url(&self, runner_id: &str) -> String {
        let id = js_sys::encode_uri_component(runner_id);
        self.control_plane(&format!("managed-runners/{id}"))
    }

    /// Every managed runner of the organization: install and connection status, and
    /// the bindings.
    pub async fn list_managed_runners(&self) -> Result<Vec<Runner>, ApiError> {
        self.query_managed_runners(&ManagedRunnerQuery::default())
            .await
    }

    /// The managed runners `query` lets through, following page tokens.
    pub async fn query_managed_runners(
        &self,
        query: &ManagedRunnerQuery,
    ) -> Result<Vec<Runner>, ApiError> {
        self.all_pages(
            |page_token| {
                Request::get(&self.control_plane("managed-runners")).query([
                    ("zone", query.zone.as_str()),
                    ("connectionStatus", query.connection_status.as_str()),
                    ("pageSize", "1000"),
                    ("pageToken", page_token),
                ])
            },
            |page: ListRunnersResponse| (page.runners, page.next_page_token),
        )
        .await
    }

    pub async fn get_managed_runner(&self, runner_id: &str) -> Result<Runner, ApiError> {
        self.get(Request::get(&self.managed_runner_url(runner_id)))
            .await
    }

    pub async fn create_managed_runner(
        &self,
        request: &CreateRunnerRequest,
    ) -> Result<Runner, ApiError> {
        let body = serde_json::to_string(request).unwrap_or_default();
        self.send(Request::post(&self.control_plane("managed-runners")), body)
            .await
    }

    /// Changes the fields named by `mask` (API paths such as `display_name`) to their
    /// values in `runner`, refused when `etag` is no longer the runner's.
    pub async fn update_managed_runner(
        &self,
        runner_id: &str,
        runner: Runner,
        mask: &[&str],
        etag: &str,
    ) -> Result<Runner, ApiError> {
        let body = serde_json::to_string(&UpdateRunnerRequest { runner }).unwrap_or_default();
        let request = Request::patch(&self.managed_runner_url(runner_id))
            .query([("updateMask", mask.join(",").as_str())])
            .header("If-Match", etag);
        self.send(request, body).await
    }

    /// Replaces the runner's binding list (the API replaces it whole).
    pub async fn update_bindings(
        &self,
        runner_id: &str,
        bindings: Vec<ProfileBinding>,
        etag: &str,
    ) -> Result<Runner, ApiError> {
        let runner = Runner {
            profile_bindings: bindings,
            ..Runner::default()
        };
        self.update_managed_runner(runner_id, runner, &["profile_bindings"], etag)
            .await
    }

    /// Starts rolling the runner to the newest release of its channel (administrators).
    pub async fn apply_update(&self, runner_id: &str) -> Result<Runner, ApiError> {
        let url = format!("{}:applyUpdate", self.managed_runner_url(runner_id));
        self.send(Request::post(&url), "{}".to_owned()).await
    }

    /// Starts deleting the runner: it passes through DELETING while its sandboxes stop.
    pub async fn delete_managed_runner(&self, runner_id: &str) -> Result<(), ApiError> {
        self.authorized(Request::delete(&self.managed_runner_url(runner_id)), None)
            .await?
            .decode::<serde::de::IgnoredAny>()
            .map(drop)
    }
}
