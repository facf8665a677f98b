//! Rows of `runners` and `runner_bindings`.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Result, StoreError};
use sandbox_api::runner::{
    ClusterRef, InstallError, ManagedSpec, ProfileBinding, Runner, RunnerIdentity,
    RunnerInstallStatus,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::profile_templates::format_time;
use crate::capacity::Capacity;

/// A runner as stored: its wire form (without the computed connection status), its
/// owner and what its agent reported.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRunner {
    pub organization: String,
    pub runner: Runner,
    pub capacity: Option<Capacity>,
}

impl StoredRunner {
    pub fn uuid(&self) -> &str {
        &self.runner.id
    }

    pub fn runner_id(&self) -> &str {
        self.runner
            .identity
            .as_ref()
            .map_or("", |i| i.runner_id.as_str())
    }
}

/// Why an insert did not happen.
#[derive(Debug)]
pub enum InsertError {
    DuplicateRunnerId,
    DuplicateCluster,
    Database(StoreError),
}

impl From<StoreError> for InsertError {
    fn from(e: StoreError) -> InsertError {
        InsertError::Database(e)
    }
}

impl<E: Into<anyhow::Error>> From<E> for InsertError {
    fn from(e: E) -> InsertError {
        InsertError::Database(StoreError::from(e))
    }
}

/// The key that makes a cluster unique in an organization.
pub fn cluster_key(identity: &RunnerIdentity) -> String {
    match identity.cluster() {
        ClusterRef::Id(id) => format!("id:{id}"),
        ClusterRef::Name(name) => format!("name:{name}"),
    }
}

const COLUMNS: &str = "id, organization_id, display_name, identity_json, managed_spec_json, install_status, \
     install_error_json, active_revision, target_revision, update_available, capacity_json, created_at, \
     updated_at, last_heartbeat_at, etag";

pub fn insert(connection: &Connection, stored: &StoredRunner) -> Result<(), InsertError> {
    let runner = &stored.runner;
    let identity = runner.identity.clone().unwrap_or_default();
    let result = connection.execute(
        "INSERT INTO runners (id, organization_id, runner_id, cluster_key, display_name, identity_json,
            managed_spec_json, install_status, install_error_json, active_revision, target_revision,
            update_available, capacity_json, created_at, updated_at, last_heartbeat_at, etag)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        params![
            runner.id,
            stored.organization,
            identity.runner_id,
            cluster_key(&identity),
            runner.display_name,
            serde_json::to_string(&identity)?,
            serde_json::to_string(&runner.managed_spec.clone().unwrap_or_default())?,
            runner.install_status.as_str(),
            runner.install_error.as_ref().map(serde_json::to_string).transpose()?,
            runner.active_revision,
            runner.target_revision,
            runner.update_available,
            stored.capacity.as_ref().map(serde_json::to_string).transpose()?,
            format_time(runner.created_at)?,
            format_time(runner.updated_at)?,
            runner.last_heartbeat_at.map(|t| t.format(&Rfc3339)).transpose()?,
            runner.etag,
        ],
    );
    match result {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, Some(message)))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            return Err(if message.contains("cluster_key") {
                InsertError::DuplicateCluster
            } else {
                InsertError::DuplicateRunnerId
            });
        }
        Err(e) => return Err(e.into()),
    }
    replace_bindings(connection, &runner.id, &runner.profile_bindings)?;
    Ok(())
}

/// Writes the whole row of an existing runner if its etag is still `expected_etag`;
/// false when it changed meanwhile. Bindings are written too.
pub fn update_if_unchanged(
    connection: &Connection,
    stored: &StoredRunner,
    expected_etag: &str,
) -> Result<bool> {
    let runner = &stored.runner;
    let identity = runner.identity.clone().unwrap_or_default();
    let changed = connection.execute(
        "UPDATE runners SET display_name = ?1, identity_json = ?2, managed_spec_json = ?3, install_status = ?4,
            install_error_json = ?5, active_revision = ?6, target_revision = ?7, update_available = ?8,
            capacity_json = ?9, updated_at = ?10, last_heartbeat_at = ?11, etag = ?12
         WHERE id = ?13 AND etag = ?14",
        params![
            runner.display_name,
            serde_json::to_string(&identity)?,
            serde_json::to_string(&runner.managed_spec.clone().unwrap_or_default())?,
            runner.install_status.as_str(),
            runner.install_error.as_ref().map(serde_json::to_string).transpose()?,
            runner.active_revision,
            runner.target_revision,
            runner.update_available,
            stored.capacity.as_ref().map(serde_json::to_string).transpose()?,
            format_time(runner.updated_at)?,
            runner.last_heartbeat_at.map(|t| t.format(&Rfc3339)).transpose()?,
            runner.etag,
            runner.id,
            expected_etag,
        ],
    )?;
    if changed == 1 {
        replace_bindings(connection, &runner.id, &runner.profile_bindings)?;
    }
    Ok(changed == 1)
}

