//! Organizations and the (hashed) bearer tokens that act in them.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use sandbox_api::role::Role;
use time::format_description::well_known::Rfc3339;

use crate::auth::{Caller, TokenHash};

fn timestamp() -> String {
    // Formatting the current UTC time as RFC 3339 cannot fail: every field is in range.
    super::now().format(&Rfc3339).unwrap_or_default()
}

/// Creates the organization unless it exists.
pub fn ensure(connection: &Connection, organization: &str) -> Result<()> {
    connection.execute(
        "INSERT INTO organizations (id, created_at) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
        params![organization, timestamp()],
    )?;
    Ok(())
}

/// Accepts exactly `grants` from now on: tokens not among them stop working. One
/// transaction, so a failed start leaves the previous set.
pub fn replace_tokens(
    connection: &mut Connection,
    grants: &[(String, Role, TokenHash)],
) -> Result<()> {
    let tx = connection.transaction()?;
    tx.execute("DELETE FROM tokens", [])?;
    for (organization, role, token) in grants {
        ensure(&tx, organization)?;
        tx.execute(
            "INSERT INTO tokens (sha256, organization_id, role, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (sha256) DO UPDATE SET organization_id = ?2, role = ?3",
            params![token.as_hex(), organization, role.as_str(), timestamp()],
        )?;
    }
    Ok(tx.commit()?)
}

/// Who presents `token`, if anyone.
pub fn caller(connection: &Connection, token: &TokenHash) -> Result<Option<Caller>> {
    let found = connection
        .query_row(
            "SELECT organization_id, role FROM tokens WHERE sha256 = ?1",
            params![token.as_hex()],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?;
    Ok(found.and_then(|(organization, role)| {
        // The CHECK constraint admits only the two wire names.
        role.parse().ok().map(|role| Caller { organization, role })
    }))
}
