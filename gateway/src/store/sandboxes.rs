//! Rows of `sandboxes`: what was asked, where it was placed, what it reserved, and how
//! it is doing.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Result;
use sandbox_api::profile::ProfileSpec;
use sandbox_api::sandbox::{SandboxStatus, StartSandboxRequest};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Clone, Debug, PartialEq)]
pub struct SandboxRecord {
    pub id: String,
    pub organization: String,
    pub runner_uuid: String,
    pub runner_id: String,
    pub profile_template_id: String,
    pub profile_name: String,
    pub status: SandboxStatus,
    pub status_reason: String,
    pub exit_code: Option<i32>,
    pub request: StartSandboxRequest,
    pub effective: ProfileSpec,
    pub cpu_millicores: i64,
    pub memory_bytes: i64,
    pub gpus: i64,
    pub egress_mode: String,
    pub ingress_mode: String,
    /// The egress mode cannot be enforced by a local process; it runs on the host
    /// network (allowed only with `--allow-unenforced-egress`).
    pub unenforced_egress: bool,
    /// It ran as a plain host process, not in a container (`--isolation none`).
    pub unisolated: bool,
    pub created_at: OffsetDateTime,
    pub started_at: Option<OffsetDateTime>,
    pub ended_at: Option<OffsetDateTime>,
}

/// Statuses that hold a reservation: everything not terminal.
const ACTIVE: &str = "'SANDBOX_STATUS_PENDING','SANDBOX_STATUS_CREATING','SANDBOX_STATUS_RUNNING',\
                      'SANDBOX_STATUS_PAUSED','SANDBOX_STATUS_TERMINATING'";

const COLUMNS: &str = "id, organization_id, runner_uuid, runner_id, profile_template_id, profile_name, status, \
     status_reason, exit_code, request_json, effective_spec_json, cpu_millicores, memory_bytes, gpus, egress_mode, \
     ingress_mode, unenforced_egress, created_at, started_at, ended_at, unisolated";

pub fn insert(connection: &Connection, record: &SandboxRecord) -> Result<()> {
    connection.execute(
        &format!(
            "INSERT INTO sandboxes ({COLUMNS}, tags_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
        ),
        params![
            record.id,
            record.organization,
            record.runner_uuid,
            record.runner_id,
            record.profile_template_id,
            record.profile_name,
            record.status.as_str(),
            record.status_reason,
            record.exit_code,
            serde_json::to_string(&record.request)?,
            serde_json::to_string(&record.effective)?,
            record.cpu_millicores,
            record.memory_bytes,
            record.gpus,
            record.egress_mode,
            record.ingress_mode,
            record.unenforced_egress,
            record.created_at.format(&Rfc3339)?,
            record.started_at.map(|t| t.format(&Rfc3339)).transpose()?,
            record.ended_at.map(|t| t.format(&Rfc3339)).transpose()?,
            record.unisolated,
            serde_json::to_string(&record.request.tags)?,
        ],
    )?;
    Ok(())
}

/// Moves a sandbox to `status`; a terminal status records the end and releases the
/// reservation (reservations are whatever active sandboxes hold).
pub fn set_status(
    connection: &Connection,
    id: &str,
    status: SandboxStatus,
    reason: &str,
    exit_code: Option<i32>,
) -> Result<()> {
    let now = OffsetDateTime::now_utc().format(&Rfc3339)?;
    connection.execute(
        "UPDATE sandboxes SET status = ?1, status_reason = ?2, exit_code = COALESCE(?3, exit_code),
            started_at = CASE WHEN ?1 = 'SANDBOX_STATUS_RUNNING' AND started_at IS NULL THEN ?4 ELSE started_at END,
            ended_at = CASE WHEN ?5 THEN ?4 ELSE ended_at END
         WHERE id = ?6",
        params![status.as_str(), reason, exit_code, now, status.is_terminal(), id],
    )?;
    Ok(())
}

pub fn get(connection: &Connection, organization: &str, id: &str) -> Result<Option<SandboxRecord>> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM sandboxes WHERE organization_id = ?1 AND id = ?2"),
            params![organization, id],
            read_row,
        )
        .optional()?
        .transpose()
}

/// The sandbox `id`, of whichever organization.
pub fn by_id(connection: &Connection, id: &str) -> Result<Option<SandboxRecord>> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM sandboxes WHERE id = ?1"),
            params![id],
            read_row,
        )
        .optional()?
        .transpose()
}

