//! Discovery (SPEC §4): the runners a caller may place sandboxes on, and the profiles
//! they offer, narrowed by every filter of `sandbox_api::filters`.

use std::collections::BTreeMap;

use sandbox_api::discovery::{
    AvailableRunner, ListAvailableRunnersResponse, ListProfilesResponse, ProfileSummary, RunnerView,
};
use sandbox_api::error::{Code, Reason, Status};
use sandbox_api::filters::DiscoveryFilter;
use sandbox_api::page::page_size;
use sandbox_api::role::Role;
use sandbox_api::violation::Violation;

use super::{Platform, page_token, runners};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::read_model::View;

/// Query parameters, as given.
pub type Query = Vec<(String, String)>;

fn parameter<'a>(query: &'a Query, name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn filter(query: &Query) -> Result<DiscoveryFilter, ApiError> {
    DiscoveryFilter::from_query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|v| ApiError::invalid(&v))
}

fn paging(query: &Query) -> Result<(usize, String), ApiError> {
    let size = match parameter(query, "pageSize") {
        None | Some("") => page_size(None),
        Some(text) => page_size(Some(text.parse().map_err(|_| {
            ApiError::invalid(&[Violation::error(
                "pageSize",
                format!("must be a whole number, not {text:?}"),
            )])
        })?)),
    }
    .map_err(|v| ApiError::invalid(&[v]))?;
    let token = page_token::decode(parameter(query, "pageToken").unwrap_or_default())?;
    Ok((size as usize, token))
}

/// Up to `size` items of `ordered` (already in key order), and the token of the next
/// page if there are more. Stops reading `ordered` one past the page.
fn page<T>(
    ordered: impl Iterator<Item = T>,
    key: impl Fn(&T) -> String,
    size: usize,
) -> (Vec<T>, String) {
    let mut items: Vec<T> = ordered.take(size + 1).collect();
    if items.len() > size {
        items.truncate(size);
        let token = items
            .last()
            .map(|last| page_token::encode(&key(last)))
            .unwrap_or_default();
        (items, token)
    } else {
        (items, String::new())
    }
}

async fn view(platform: &Platform, caller: &Caller) -> Result<View, ApiError> {
    caller.require(Role::User)?;
    platform.discovery_view(&caller.organization).await
}

pub async fn list_runners(
    platform: &Platform,
    caller: &Caller,
    query: Query,
) -> Result<ListAvailableRunnersResponse, ApiError> {
    let filter = filter(&query)?;
    let (size, after) = paging(&query)?;
    let full =
        parameter(&query, "view").is_some_and(|v| RunnerView::from_name(v) == RunnerView::Full);
    // Resolving every binding's modes is the costly part: only for a mode filter.
    let needs_modes = !filter.ingress_mode.is_empty() || !filter.egress_mode.is_empty();
    let view = view(platform, caller).await?;
    // Runners come in runner ID order, so a page needs only as many as it shows.
    let matching = view.installed_after(&after).filter_map(|state| {
        let mut runner = state.available_runner(true);
        let profiles = if needs_modes {
            state.profile_summaries()
        } else {
            Vec::new()
        };
        if !filter.matches_runner(&runner, &profiles) {
            return None;
        }
        if !full {
            runner.resources = None;
        }
        Some(runner)
    });
    let (runners, next_page_token) = page(matching, |r| r.runner_id.clone(), size);
    Ok(ListAvailableRunnersResponse {
        runners,
        next_page_token,
    })
}

pub async fn get_runner(
    platform: &Platform,
    caller: &Caller,
    runner_id: &str,
) -> Result<AvailableRunner, ApiError> {
    view(platform, caller)
        .await?
        .find_installed(runner_id)
        .map(|state| state.available_runner(true))
        .ok_or_else(|| runners::not_found(runner_id))
}

/// The key profiles page by: runner ID, then profile name.
fn profile_key(profile: &ProfileSummary) -> String {
    format!("{}\u{0}{}", profile.runner_id, profile.profile_name)
}

pub async fn list_profiles(
    platform: &Platform,
    caller: &Caller,
    query: Query,
) -> Result<ListProfilesResponse, ApiError> {
    let filter = filter(&query)?;
    let (size, after) = paging(&query)?;
    let exclude_shared = filter.exclude_shared;
    let view = view(platform, caller).await?;
    // A page starts at the runner the token names (its profiles after the named one).
    let first_runner = after.split('\u{0}').next().unwrap_or_default();
    let matching = view
        .installed_from(first_runner)
        .filter(|state| !exclude_shared || !state.available_runner(false).is_shared)
        .flat_map(|state| {
            let mut profiles = state.profile_summaries();
            profiles.sort_by(|a, b| a.profile_name.cmp(&b.profile_name));
            profiles
        })
        .filter(|profile| after.is_empty() || profile_key(profile) > after)
        .filter(|profile| filter.matches_profile(profile));
    let (profiles, next_page_token) = page(matching, profile_key, size);
    Ok(ListProfilesResponse {
        profiles,
        next_page_token,
    })
}

pub async fn get_profile(
    platform: &Platform,
    caller: &Caller,
    profile_name: &str,
    query: Query,
) -> Result<ProfileSummary, ApiError> {
    let runner_id = parameter(&query, "runnerId").unwrap_or_default().to_owned();
    let view = view(platform, caller).await?;
    view.installed_after("")
        .flat_map(|state| state.profile_summaries())
        .find(|p| {
            p.profile_name == profile_name && (runner_id.is_empty() || p.runner_id == runner_id)
        })
        .ok_or_else(|| {
            ApiError(
                Status::new(
                    Code::NotFound,
                    format!("no runner offers profile {profile_name:?}"),
                )
                .with_reason(
                    Reason::ProfileNotFound,
                    BTreeMap::from([("profileName".to_owned(), profile_name.to_owned())]),
                ),
            )
        })
}
