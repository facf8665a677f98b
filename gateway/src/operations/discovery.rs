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
use crate::read_model::RunnerState;

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

/// One page of `items` in `key` order, starting after `after`.
fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    size: usize,
    after: &str,
) -> (Vec<T>, String) {
    let mut rest: Vec<(String, T)> = items
        .into_iter()
        .map(|item| (key(&item), item))
        .filter(|(k, _)| after.is_empty() || k.as_str() > after)
        .collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rest: Vec<T> = rest.into_iter().map(|(_, item)| item).collect();
    if rest.len() > size {
        rest.truncate(size);
        let token = rest
            .last()
            .map(|last| page_token::encode(&key(last)))
            .unwrap_or_default();
        (rest, token)
    } else {
        (rest, String::new())
    }
}

async fn states(platform: &Platform, caller: &Caller) -> Result<Vec<RunnerState>, ApiError> {
    caller.require(Role::User)?;
    let all = platform.runner_states(&caller.organization).await?;
    Ok(all.into_iter().filter(RunnerState::is_installed).collect())
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
    let runners: Vec<AvailableRunner> = states(platform, caller)
        .await?
        .iter()
        .filter_map(|state| {
            let runner = state.available_runner(true);
            let profiles = if needs_modes {
                state.profile_summaries()
            } else {
                Vec::new()
            };
            let shown = if full {
                runner.clone()
            } else {
                AvailableRunner {
                    resources: None,
                    ..runner.clone()
                }
            };
            filter.matches_runner(&runner, &profiles).then_some(shown)
        })
        .collect();
    let (runners, next_page_token) = page(runners, |r| r.runner_id.clone(), size, &after);
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
    states(platform, caller)
        .await?
        .iter()
        .find(|state| state.runner_id() == runner_id || state.stored().uuid() == runner_id)
        .map(|state| state.available_runner(true))
        .ok_or_else(|| runners::not_found(runner_id))
}

pub async fn list_profiles(
    platform: &Platform,
    caller: &Caller,
    query: Query,
) -> Result<ListProfilesResponse, ApiError> {
    let filter = filter(&query)?;
    let (size, after) = paging(&query)?;
    let exclude_shared = filter.exclude_shared;
    let profiles: Vec<ProfileSummary> = states(platform, caller)
        .await?
        .iter()
        .filter(|state| !exclude_shared || !state.available_runner(false).is_shared)
        .flat_map(RunnerState::profile_summaries)
        .filter(|profile| filter.matches_profile(profile))
        .collect();
    let (profiles, next_page_token) = page(
        profiles,
        |p| format!("{}\u{0}{}", p.runner_id, p.profile_name),
        size,
        &after,
    );
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
    states(platform, caller)
        .await?
        .iter()
        .flat_map(RunnerState::profile_summaries)
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
