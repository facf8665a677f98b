//! Which organizations `--demo` has seeded, so that a restart leaves their data alone.

use rusqlite::{Connection, params};

use super::Result;

/// Records that `organization` is seeded now; false if it already was.
pub fn record(connection: &Connection, organization: &str) -> Result<bool> {
    let inserted = connection.execute(
        "INSERT INTO demo_seeds (organization_id, seeded_at)
         VALUES (?1, datetime('now')) ON CONFLICT DO NOTHING",
        params![organization],
    )?;
    Ok(inserted == 1)
}
