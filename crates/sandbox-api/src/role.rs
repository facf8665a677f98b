//! What a bearer token may do (SPEC §1).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Read profiles and runners, discover, launch and use sandboxes.
    #[serde(rename = "SANDBOX_USER")]
    User,
    /// Everything a user may do, plus create, change and delete profiles and runners.
    #[serde(rename = "SANDBOX_ADMIN")]
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "SANDBOX_USER",
            Role::Admin => "SANDBOX_ADMIN",
        }
    }

    /// Whether this role includes `needed` (admin implies user).
    pub fn includes(self, needed: Role) -> bool {
        matches!((self, needed), (Role::Admin, _) | (Role::User, Role::User))
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "SANDBOX_USER" => Ok(Role::User),
            "SANDBOX_ADMIN" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: expected SANDBOX_ADMIN or SANDBOX_USER"
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_implies_user_but_not_the_reverse() {
        assert!(Role::Admin.includes(Role::User));
        assert!(Role::Admin.includes(Role::Admin));
        assert!(Role::User.includes(Role::User));
        assert!(!Role::User.includes(Role::Admin));
    }

    #[test]
    fn parses_the_wire_names_only() {
        assert_eq!("SANDBOX_ADMIN".parse::<Role>(), Ok(Role::Admin));
        assert!("admin".parse::<Role>().is_err());
    }
}