fn replace_bindings(
    connection: &Connection,
    runner_uuid: &str,
    bindings: &[ProfileBinding],
) -> Result<()> {
    connection.execute(
        "DELETE FROM runner_bindings WHERE runner_uuid = ?1",
        params![runner_uuid],
    )?;
    let mut statement = connection.prepare_cached(
        "INSERT INTO runner_bindings (runner_uuid, profile_template_id, position, profile_name, is_default, overrides_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (position, binding) in bindings.iter().enumerate() {
        statement.execute(params![
            runner_uuid,
            binding.profile_template_id,
            position as i64,
            binding.profile_name,
            binding.is_default,
            binding.overrides_json,
        ])?;
    }
    Ok(())
}

/// A runner's last heartbeat and reported capacity, by runner UUID.
pub type LiveStates = std::collections::HashMap<String, (Option<OffsetDateTime>, Option<Capacity>)>;

/// What changes with every heartbeat, for every runner: when it last beat and the
/// capacity it reported, by runner UUID (what the gateway last persisted of it).
pub fn live_state(connection: &Connection) -> Result<LiveStates> {
    let mut statement =
        connection.prepare_cached("SELECT id, last_heartbeat_at, capacity_json FROM runners")?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, Option<String>>(1)?,
            row.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut live = std::collections::HashMap::new();
    for row in rows {
        let (uuid, heartbeat, capacity) = row?;
        let heartbeat = heartbeat
            .map(|t| OffsetDateTime::parse(&t, &Rfc3339))
            .transpose()?;
        let capacity = capacity.map(|c| serde_json::from_str(&c)).transpose()?;
        live.insert(uuid, (heartbeat, capacity));
    }
    Ok(live)
}

/// Agent bookkeeping that does not count as a change by an administrator (no new etag):
/// the heartbeats kept in memory since the last call, in one transaction. A runner
/// deleted meanwhile is skipped.
pub fn record_heartbeats(
    connection: &mut Connection,
    beats: &[(String, OffsetDateTime, Option<Capacity>)],
) -> Result<()> {
    let tx = connection.transaction()?;
    {
        let mut statement = tx.prepare_cached(
            "UPDATE runners SET last_heartbeat_at = ?1, capacity_json = coalesce(?2, capacity_json)
             WHERE id = ?3",
        )?;
        for (uuid, at, capacity) in beats {
            let capacity = capacity.as_ref().map(serde_json::to_string).transpose()?;
            statement.execute(params![at.format(&Rfc3339)?, capacity, uuid])?;
        }
    }
    Ok(tx.commit()?)
}

/// Records the capacity a runner's agent will report, declared by configuration.
pub fn declare_capacity(connection: &Connection, uuid: &str, capacity: &Capacity) -> Result<()> {
    connection.execute(
        "UPDATE runners SET capacity_json = ?1 WHERE id = ?2",
        params![serde_json::to_string(capacity)?, uuid],
    )?;
    Ok(())
}

/// Moves the install state on (the platform's installer is the writer, so the etag
/// changes: an administrator editing meanwhile must reload).
pub fn set_install_state(
    connection: &Connection,
    uuid: &str,
    status: RunnerInstallStatus,
    error: Option<&InstallError>,
    active_revision: Option<i64>,
    etag: &str,
) -> Result<()> {
    connection.execute(
        "UPDATE runners SET install_status = ?1, install_error_json = ?2,
            active_revision = COALESCE(?3, active_revision), etag = ?4, updated_at = ?5
         WHERE id = ?6",
        params![
            status.as_str(),
            error.map(serde_json::to_string).transpose()?,
            active_revision,
            etag,
            OffsetDateTime::now_utc().format(&Rfc3339)?,
            uuid
        ],
    )?;
    Ok(())
}

/// Moves the install state from `from` to `to`, only if it is still `from`: the installer
/// and an agent's first heartbeat may race, and the heartbeat must win. True if moved.
pub fn advance_install_state(
    connection: &Connection,
    uuid: &str,
    from: RunnerInstallStatus,
    to: RunnerInstallStatus,
    etag: &str,
) -> Result<bool> {
    let changed = connection.execute(
        "UPDATE runners SET install_status = ?1, etag = ?2, updated_at = ?3
         WHERE id = ?4 AND install_status = ?5",
        params![
            to.as_str(),
            etag,
            OffsetDateTime::now_utc().format(&Rfc3339)?,
            uuid,
            from.as_str()
        ],
    )?;
    Ok(changed == 1)
}

pub fn delete(connection: &Connection, uuid: &str) -> Result<()> {
    connection.execute("DELETE FROM runners WHERE id = ?1", params![uuid])?;
    Ok(())
}

