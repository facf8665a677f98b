//! The SQLite store: one connection, WAL, foreign keys, versioned migrations. Every
//! multi-row change runs in one transaction. All of the gateway's SQL is here, and the
//! store knows nothing above it: its failures are `StoreError`s, which the operations
//! turn into API errors and background work into `anyhow` errors, each once.

pub mod demo_seeds;
pub mod migrations;
pub mod organizations;
pub mod profile_templates;
pub mod runners;
pub mod sandboxes;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use rusqlite::Connection;

/// A failure of the database, or a stored value that no longer reads, with its causes.
#[derive(Debug)]
pub struct StoreError(anyhow::Error);

/// What a store function returns.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

// StoreError is deliberately neither a `std::error::Error` nor convertible into
// `anyhow::Error`: that keeps this blanket conversion from every error a store
// function meets (SQLite, JSON, time) coherent.
impl<E: Into<anyhow::Error>> From<E> for StoreError {
    fn from(error: E) -> StoreError {
        StoreError(error.into())
    }
}

impl StoreError {
    /// For background work: this failure as an `anyhow` error saying what was being
    /// done. (Not a `From`: that would make the conversion above conflict with the
    /// identity conversion.)
    pub fn context(self, doing: &'static str) -> anyhow::Error {
        self.0.context(doing)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

#[derive(Clone)]
pub struct Store {
    connection: Arc<Mutex<Connection>>,
}

impl Store {
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        let mut connection = Connection::open(path)
            .with_context(|| format!("opening the database {}", path.display()))?;
        // Readable by the gateway's user only (SQLite gives its WAL files the same mode).
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .with_context(|| format!("making {} private", path.display()))?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .context("enabling WAL")?;
        connection
            .pragma_update(None, "foreign_keys", "ON")
            .context("enabling foreign keys")?;
        connection
            .pragma_update(None, "busy_timeout", 5000)
            .context("setting the busy timeout")?;
        migrations::apply(&mut connection)
            .with_context(|| format!("migrating the database {}", path.display()))?;
        Ok(Store {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` on the connection, off the async runtime's threads. `work` may fail
    /// with the caller's own error type (an operation's refusal), as long as a
    /// `StoreError` converts into it.
    pub async fn run<T, E, F>(&self, work: F) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> std::result::Result<T, E> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves SQLite itself consistent (its own
            // transaction rolls back), so a poisoned lock is safe to keep using.
            let mut guard = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut guard)
        })
        .await
        .map_err(|e| E::from(StoreError::from(e)))?
    }
}

/// Runs `work` in one transaction: committed if it succeeds, rolled back (dropped)
/// otherwise. `work` may fail with the caller's own error type.
pub fn in_transaction<T, E, F>(connection: &mut Connection, work: F) -> std::result::Result<T, E>
where
    E: From<StoreError>,
    F: FnOnce(&rusqlite::Transaction<'_>) -> std::result::Result<T, E>,
{
    let tx = connection.transaction().map_err(StoreError::from)?;
    let value = work(&tx)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(value)
}

pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// A fresh etag: opaque, changes on every write.
pub fn new_etag() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
