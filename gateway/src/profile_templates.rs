//! Profile-template operations (SPEC §3.1): what a request may do, checked against the
//! domain rules in `sandbox-api`, then persisted. HTTP handlers and demo seeding both
//! come through here, so seeded data obeys the same rules as the API.

use sandbox_api::error::Code;
use sandbox_api::page::page_size;
use sandbox_api::profile::{
    CreateProfileTemplateRequest, ListProfileTemplatesResponse, ProfileTemplate,
    validate_new_template,
};
use sandbox_api::role::Role;
use sandbox_api::violation::{Violation, errors};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::profile_templates::{self as rows, InsertError};
use crate::store::{self, Store};

pub async fn create(
    store: &Store,
    caller: &Caller,
    request: CreateProfileTemplateRequest,
) -> Result<ProfileTemplate, ApiError> {
    caller.require(Role::Admin)?;
    let mut template = request.profile_template;
    let blocking = errors(&validate_new_template(&template));
    if !blocking.is_empty() {
        return Err(ApiError::invalid(&blocking));
    }
    let now = store::now();
    template.id = uuid::Uuid::new_v4().to_string();
    template.organization_id = caller.organization.clone();
    template.created_at = Some(now);
    template.updated_at = Some(now);
    template.etag = store::new_etag();
    store
        .run(
            move |connection| match rows::insert(connection, &template) {
                Ok(()) => Ok(template),
                Err(InsertError::DuplicateName) => Err(ApiError::new(
                    Code::AlreadyExists,
                    format!(
                        "a profile template named {:?} already exists in this organization",
                        template.display_name
                    ),
                )),
                Err(InsertError::Database(e)) => {
                    Err(ApiError::internal("saving a profile template", e))
                }
            },
        )
        .await
}

pub async fn list(
    store: &Store,
    caller: &Caller,
    requested_page_size: Option<i64>,
    page_token: &str,
) -> Result<ListProfileTemplatesResponse, ApiError> {
    caller.require(Role::User)?;
    let size = page_size(requested_page_size).map_err(|v| ApiError::invalid(&[v]))?;
    let after = decode_page_token(page_token)?;
    let organization = caller.organization.clone();
    let mut page = store
        .run(move |connection| {
            // One extra row tells whether another page follows.
            rows::list(connection, &organization, after.as_deref(), size + 1)
                .map_err(|e| ApiError::internal("listing profile templates", e))
        })
        .await?;
    let next_page_token = if page.len() > size as usize {
        page.truncate(size as usize);
        page.last()
            .map(|last| hex::encode(&last.display_name))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(ListProfileTemplatesResponse {
        profile_templates: page,
        next_page_token,
    })
}

/// The display name a page starts after; page tokens are opaque to clients.
fn decode_page_token(token: &str) -> Result<Option<String>, ApiError> {
    if token.is_empty() {
        return Ok(None);
    }
    hex::decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::invalid(&[Violation::error(
                "page_token",
                "is not a page token this server issued",
            )])
        })
}
