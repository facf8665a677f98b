//! Rows of `history`: each object's changes (`sandbox_api::history`), written by the
//! operations in the transaction of the change they record.

use rusqlite::{Connection, Row, params};
use sandbox_api::history::{Actor, HistoryAction, HistoryEntry, ObjectKind};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Result;

/// Which entries a listing wants; empty parts match every entry.
#[derive(Clone, Debug, Default)]
pub struct HistoryFilter {
    pub object_kind: Option<ObjectKind>,
    pub object_id: Option<String>,
    pub action: Option<HistoryAction>,
}

/// Records `entry` (its `id` is given by the database) for `organization`.
pub fn insert(connection: &Connection, organization: &str, entry: &HistoryEntry) -> Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO history (organization_id, object_kind, object_id, object_name, action,
                                  actor_json, at, changes_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            organization,
            entry.object_kind.as_str(),
            entry.object_id,
            entry.object_name,
            entry.action.as_str(),
            serde_json::to_string(&entry.actor)?,
            entry.time.unwrap_or_else(super::now).format(&Rfc3339)?,
            serde_json::to_string(&entry.changes)?,
        ])?;
    Ok(())
}

/// Up to `limit` entries of `organization` matching `filter`, newest first, older than
/// the entry `before` (exclusive) when given.
pub fn list(
    connection: &Connection,
    organization: &str,
    filter: &HistoryFilter,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<HistoryEntry>> {
    let mut statement = connection.prepare_cached(
        "SELECT seq, object_kind, object_id, object_name, action, actor_json, at, changes_json
         FROM history
         WHERE organization_id = ?1
           AND (?2 IS NULL OR object_kind = ?2)
           AND (?3 IS NULL OR object_id = ?3)
           AND (?4 IS NULL OR action = ?4)
           AND seq < ?5
         ORDER BY seq DESC
         LIMIT ?6",
    )?;
    let rows = statement.query_map(
        params![
            organization,
            filter.object_kind.map(ObjectKind::as_str),
            filter.object_id,
            filter.action.map(HistoryAction::as_str),
            before.unwrap_or(i64::MAX),
            limit,
        ],
        read_row,
    )?;
    rows.map(|row| row?).collect()
}

/// Forgets the entries recorded before `cutoff`; how many went.
pub fn prune(connection: &Connection, cutoff: OffsetDateTime) -> Result<usize> {
    Ok(connection.execute(
        "DELETE FROM history WHERE at < ?1",
        params![cutoff.format(&Rfc3339)?],
    )?)
}

/// Reads a row, keeping JSON and time parse failures apart from SQLite's own errors.
fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<HistoryEntry>> {
    let seq: i64 = row.get(0)?;
    let kind: String = row.get(1)?;
    let action: String = row.get(4)?;
    let actor_json: String = row.get(5)?;
    let at: String = row.get(6)?;
    let changes_json: String = row.get(7)?;
    let (object_id, object_name) = (row.get(2)?, row.get(3)?);
    Ok((|| {
        Ok(HistoryEntry {
            id: seq.to_string(),
            object_kind: ObjectKind::from_name(&kind),
            object_id,
            object_name,
            action: HistoryAction::from_name(&action),
            actor: serde_json::from_str::<Actor>(&actor_json)?,
            time: Some(OffsetDateTime::parse(&at, &Rfc3339)?),
            changes: serde_json::from_str(&changes_json)?,
        })
    })())
}

#[cfg(test)]
mod tests {
    use sandbox_api::history::FieldChange;
    use time::Duration;

    use super::*;

    fn entry(object_id: &str, time: OffsetDateTime) -> HistoryEntry {
        HistoryEntry {
            id: String::new(),
            object_kind: ObjectKind::Runner,
            object_id: object_id.into(),
            object_name: "r".into(),
            action: HistoryAction::Updated,
            actor: Actor::Gateway,
            time: Some(time),
            changes: vec![FieldChange {
                path: "displayName".into(),
                before: Some("a".into()),
                after: Some("b".into()),
                redacted: false,
            }],
        }
    }

    #[test]
    fn entries_older_than_the_retention_are_forgotten_and_the_rest_listed_newest_first() {
        let mut connection = Connection::open_in_memory().unwrap();
        super::super::migrations::apply(&mut connection).unwrap();
        connection
            .execute(
                "INSERT INTO organizations (id, created_at) VALUES ('acme', '')",
                [],
            )
            .unwrap();
        let now = OffsetDateTime::now_utc();
        insert(
            &connection,
            "acme",
            &entry("old", now - Duration::days(100)),
        )
        .unwrap();
        insert(&connection, "acme", &entry("new", now - Duration::days(1))).unwrap();
        insert(&connection, "acme", &entry("newest", now)).unwrap();
        assert_eq!(prune(&connection, now - Duration::days(90)).unwrap(), 1);
        let listed = list(&connection, "acme", &HistoryFilter::default(), None, 10).unwrap();
        let ids: Vec<&str> = listed.iter().map(|e| e.object_id.as_str()).collect();
        assert_eq!(ids, ["newest", "new"]);
        assert_eq!(listed[0].changes, entry("x", now).changes);
        let older = list(
            &connection,
            "acme",
            &HistoryFilter::default(),
            Some(listed[0].id.parse().unwrap()),
            10,
        )
        .unwrap();
        assert_eq!(older.len(), 1, "a page starts after the last one seen");
    }
}
