//! Bearer tokens: who is calling, in which organization, with which role. How a request
//! presents one is the transport's business (`http::caller`).

use sandbox_api::error::Code;
use sandbox_api::role::Role;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The SHA-256 of a token: the only form in which tokens are stored.
pub struct TokenHash(String);

impl TokenHash {
    pub fn of(secret: &str) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(secret.as_bytes())))
    }

    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug, PartialEq)]
pub struct Caller {
    pub organization: String,
    pub role: Role,
}

impl Caller {
    /// Refuses with PERMISSION_DENIED unless the caller's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role.includes(needed) {
            Ok(())
        } else {
            Err(ApiError::new(
                Code::PermissionDenied,
                format!("this action needs the {needed} role"),
            ))
        }
    }
}

/// A new random secret for a generated token: 32 bytes from the OS, hex-encoded.
pub fn generate_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("reading OS randomness: {e}"))?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_is_sha256_hex() {
        assert_eq!(
            TokenHash::of("abc").as_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn user_may_not_do_admin_things() {
        let user = Caller {
            organization: "o".into(),
            role: Role::User,
        };
        assert_eq!(
            user.require(Role::Admin).unwrap_err().0.code,
            Code::PermissionDenied
        );
        assert!(user.require(Role::User).is_ok());
    }
}
