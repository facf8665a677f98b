//! Bearer tokens: who is calling, in which organization, with which role.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sandbox_api::error::Code;
use sandbox_api::role::Role;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::http::AppState;
use crate::store::organizations;

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

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            unauthenticated("missing bearer token: send Authorization: Bearer <token>")
        })?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|secret| !secret.is_empty())
            .ok_or_else(|| unauthenticated("the Authorization header must be `Bearer <token>`"))?;
        let hash = TokenHash::of(secret);
        state
            .store
            .run(move |connection| {
                organizations::caller(connection, &hash)
                    .map_err(|e| ApiError::internal("looking up a token", e))
            })
            .await?
            .ok_or_else(|| unauthenticated("the token is not valid"))
    }
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(Code::Unauthenticated, message)
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
