//! The SQLite store: one connection, WAL, foreign keys, versioned migrations. Every
//! multi-row change runs in one transaction.

pub mod migrations;
pub mod organizations;
pub mod profile_templates;
pub mod runners;
pub mod sandboxes;

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use rusqlite::Connection;

use crate::error::ApiError;

#[derive(Clone)]
pub struct Store {
    connection: Arc<Mutex<Connection>>,
}

impl Store {
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        let mut connection = Connection::open(path)
            .with_context(|| format!("opening the database {}", path.display()))?;
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

    /// Runs `work` on the connection, off the async runtime's threads.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
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
        .map_err(|e| ApiError::internal("running a database task", e))?
    }
}

pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// A fresh etag: opaque, changes on every write.
pub fn new_etag() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
