//! Schema versions, applied in order and recorded in SQLite's `user_version`.
//! Append new migrations; never edit one that has shipped.

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

const MIGRATIONS: &[M<'static>] = &[M::up(
    "CREATE TABLE organizations (
        id          TEXT PRIMARY KEY,
        created_at  TEXT NOT NULL
    ) STRICT;
    CREATE TABLE tokens (
        sha256           TEXT PRIMARY KEY,
        organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        role             TEXT NOT NULL CHECK (role IN ('SANDBOX_ADMIN', 'SANDBOX_USER')),
        created_at       TEXT NOT NULL
    ) STRICT;
    CREATE TABLE profile_templates (
        id               TEXT PRIMARY KEY,
        organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        display_name     TEXT NOT NULL,
        description      TEXT NOT NULL,
        labels_json      TEXT NOT NULL,
        spec_json        TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        etag             TEXT NOT NULL,
        UNIQUE (organization_id, display_name)
    ) STRICT;
    CREATE TABLE demo_seeds (
        organization_id  TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
        seeded_at        TEXT NOT NULL
    ) STRICT;",
)];

pub fn apply(connection: &mut Connection) -> Result<(), rusqlite_migration::Error> {
    Migrations::from_slice(MIGRATIONS).to_latest(connection)
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        assert!(
            rusqlite_migration::Migrations::from_slice(super::MIGRATIONS)
                .validate()
                .is_ok()
        );
    }
}
