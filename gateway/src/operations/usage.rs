//! Usage over time (`sandbox_api::usage`): a sandbox's, a runner's and the
//! organization's fleet's, as the fleet's sampler measured them
//! (`fleet::usage`). Each is read only within the caller's organization.

use sandbox_api::role::Role;
use sandbox_api::usage::UsageHistoryResponse;

use super::{Platform, runners, sandboxes};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::runners as runner_rows;

pub async fn sandbox(
    platform: &Platform,
    caller: &Caller,
    id: &str,
) -> Result<UsageHistoryResponse, ApiError> {
    let record = sandboxes::find(platform, caller, id).await?;
    Ok(platform.usage.response(platform.usage.sandbox(&record.id)))
}

/// Runner `key` (its ID or UUID): the sum over its sandboxes, and how many ran.
pub async fn runner(
    platform: &Platform,
    caller: &Caller,
    key: &str,
) -> Result<UsageHistoryResponse, ApiError> {
    caller.require(Role::User)?;
    let (organization, key) = (caller.organization.clone(), key.to_owned());
    let stored = platform
        .store
        .read(move |connection| {
            runner_rows::get(connection, &organization, &key)?
                .ok_or_else(|| runners::not_found(&key))
        })
        .await?;
    let points = platform
        .usage
        .runner(&caller.organization, stored.runner_id());
    Ok(platform.usage.response(points))
}

/// The organization's whole fleet: the sum over its sandboxes, and how many ran.
pub async fn fleet(platform: &Platform, caller: &Caller) -> Result<UsageHistoryResponse, ApiError> {
    caller.require(Role::User)?;
    Ok(platform
        .usage
        .response(platform.usage.fleet(&caller.organization)))
}
