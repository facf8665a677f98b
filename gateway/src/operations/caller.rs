//! `GET /v1beta2/sandbox/caller`: who the caller is (local decision, not in the platform
//! schema), so that the console learns its role without probing.

use sandbox_api::caller::CallerResponse;
use sandbox_api::role::Role;

use crate::auth::Caller;
use crate::error::ApiError;

/// The caller's organization and role. Any signed-in role may ask; a request without a
/// valid token never gets this far (UNAUTHENTICATED at the transport's authentication).
pub fn describe(caller: &Caller) -> Result<CallerResponse, ApiError> {
    caller.require(Role::User)?;
    Ok(CallerResponse {
        organization_id: caller.organization.clone(),
        role: caller.role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_learns_its_own_organization_and_role() {
        for role in [Role::Admin, Role::User] {
            let caller = Caller {
                organization: "acme".into(),
                role,
            };
            assert_eq!(
                describe(&caller).unwrap(),
                CallerResponse {
                    organization_id: "acme".into(),
                    role
                }
            );
        }
    }
}