/// The organization's sandboxes, newest first; terminal ones only when asked.
pub fn list(
    connection: &Connection,
    organization: &str,
    include_stopped: bool,
) -> Result<Vec<SandboxRecord>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM sandboxes
         WHERE organization_id = ?1 AND (?2 OR status IN ({ACTIVE}))
         ORDER BY created_at DESC, id"
    ))?;
    let rows = statement.query_map(params![organization, include_stopped], read_row)?;
    rows.map(|row| row?).collect()
}

pub fn delete(connection: &Connection, id: &str) -> Result<()> {
    connection.execute("DELETE FROM sandboxes WHERE id = ?1", params![id])?;
    Ok(())
}

/// What active sandboxes hold on each runner: (CPU millicores, memory bytes, GPUs,
/// count), by runner UUID.
pub type Reservations = HashMap<String, (i64, i64, i64, i32)>;

/// What active sandboxes hold on each runner now.
pub fn reservations(connection: &Connection) -> Result<Reservations> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT runner_uuid, SUM(cpu_millicores), SUM(memory_bytes), SUM(gpus), COUNT(*)
         FROM sandboxes WHERE status IN ({ACTIVE}) GROUP BY runner_uuid"
    ))?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get(0)?,
            (row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many sandboxes of an organization are active (starting, running or stopping).
pub fn count_active(connection: &Connection, organization: &str) -> Result<u32> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT COUNT(*) FROM sandboxes WHERE organization_id = ?1 AND status IN ({ACTIVE})"
    ))?;
    Ok(statement.query_row(params![organization], |row| row.get(0))?)
}

/// The IDs of the sandboxes still active on a runner.
pub fn active_on_runner(connection: &Connection, runner_uuid: &str) -> Result<Vec<String>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT id FROM sandboxes WHERE runner_uuid = ?1 AND status IN ({ACTIVE})"
    ))?;
    let rows = statement.query_map(params![runner_uuid], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every active sandbox's ID with its runner's UUID.
pub fn unfinished(connection: &Connection) -> Result<Vec<(String, String)>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT id, runner_uuid FROM sandboxes WHERE status IN ({ACTIVE})"
    ))?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An active sandbox, as usage sampling needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveSandbox {
    pub id: String,
    pub organization: String,
    pub runner_uuid: String,
    pub runner_id: String,
}

/// Every active sandbox, with whose it is and where it runs.
pub fn active(connection: &Connection) -> Result<Vec<ActiveSandbox>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT id, organization_id, runner_uuid, runner_id FROM sandboxes WHERE status IN ({ACTIVE})"
    ))?;
    let rows = statement.query_map([], |row| {
        Ok(ActiveSandbox {
            id: row.get(0)?,
            organization: row.get(1)?,
            runner_uuid: row.get(2)?,
            runner_id: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<SandboxRecord>> {
    let status: String = row.get(6)?;
    let request_json: String = row.get(9)?;
    let effective_json: String = row.get(10)?;
    let created_at: String = row.get(17)?;
    let started_at: Option<String> = row.get(18)?;
    let ended_at: Option<String> = row.get(19)?;
    let unisolated: bool = row.get(20)?;
    let fields = (
        row.get::<_, String>(0)?,
        row.get::<_, String>(1)?,
        row.get::<_, String>(2)?,
        row.get::<_, String>(3)?,
        row.get::<_, String>(4)?,
        row.get::<_, String>(5)?,
        row.get::<_, String>(7)?,
        row.get::<_, Option<i32>>(8)?,
        (
            row.get::<_, i64>(11)?,
            row.get::<_, i64>(12)?,
            row.get::<_, i64>(13)?,
        ),
        (
            row.get::<_, String>(14)?,
            row.get::<_, String>(15)?,
            row.get::<_, bool>(16)?,
        ),
    );
    Ok((|| {
        let (
            id,
            organization,
            runner_uuid,
            runner_id,
            profile_template_id,
            profile_name,
            status_reason,
            exit_code,
            reserved,
            modes,
        ) = fields;
        let parse = |t: &str| OffsetDateTime::parse(t, &Rfc3339);
        Ok(SandboxRecord {
            id,
            organization,
            runner_uuid,
            runner_id,
            profile_template_id,
            profile_name,
            status: SandboxStatus::from_name(&status),
            status_reason,
            exit_code,
            request: serde_json::from_str(&request_json)?,
            effective: serde_json::from_str(&effective_json)?,
            cpu_millicores: reserved.0,
            memory_bytes: reserved.1,
            gpus: reserved.2,
            egress_mode: modes.0,
            ingress_mode: modes.1,
            unenforced_egress: modes.2,
            unisolated,
            created_at: parse(&created_at)?,
            started_at: started_at.as_deref().map(parse).transpose()?,
            ended_at: ended_at.as_deref().map(parse).transpose()?,
        })
    })())
}
