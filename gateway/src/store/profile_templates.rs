//! Rows of `profile_templates`, in and out of their wire type.

use rusqlite::{Connection, Row, params};
use sandbox_api::profile::ProfileTemplate;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Why an insert did not happen.
#[derive(Debug)]
pub enum InsertError {
    DuplicateName,
    Database(anyhow::Error),
}

impl From<rusqlite::Error> for InsertError {
    fn from(e: rusqlite::Error) -> InsertError {
        InsertError::Database(e.into())
    }
}

impl From<serde_json::Error> for InsertError {
    fn from(e: serde_json::Error) -> InsertError {
        InsertError::Database(e.into())
    }
}

impl From<time::error::Format> for InsertError {
    fn from(e: time::error::Format) -> InsertError {
        InsertError::Database(e.into())
    }
}

/// Stores a complete template (id, organization, timestamps and etag already set).
pub fn insert(connection: &Connection, template: &ProfileTemplate) -> Result<(), InsertError> {
    let result = connection.execute(
        "INSERT INTO profile_templates
           (id, organization_id, display_name, description, labels_json, spec_json,
            created_at, updated_at, etag)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
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

/// Up to `limit` templates of `organization` ordered by display name, starting after
/// `after` (exclusive).
pub fn list(
    connection: &Connection,
    organization: &str,
    after: Option<&str>,
    limit: u32,
) -> anyhow::Result<Vec<ProfileTemplate>> {
    let mut statement = connection.prepare_cached(
        "SELECT id, organization_id, display_name, description, labels_json, spec_json,
                created_at, updated_at, etag
         FROM profile_templates
         WHERE organization_id = ?1 AND display_name > ?2
         ORDER BY display_name
         LIMIT ?3",
    )?;
    let rows = statement.query_map(params![organization, after.unwrap_or(""), limit], read_row)?;
    rows.map(|row| row?).collect()
}

/// Reads a row, keeping JSON and time parse failures apart from SQLite's own errors.
fn read_row(row: &Row<'_>) -> rusqlite::Result<anyhow::Result<ProfileTemplate>> {
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

fn format_time(at: Option<OffsetDateTime>) -> Result<String, time::error::Format> {
    at.unwrap_or(OffsetDateTime::UNIX_EPOCH).format(&Rfc3339)
}
