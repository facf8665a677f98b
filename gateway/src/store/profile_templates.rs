//! Rows of `profile_templates`, in and out of their wire type.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Result, StoreError};
use sandbox_api::profile::ProfileTemplate;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Why an insert did not happen.
#[derive(Debug)]
pub enum InsertError {
    DuplicateName,
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

const COLUMNS: &str = "id, organization_id, display_name, description, labels_json, spec_json, \
                       created_at, updated_at, etag";

/// Stores a complete template (id, organization, timestamps and etag already set).
pub fn insert(connection: &Connection, template: &ProfileTemplate) -> Result<(), InsertError> {
    let result = connection.execute(
        &format!(
            "INSERT INTO profile_templates ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        params![
            template.id,
            template.organization_id,
            template.display_name,
            template.description,
            serde_json::to_string(&template.labels)?,
            serde_json::to_string(&template.spec.clone().unwrap_or_default())?,
            format_time(template.created_at)?,
            format_time(template.updated_at)?,
            template.etag,
        ],
    );
    match result {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            Err(InsertError::DuplicateName)
        }
        Err(e) => Err(e.into()),
    }
}

/// Replaces the mutable columns of a stored template whose etag is still
/// `expected_etag`; false when it changed meanwhile (or is gone).
pub fn update_if_unchanged(
    connection: &Connection,
    template: &ProfileTemplate,
    expected_etag: &str,
) -> Result<bool> {
    let changed = connection.execute(
        "UPDATE profile_templates
         SET description = ?1, labels_json = ?2, spec_json = ?3, updated_at = ?4, etag = ?5
         WHERE id = ?6 AND organization_id = ?7 AND etag = ?8",
        params![
            template.description,
            serde_json::to_string(&template.labels)?,
            serde_json::to_string(&template.spec.clone().unwrap_or_default())?,
            format_time(template.updated_at)?,
            template.etag,
            template.id,
            template.organization_id,
            expected_etag,
        ],
    )?;
    Ok(changed == 1)
}

/// The template of `organization` whose UUID or display name is `key`.
pub fn get(
    connection: &Connection,
    organization: &str,
    key: &str,
) -> Result<Option<ProfileTemplate>> {
    connection
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM profile_templates
                 WHERE organization_id = ?1 AND (id = ?2 OR display_name = ?2)"
            ),
            params![organization, key],
            read_row,
        )
        .optional()?
        .transpose()
}

/// Every template of `organization` by UUID, for resolving bindings.
pub fn all(connection: &Connection, organization: &str) -> Result<Vec<ProfileTemplate>> {
    list(connection, organization, None, u32::MAX)
}

/// Up to `limit` templates of `organization` ordered by display name, starting after
/// `after` (exclusive).
pub fn list(
    connection: &Connection,
    organization: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<ProfileTemplate>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM profile_templates
         WHERE organization_id = ?1 AND display_name > ?2
         ORDER BY display_name
         LIMIT ?3"
    ))?;
    let rows = statement.query_map(params![organization, after.unwrap_or(""), limit], read_row)?;
    rows.map(|row| row?).collect()
}

/// The runner IDs whose bindings name template `id`.
pub fn binding_runners(connection: &Connection, id: &str) -> Result<Vec<String>> {
    let mut statement = connection.prepare_cached(
        "SELECT r.runner_id FROM runner_bindings b JOIN runners r ON r.id = b.runner_uuid
         WHERE b.profile_template_id = ?1 ORDER BY r.runner_id",
    )?;
    let rows = statement.query_map(params![id], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn delete(connection: &Connection, organization: &str, id: &str) -> Result<bool> {
    let deleted = connection.execute(
        "DELETE FROM profile_templates WHERE organization_id = ?1 AND id = ?2",
        params![organization, id],
    )?;
    Ok(deleted == 1)
}

/// Reads a row, keeping JSON and time parse failures apart from SQLite's own errors.
fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<ProfileTemplate>> {
    let labels_json: String = row.get(4)?;
    let spec_json: String = row.get(5)?;
    let created_at: String = row.get(6)?;
    let updated_at: String = row.get(7)?;
    let mut template = ProfileTemplate {
        id: row.get(0)?,
        organization_id: row.get(1)?,
        display_name: row.get(2)?,
        description: row.get(3)?,
        etag: row.get(8)?,
        ..ProfileTemplate::default()
    };
    Ok((|| {
        template.labels = serde_json::from_str(&labels_json)?;
        template.spec = Some(serde_json::from_str(&spec_json)?);
        template.created_at = Some(OffsetDateTime::parse(&created_at, &Rfc3339)?);
        template.updated_at = Some(OffsetDateTime::parse(&updated_at, &Rfc3339)?);
        Ok(template)
    })())
}

pub fn format_time(at: Option<OffsetDateTime>) -> Result<String, time::error::Format> {
    at.unwrap_or(OffsetDateTime::UNIX_EPOCH).format(&Rfc3339)
}