/// The runner of `organization` whose runner ID or UUID is `key`.
pub fn get(connection: &Connection, organization: &str, key: &str) -> Result<Option<StoredRunner>> {
    let found = connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM runners WHERE organization_id = ?1 AND (runner_id = ?2 OR id = ?2)"),
            params![organization, key],
            read_row,
        )
        .optional()?
        .transpose()?;
    found
        .map(|stored| with_bindings(connection, stored))
        .transpose()
}

pub fn get_by_uuid(connection: &Connection, uuid: &str) -> Result<Option<StoredRunner>> {
    let found = connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM runners WHERE id = ?1"),
            params![uuid],
            read_row,
        )
        .optional()?
        .transpose()?;
    found
        .map(|stored| with_bindings(connection, stored))
        .transpose()
}

/// Runners of `organization` (every organization when `None`) ordered by runner ID,
/// after `after`, at most `limit`, with their bindings (read in one query, not one per
/// runner: discovery lists thousands).
pub fn list(
    connection: &Connection,
    organization: Option<&str>,
    after: &str,
    limit: u32,
) -> Result<Vec<StoredRunner>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM runners
         WHERE (?1 IS NULL OR organization_id = ?1) AND runner_id > ?2
         ORDER BY runner_id LIMIT ?3"
    ))?;
    let rows = statement.query_map(params![organization, after, limit], read_row)?;
    let mut runners: Vec<StoredRunner> = rows.map(|row| row?).collect::<Result<_>>()?;
    let mut bindings = connection.prepare_cached(
        "SELECT b.runner_uuid, b.profile_template_id, b.profile_name, b.is_default, b.overrides_json
         FROM runner_bindings b JOIN runners r ON r.id = b.runner_uuid
         WHERE (?1 IS NULL OR r.organization_id = ?1) AND r.runner_id > ?2
         ORDER BY b.runner_uuid, b.position",
    )?;
    let mut by_runner: std::collections::HashMap<String, Vec<ProfileBinding>> =
        std::collections::HashMap::new();
    let rows = bindings.query_map(params![organization, after], |row| {
        Ok((
            row.get::<_, String>(0)?,
            ProfileBinding {
                profile_template_id: row.get(1)?,
                profile_name: row.get(2)?,
                is_default: row.get(3)?,
                overrides_json: row.get(4)?,
            },
        ))
    })?;
    for row in rows {
        let (uuid, binding) = row?;
        by_runner.entry(uuid).or_default().push(binding);
    }
    for stored in &mut runners {
        stored.runner.profile_bindings = by_runner.remove(&stored.runner.id).unwrap_or_default();
    }
    Ok(runners)
}

fn with_bindings(connection: &Connection, mut stored: StoredRunner) -> Result<StoredRunner> {
    let mut statement = connection.prepare_cached(
        "SELECT profile_template_id, profile_name, is_default, overrides_json FROM runner_bindings
         WHERE runner_uuid = ?1 ORDER BY position",
    )?;
    let rows = statement.query_map(params![stored.runner.id], |row| {
        Ok(ProfileBinding {
            profile_template_id: row.get(0)?,
            profile_name: row.get(1)?,
            is_default: row.get(2)?,
            overrides_json: row.get(3)?,
        })
    })?;
    stored.runner.profile_bindings = rows.collect::<rusqlite::Result<_>>()?;
    Ok(stored)
}

fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<StoredRunner>> {
    let identity_json: String = row.get(3)?;
    let managed_spec_json: String = row.get(4)?;
    let install_status: String = row.get(5)?;
    let install_error_json: Option<String> = row.get(6)?;
    let capacity_json: Option<String> = row.get(10)?;
    let created_at: String = row.get(11)?;
    let updated_at: String = row.get(12)?;
    let last_heartbeat_at: Option<String> = row.get(13)?;
    let mut runner = Runner {
        id: row.get(0)?,
        display_name: row.get(2)?,
        install_status: RunnerInstallStatus::from_name(&install_status),
        active_revision: row.get(7)?,
        target_revision: row.get(8)?,
        update_available: row.get(9)?,
        etag: row.get(14)?,
        ..Runner::default()
    };
    let organization: String = row.get(1)?;
    Ok((|| {
        runner.identity = Some(serde_json::from_str::<RunnerIdentity>(&identity_json)?);
        runner.managed_spec = Some(serde_json::from_str::<ManagedSpec>(&managed_spec_json)?);
        runner.install_error = install_error_json
            .map(|j| serde_json::from_str(&j))
            .transpose()?;
        runner.created_at = Some(OffsetDateTime::parse(&created_at, &Rfc3339)?);
        runner.updated_at = Some(OffsetDateTime::parse(&updated_at, &Rfc3339)?);
        runner.last_heartbeat_at = last_heartbeat_at
            .map(|t| OffsetDateTime::parse(&t, &Rfc3339))
            .transpose()?;
        runner.rollout_in_progress = runner.target_revision > runner.active_revision;
        Ok(StoredRunner {
            organization,
            runner,
            capacity: capacity_json
                .map(|j| serde_json::from_str(&j))
                .transpose()?,
        })
    })())
}
