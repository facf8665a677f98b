//! The SQLite store: one writing connection, a small pool of reading ones (WAL lets them
//! read while it writes), foreign keys, versioned migrations. Every multi-row change
//! runs in one transaction. After each write the store notes the counters that say
//! whether the runner read model or the set of active sandboxes changed
//! ([`Generations`]), so that the read side can tell without asking SQLite. All of the gateway's SQL is here, and the
//! store knows nothing above it: its failures are `StoreError`s, which the operations
//! turn into API errors and background work into `anyhow` errors, each once.

pub mod demo_seeds;
pub mod history;
pub mod migrations;
pub mod organizations;
pub mod profile_templates;
pub mod runners;
pub mod sandboxes;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
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
    /// The writing connection's thread (see [`Store::run`]).
    writer: std::sync::mpsc::Sender<Job>,
    readers: Arc<Readers>,
    generations: Arc<Generations>,
}

/// Work for the writing connection's thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Idle read-only connections; one is opened when none is idle, and at most
/// [`IDLE_READERS`] are kept.
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

const IDLE_READERS: usize = 4;

/// The counters the triggers of migrations 3 and 5 bump, as of the last write through
/// this store: the runner read model's (templates, runners, bindings) and the active
/// sandboxes' (inserts, deletes, status changes).
#[derive(Default)]
struct Generations {
    read_model: AtomicI64,
    sandboxes: AtomicI64,
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
        let generations = Arc::new(Generations::default());
        note_generations(&connection, &generations);
        let (writer, jobs) = std::sync::mpsc::channel::<Job>();
        let noted = Arc::clone(&generations);
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                // Until every Store clone is gone.
                while let Ok(job) = jobs.recv() {
                    job(&mut connection);
                    note_generations(&connection, &noted);
                }
            })
            .context("starting the database thread")?;
        Ok(Store {
            writer,
            readers: Arc::new(Readers {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
            }),
            generations,
        })
    }

    /// The read-model and active-sandbox generations as of the last write.
    pub fn generations(&self) -> (i64, i64) {
        (
            self.generations.read_model.load(Ordering::Acquire),
            self.generations.sandboxes.load(Ordering::Acquire),
        )
    }

    /// Runs `work` on a read-only connection, beside the writer and other readers.
    /// It sees every write whose [`Store::generations`] the caller saw.
    pub async fn read<T, E, F>(&self, work: F) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> std::result::Result<T, E> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let connection = match readers.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
                Some(connection) => connection,
                None => open_reader(&readers.path).map_err(StoreError::from)?,
            };
            let value = work(&connection);
            let mut idle = readers.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < IDLE_READERS {
                idle.push(connection);
            }
            value
        })
        .await
        .map_err(|e| E::from(StoreError::from(e)))?
    }

    /// Runs `work` on the connection, off the async runtime's threads. `work` may fail
    /// with the caller's own error type (an operation's refusal), as long as a
    /// `StoreError` converts into it.
    ///
    /// Writes run one at a time on one thread that owns the writing connection: they
    /// queue in order instead of blocking a thread each, and whatever they allocate is
    /// reused by the next (a large placement on many threads would leave memory behind
    /// in each thread's allocator arena).
    pub async fn run<T, E, F>(&self, work: F) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> std::result::Result<T, E> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |connection| {
            // A panic leaves SQLite consistent (its transaction rolls back); the thread
            // goes on with the next job, and this caller gets an error.
            let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(connection)));
            if let Ok(value) = value {
                let _ = answer.send(value);
            }
        });
        if self.writer.send(job).is_err() {
            return Err(E::from(StoreError(anyhow::anyhow!(
                "the database thread has stopped"
            ))));
        }
        answered.await.unwrap_or_else(|_| {
            Err(E::from(StoreError(anyhow::anyhow!(
                "a database operation panicked"
            ))))
        })
    }
}

fn open_reader(path: &Path) -> anyhow::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {} for reading", path.display()))?;
    connection
        .pragma_update(None, "busy_timeout", 5000)
        .context("setting the busy timeout")?;
    Ok(connection)
}

/// Reads the generation counters after a write. A failure here (the database gone) is
/// reported by the next statement that needs it; the counters then stay as they were.
fn note_generations(connection: &Connection, generations: &Generations) {
    if let Ok((read_model, sandboxes)) = migrations::generations(connection) {
        generations.read_model.store(read_model, Ordering::Release);
        generations.sandboxes.store(sandboxes, Ordering::Release);
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
