//! Profile templates on the control plane: reading one, creating, updating (with the
//! etag, so a concurrent change is refused rather than overwritten) and deleting.

use gloo_net::http::Request;
use sandbox_api::profile::{
    CreateProfileTemplateRequest, ProfileTemplate, UpdateProfileTemplateRequest,
};

use super::{Api, ApiError};

impl Api {
    pub async fn get_profile_template(&self, id: &str) -> Result<ProfileTemplate, ApiError> {
        let path = format!("profile-templates/{}", js_sys::encode_uri_component(id));
        self.get(Request::get(&self.control_plane(&path))).await
    }

    pub async fn create_profile_template(
        &self,
        template: ProfileTemplate,
    ) -> Result<ProfileTemplate, ApiError> {
        let body = CreateProfileTemplateRequest {
            profile_template: template,
        };
        let body = serde_json::to_string(&body).unwrap_or_default();
        self.send(
            Request::post(&self.control_plane("profile-templates")),
            body,
        )
        .await
    }

    /// Replaces the description, labels and spec of template `id`. `template.etag` is
    /// the version the edit started from; the gateway refuses a stale one (409).
    pub async fn update_profile_template(
        &self,
        id: &str,
        template: ProfileTemplate,
    ) -> Result<ProfileTemplate, ApiError> {
        let path = format!("profile-templates/{}", js_sys::encode_uri_component(id));
        let etag = template.etag.clone();
        let body = UpdateProfileTemplateRequest {
            profile_template: template,
        };
        let body = serde_json::to_string(&body).unwrap_or_default();
        let request = Request::patch(&self.control_plane(&path))
            .query([("updateMask", "description,labels,spec")])
            .header("If-Match", &etag);
        self.send(request, body).await
    }

    /// Deletes a profile template; the gateway refuses while a runner binds it
    /// (`CWSANDBOX_PROFILE_IN_USE`, naming the runners).
    pub async fn delete_profile_template(&self, id: &str) -> Result<(), ApiError> {
        let path = format!("profile-templates/{}", js_sys::encode_uri_component(id));
        self.authorized(Request::delete(&self.control_plane(&path)), None)
            .await?
            .decode::<serde::de::IgnoredAny>()
            .map(drop)
    }
}
