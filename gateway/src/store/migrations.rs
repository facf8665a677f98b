//! Schema versions, applied in order and recorded in SQLite's `user_version`.
//! Append new migrations; never edit one that has shipped.

use rusqlite::Connection;

use super::Result;
use rusqlite_migration::{M, Migrations};

const MIGRATIONS: &[M<'static>] = &[
    M::up(
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
    ),
    M::up(
        "CREATE TABLE runners (
        id                 TEXT PRIMARY KEY,
        organization_id    TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        runner_id          TEXT NOT NULL,
        cluster_key        TEXT NOT NULL,
        display_name       TEXT NOT NULL,
        identity_json      TEXT NOT NULL,
        managed_spec_json  TEXT NOT NULL,
        install_status     TEXT NOT NULL,
        install_error_json TEXT,
        active_revision    INTEGER NOT NULL,
        target_revision    INTEGER NOT NULL,
        update_available   INTEGER NOT NULL,
        capacity_json      TEXT,
        created_at         TEXT NOT NULL,
        updated_at         TEXT NOT NULL,
        last_heartbeat_at  TEXT,
        etag               TEXT NOT NULL,
        UNIQUE (organization_id, runner_id),
        UNIQUE (organization_id, cluster_key)
    ) STRICT;
    CREATE TABLE runner_bindings (
        runner_uuid          TEXT NOT NULL REFERENCES runners(id) ON DELETE CASCADE,
        profile_template_id  TEXT NOT NULL REFERENCES profile_templates(id),
        position             INTEGER NOT NULL,
        profile_name         TEXT NOT NULL,
        is_default           INTEGER NOT NULL,
        overrides_json       TEXT NOT NULL,
        PRIMARY KEY (runner_uuid, profile_template_id)
    ) STRICT;
    CREATE INDEX runner_bindings_by_template ON runner_bindings (profile_template_id);
    CREATE TABLE sandboxes (
        id                   TEXT PRIMARY KEY,
        organization_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        runner_uuid          TEXT NOT NULL,
        runner_id            TEXT NOT NULL,
        profile_template_id  TEXT NOT NULL,
        profile_name         TEXT NOT NULL,
        status               TEXT NOT NULL,
        status_reason        TEXT NOT NULL,
        exit_code            INTEGER,
        request_json         TEXT NOT NULL,
        effective_spec_json  TEXT NOT NULL,
        cpu_millicores       INTEGER NOT NULL,
        memory_bytes         INTEGER NOT NULL,
        gpus                 INTEGER NOT NULL,
        egress_mode          TEXT NOT NULL,
        ingress_mode         TEXT NOT NULL,
        unenforced_egress    INTEGER NOT NULL,
        tags_json            TEXT NOT NULL,
        created_at           TEXT NOT NULL,
        started_at           TEXT,
        ended_at             TEXT
    ) STRICT;
    CREATE INDEX sandboxes_by_org_status ON sandboxes (organization_id, status);
    CREATE INDEX sandboxes_by_runner ON sandboxes (runner_uuid, status);",
    ),
    // A counter every write that changes the runner read model bumps (runners but for
    // heartbeats and reported capacity, their bindings, profile templates), so the
    // cached read model knows when it is stale without every write path remembering.
    M::up(
        "CREATE TABLE read_model_generation (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        value  INTEGER NOT NULL
    ) STRICT;
    INSERT INTO read_model_generation (id, value) VALUES (1, 0);
    CREATE TRIGGER templates_inserted AFTER INSERT ON profile_templates
        BEGIN UPDATE read_model_generation SET value = value + 1; END;
    CREATE TRIGGER templates_updated AFTER UPDATE ON profile_templates
        BEGIN UPDATE read_model_generation SET value = value + 1; END;
    CREATE TRIGGER templates_deleted AFTER DELETE ON profile_templates
        BEGIN UPDATE read_model_generation SET value = value + 1; END;
    CREATE TRIGGER bindings_inserted AFTER INSERT ON runner_bindings
        BEGIN UPDATE read_model_generation SET value = value + 1; END;
    CREATE TRIGGER bindings_updated AFTER UPDATE ON runner_bindings
        BEGIN UPDATE read_model_generation SET value = value + 1; END;
    CREATE TRIGGER bindings_deleted AFTER DELETE ON runner_bindings
        BEGIN UPDATE read_model_generation SET value = value + 1; END;
    CREATE TRIGGER runners_inserted AFTER INSERT ON runners
        BEGIN UPDATE read_model_generation SET value = value + 1; END;
    CREATE TRIGGER runners_deleted AFTER DELETE ON runners
        BEGIN UPDATE read_model_generation SET value = value + 1; END;
    CREATE TRIGGER runners_updated AFTER UPDATE OF runner_id, cluster_key, display_name,
        identity_json, managed_spec_json, install_status, install_error_json, active_revision,
        target_revision, update_available, created_at, updated_at, etag ON runners
        BEGIN UPDATE read_model_generation SET value = value + 1; END;",
    ),
    // A sandbox that ran as a plain host process (`--isolation none`).
    M::up("ALTER TABLE sandboxes ADD COLUMN unisolated INTEGER NOT NULL DEFAULT 0;"),
    // A counter every change to the set of active sandboxes bumps (a sandbox inserted,
    // deleted, or changing status), so that what they reserve on each runner can be
    // cached in memory and known stale without reading SQLite.
    M::up(
        "CREATE TABLE sandbox_generation (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        value  INTEGER NOT NULL
    ) STRICT;
    INSERT INTO sandbox_generation (id, value) VALUES (1, 0);
    CREATE TRIGGER sandboxes_inserted AFTER INSERT ON sandboxes
        BEGIN UPDATE sandbox_generation SET value = value + 1; END;
    CREATE TRIGGER sandboxes_deleted AFTER DELETE ON sandboxes
        BEGIN UPDATE sandbox_generation SET value = value + 1; END;
    CREATE TRIGGER sandboxes_status_changed AFTER UPDATE OF status ON sandboxes
        BEGIN UPDATE sandbox_generation SET value = value + 1; END;",
    ),
    // Each object's history (`sandbox_api::history`): one row per change, written in
    // the change's own transaction; `seq` orders them and pages through them.
    M::up(
        "CREATE TABLE history (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        object_kind      TEXT NOT NULL,
        object_id        TEXT NOT NULL,
        object_name      TEXT NOT NULL,
        action           TEXT NOT NULL,
        actor_json       TEXT NOT NULL,
        at               TEXT NOT NULL,
        changes_json     TEXT NOT NULL
    ) STRICT;
    CREATE INDEX history_by_object ON history (organization_id, object_id, seq);
    CREATE INDEX history_by_organization ON history (organization_id, seq);
    CREATE INDEX history_by_time ON history (at);",
    ),
];

/// The current read-model generation (see the migration that creates it).
pub fn read_model_generation(connection: &Connection) -> Result<i64> {
    Ok(
        connection.query_row("SELECT value FROM read_model_generation", [], |row| {
            row.get(0)
        })?,
    )
}

/// Both generations: the read model's and the active sandboxes'.
pub fn generations(connection: &Connection) -> Result<(i64, i64)> {
    Ok(connection.query_row(
        "SELECT (SELECT value FROM read_model_generation), (SELECT value FROM sandbox_generation)",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?)
}

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
