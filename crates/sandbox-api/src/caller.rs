//! Who the bearer token of a request is: `GET /v1beta2/sandbox/caller`, a local gateway
//! extension (not in the platform schema) that lets the console learn its role without
//! probing.

use serde::{Deserialize, Serialize};

use crate::role::Role;

/// Answer of `GET /v1beta2/sandbox/caller` (local decision: the platform has no "who
/// am I"; this gateway answers it for any signed-in role).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerResponse {
    /// The organization every object the caller sees belongs to.
    pub organization_id: String,
    /// `SANDBOX_ADMIN` or `SANDBOX_USER`.
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_role_travels_by_its_wire_name() {
        let answer = CallerResponse {
            organization_id: "acme".into(),
            role: Role::Admin,
        };
        let value = serde_json::to_value(&answer).unwrap();
        assert_eq!(
            value,
            json!({"organizationId": "acme", "role": "SANDBOX_ADMIN"})
        );
        assert_eq!(
            serde_json::from_value::<CallerResponse>(value).unwrap(),
            answer
        );
        let user: CallerResponse = serde_json::from_value(
            json!({"organizationId": "acme", "role": "SANDBOX_USER", "futureField": true}),
        )
        .unwrap();
        assert_eq!(user.role, Role::User);
    }
}
