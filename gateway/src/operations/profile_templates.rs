//! Profile-template operations (SPEC §3.1): what a request may do, checked against the
//! domain rules in `sandbox-api`, then persisted. HTTP handlers and demo seeding both
//! come through here, so seeded data obeys the same rules as the API.

use std::collections::BTreeMap;

use sandbox_api::error::{Code, Reason, Status};
use sandbox_api::history::{Actor, HistoryAction, ObjectKind};
use sandbox_api::page::page_size;
use sandbox_api::profile::{
    CreateProfileTemplateRequest, ListProfileTemplatesResponse, ProfileTemplate,
    UpdateProfileTemplateRequest,
};
use sandbox_api::profile_rules::{
    apply_update, parse_update_mask, validate_new_template, validate_template_update,
};
use sandbox_api::role::Role;
use sandbox_api::violation::errors;

use super::history::{self, Change};
use super::{Platform, page_token};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store;
use crate::store::profile_templates::{self as rows, InsertError};

pub async fn create(
    platform: &Platform,
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
    let actor = history::actor(caller);
    platform
        .store
        .run(move |connection| {
            store::in_transaction(connection, |tx| match rows::insert(tx, &template) {
                Ok(()) => {
                    history::record(tx, &template.organization_id, created(&template, actor))?;
                    Ok(template)
                }
                Err(InsertError::DuplicateName) => Err(ApiError::new(
                    Code::AlreadyExists,
                    format!(
                        "a profile template named {:?} already exists in this organization",
                        template.display_name
                    ),
                )),
                Err(InsertError::Database(e)) => Err(e.into()),
            })
        })
        .await
}

/// A template's history entry for its creation.
fn created(template: &ProfileTemplate, actor: Actor) -> Change<'_> {
    Change {
        kind: ObjectKind::ProfileTemplate,
        id: &template.id,
        name: &template.display_name,
        action: HistoryAction::Created,
        actor,
        before: None,
        after: Some(history::snapshot(template, &[])),
    }
}

pub async fn get(
    platform: &Platform,
    caller: &Caller,
    key: &str,
) -> Result<ProfileTemplate, ApiError> {
    caller.require(Role::User)?;
    let (organization, key) = (caller.organization.clone(), key.to_owned());
    platform
        .store
        .run(move |connection| {
            rows::get(connection, &organization, &key)?.ok_or_else(|| not_found(&key))
        })
        .await
}

/// Applies the masked fields of `request` to the stored template. With an etag (the
/// `If-Match` header wins over the body's), a template changed meanwhile is refused and
/// nothing is written.
pub async fn update(
    platform: &Platform,
    caller: &Caller,
    key: &str,
    request: UpdateProfileTemplateRequest,
    update_mask: &str,
    if_match: Option<String>,
) -> Result<ProfileTemplate, ApiError> {
    caller.require(Role::Admin)?;
    let fields = parse_update_mask(update_mask).map_err(|v| ApiError::invalid(&[v]))?;
    let patch = request.profile_template;
    let expected_etag = if_match
        .filter(|e| !e.is_empty())
        .or_else(|| Some(patch.etag.clone()).filter(|e| !e.is_empty()));
    let (organization, key) = (caller.organization.clone(), key.to_owned());
    let actor = history::actor(caller);
    platform
        .store
        .run(move |connection| {
            store::in_transaction(connection, |tx| {
                let current = rows::get(tx, &organization, &key)?.ok_or_else(|| not_found(&key))?;
                if let Some(expected) = &expected_etag
                    && *expected != current.etag
                {
                    return Err(stale(&current.display_name));
                }
                let blocking = errors(&validate_template_update(&current, &patch, &fields));
                if !blocking.is_empty() {
                    return Err(ApiError::invalid(&blocking));
                }
                let mut updated = apply_update(&current, &patch, &fields);
                updated.updated_at = Some(store::now());
                updated.etag = store::new_etag();
                if !rows::update_if_unchanged(tx, &updated, &current.etag)? {
                    return Err(stale(&current.display_name));
                }
                let change = Change {
                    kind: ObjectKind::ProfileTemplate,
                    id: &updated.id,
                    name: &updated.display_name,
                    action: HistoryAction::Updated,
                    actor,
                    before: Some(history::snapshot(&current, &[])),
                    after: Some(history::snapshot(&updated, &[])),
                };
                history::record(tx, &organization, change)?;
                Ok(updated)
            })
        })
        .await
}

/// Deletes a template no runner binds; otherwise refuses, naming the runners.
pub async fn delete(platform: &Platform, caller: &Caller, key: &str) -> Result<(), ApiError> {
    caller.require(Role::Admin)?;
    let (organization, key) = (caller.organization.clone(), key.to_owned());
    let actor = history::actor(caller);
    platform
        .store
        .run(move |connection| {
            store::in_transaction(connection, |tx| {
            let template = rows::get(tx, &organization, &key)?
                .ok_or_else(|| not_found(&key))?;
            let runners = rows::binding_runners(tx, &template.id)?;
            if !runners.is_empty() {
                let metadata = BTreeMap::from([
                    ("runners".to_owned(), runners.join(",")),
                    ("profileTemplateId".to_owned(), template.id.clone()),
                ]);
                return Err(ApiError(
                    Status::new(
                        Code::FailedPrecondition,
                        format!(
                            "profile template {:?} is still bound by runner(s) {}; detach it from them first",
                            template.display_name,
                            runners.join(", ")
                        ),
                    )
                    .with_reason(Reason::ProfileInUse, metadata),
                ));
            }
            rows::delete(tx, &organization, &template.id)?;
            let change = Change {
                kind: ObjectKind::ProfileTemplate,
                id: &template.id,
                name: &template.display_name,
                action: HistoryAction::Deleted,
                actor,
                before: None,
                after: None,
            };
            history::record(tx, &organization, change)?;
            Ok(())
            })
        })
        .await
}

pub async fn list(
    platform: &Platform,
    caller: &Caller,
    requested_page_size: Option<i64>,
    page_token: &str,
) -> Result<ListProfileTemplatesResponse, ApiError> {
    caller.require(Role::User)?;
    let size = page_size(requested_page_size).map_err(|v| ApiError::invalid(&[v]))?;
    let after = Some(page_token::decode(page_token)?).filter(|a| !a.is_empty());
    let organization = caller.organization.clone();
    let mut page = platform
        .store
        .run(move |connection| {
            // One extra row tells whether another page follows.
            rows::list(connection, &organization, after.as_deref(), size + 1)
        })
        .await?;
    let next_page_token = if page.len() > size as usize {
        page.truncate(size as usize);
        page.last()
            .map(|last| page_token::encode(&last.display_name))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(ListProfileTemplatesResponse {
        profile_templates: page,
        next_page_token,
    })
}

fn not_found(key: &str) -> ApiError {
    ApiError(
        Status::new(
            Code::NotFound,
            format!("profile template {key:?} not found"),
        )
        .with_reason(
            Reason::ProfileNotFound,
            BTreeMap::from([("profileTemplate".to_owned(), key.to_owned())]),
        ),
    )
}

fn stale(name: &str) -> ApiError {
    ApiError(
        Status::new(
            Code::FailedPrecondition,
            format!("profile template {name:?} was changed by someone else: its etag is stale; reload and retry"),
        )
        .with_reason(Reason::StaleEtag, BTreeMap::new()),
    )
}
