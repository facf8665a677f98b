//! The on-disk form of a sandbox's log: written once by the sandbox's supervisor, read by
//! any number of streams, in this gateway run or a later one.
//!
//! A log directory holds three files:
//!
//! - `session`: the log's session id, a UUID in text. It is written last when the log is
//!   created, so a directory without it holds no log.
//! - `output`: the sandbox's stdout and stderr, byte for byte, in the order the chunks
//!   arrived.
//! - `output.index`: one 16-byte record per chunk appended to `output`: the offset just
//!   past the chunk (u64, little-endian), then when it arrived (i64 nanoseconds since the
//!   Unix epoch, little-endian). Records are written after their bytes, so the last
//!   record's offset is how much of `output` is committed; bytes past it (a write cut
//!   short) are never read.
//!
//! While its writer is alive, it holds an exclusive `flock` on `output`. A reader without
//! a live handle on the writer uses the lock to tell a log that may still grow from one
//! that never will. The kernel drops the lock when the writer's process dies, so a crashed
//! gateway cannot leave a log looking live.
//!
//! Nothing here keeps more than one chunk ([`CHUNK_LIMIT`]) of output in memory, however
//! long the log.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::watch;

use super::LaunchError;
use super::child::CHUNK_LIMIT;

const SESSION_FILE: &str = "session";
const OUTPUT_FILE: &str = "output";
const INDEX_FILE: &str = "output.index";

/// How far a log has been written, as its writer announces it to live readers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct LogProgress {
    /// Bytes of output that are committed (readable).
    pub committed: u64,
    /// The writer has appended its last chunk.
    pub finished: bool,
}

/// A view, for streams in this gateway, of a log its writer is still appending to.
#[derive(Clone, Debug)]
pub(super) struct LiveLog {
    pub session_id: String,
    pub progress: watch::Receiver<LogProgress>,
}

/// One index record: where a chunk ends and when it arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IndexRecord {
    end: u64,
    unix_nanos: i64,
}

impl IndexRecord {
    const LEN: u64 = 16;

    fn encode(self) -> [u8; 16] {
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&self.end.to_le_bytes());
        bytes[8..].copy_from_slice(&self.unix_nanos.to_le_bytes());
        bytes
    }

    fn decode(bytes: [u8; 16]) -> IndexRecord {
        // The first eight bytes are the end, the last eight the time.
        let [end @ .., _, _, _, _, _, _, _, _] = bytes;
        let [_, _, _, _, _, _, _, _, unix_nanos @ ..] = bytes;
        IndexRecord {
            end: u64::from_le_bytes(end),
            unix_nanos: i64::from_le_bytes(unix_nanos),
        }
    }
}

/// Appends a sandbox's output to its log.
#[derive(Debug)]
pub(super) struct LogWriter {
    session_id: String,
    /// Also holds the writer's lock, released when the last clone is dropped.
    output: Arc<File>,
    index: Arc<File>,
    progress: watch::Sender<LogProgress>,
    records: u64,
    /// Set by the first failed write, after which the log stops growing.
    failed: bool,
    /// The most bytes of output the log keeps.
    limit: u64,
    /// Set once the limit is reached and the log has said so.
    full: bool,
}

impl LogWriter {
    /// Creates a new log, with a new session id, in `dir` (created if missing). A
    /// directory that already holds a log is refused: a session id names one sequence of
    /// bytes forever, which is what makes resuming a stream safe.
    pub(super) fn create(dir: &Path, limit: u64) -> Result<LogWriter, LaunchError> {
        let in_use = || LaunchError::LogDirectoryInUse {
            log_dir: dir.to_owned(),
        };
        let io_error = |action: &str| LaunchError::io(format!("{action} {}", dir.display()));
        fs::create_dir_all(dir).map_err(io_error("could not create the log directory"))?;
        // Readable by the gateway's (or agent's) user only, whatever the umask.
        fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .map_err(io_error("could not make private the log directory"))?;
        let output = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(OUTPUT_FILE))
            .map_err(io_error("could not create the log file in"))?;
        match output.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(in_use()),
            Err(TryLockError::Error(source)) => {
                return Err(io_error("could not lock the log file in")(source));
            }
        }
        if dir.join(SESSION_FILE).exists() {
            return Err(in_use());
        }
        // Under the lock and with no session written, anything already here is the
        // remains of a creation that was cut short.
        output
            .set_len(0)
            .map_err(io_error("could not empty the log file in"))?;
        let index = File::create(dir.join(INDEX_FILE))
            .map_err(io_error("could not create the log index in"))?;
        let session_id = uuid::Uuid::new_v4().to_string();
        write_session_id(dir, &session_id)
            .map_err(io_error("could not write the log session in"))?;
        Ok(LogWriter {
            session_id,
            output: Arc::new(output),
            index: Arc::new(index),
            progress: watch::Sender::new(LogProgress::default()),
            records: 0,
            failed: false,
            limit,
            full: false,
        })
    }

    /// A view of this log for streams that follow it live.
    pub(super) fn live(&self) -> LiveLog {
        LiveLog {
            session_id: self.session_id.clone(),
            progress: self.progress.subscribe(),
        }
    }

    /// Appends one chunk of output (at most [`CHUNK_LIMIT`] bytes, as pipes are read) and
    /// makes it visible: its bytes first, then its index record, then a wake-up for live
    /// readers.
    ///
    /// A write error (a full disk) is logged once and ends the log's growth, the rest of
    /// the output being dropped: an index that disagreed with the data would be worse. A
    /// chunk whose write was cut short has no index record, so its bytes are never read.
    ///
    /// Output past the log's limit is dropped, and the log says so in one line of its
    /// own (so it ends at most that line past the limit). What was written stays as it
    /// was, so resume offsets stay valid.
    pub(super) async fn append(&mut self, mut chunk: Vec<u8>) {
        if self.failed || self.full {
            return;
        }
        let room = self.limit.saturating_sub(self.progress.borrow().committed);
        if chunk.len() as u64 > room {
            // `room` is less than the chunk's length, which is a usize.
            chunk.truncate(room as usize);
            chunk.extend_from_slice(&limit_notice(self.limit));
            self.full = true;
        }
        let at = self.progress.borrow().committed;
        let record = IndexRecord {
            end: at + chunk.len() as u64,
            unix_nanos: now_unix_nanos(),
        };
        let record_at = self.records * IndexRecord::LEN;
        let (output, index) = (Arc::clone(&self.output), Arc::clone(&self.index));
        let written = tokio::task::spawn_blocking(move || {
            output.write_all_at(&chunk, at)?;
            index.write_all_at(&record.encode(), record_at)
        })
        .await
        .unwrap_or_else(|panicked| Err(io::Error::other(panicked)));
        match written {
            Ok(()) => {
                self.records += 1;
                self.progress
                    .send_modify(|progress| progress.committed = record.end);
            }
            Err(error) => {
                tracing::error!(%error, "writing a sandbox's log failed; the rest of its output is dropped");
                self.failed = true;
            }
        }
    }

    /// Marks the log finished: live readers learn it at once, other readers when the
    /// lock goes with the files.
    pub(super) fn finish(self) {
        self.progress
            .send_modify(|progress| progress.finished = true);
    }
}

/// The line that ends a log at its limit, on a line of its own.
fn limit_notice(limit: u64) -> Vec<u8> {
    format!(
        "\n[sandbox-gateway] this sandbox's log reached its limit of {limit} bytes \
         (--max-log-bytes); further output is dropped\n"
    )
    .into_bytes()
}

fn now_unix_nanos() -> i64 {
    // i64 nanoseconds reach the year 2262.
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// Writes the session id so that no reader ever sees half of it: to a temporary file, then
/// renamed into place.
fn write_session_id(dir: &Path, session_id: &str) -> io::Result<()> {
    let temporary = dir.join(format!("{SESSION_FILE}.new"));
    fs::write(&temporary, session_id)?;
    fs::rename(&temporary, dir.join(SESSION_FILE))
}

/// The session id of the log in `dir`, or `None` when `dir` holds no log.
pub(super) fn read_session_id(dir: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(dir.join(SESSION_FILE)) {
        Ok(session_id) => Ok(Some(session_id.trim().to_owned())),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Up to [`CHUNK_LIMIT`] bytes of a log.
#[derive(Debug)]
pub(super) struct Chunk {
    pub bytes: Vec<u8>,
    /// The offset just past `bytes`.
    pub end: u64,
    /// When the bytes arrived, if asked for.
    pub arrived: Option<OffsetDateTime>,
}

/// Reads a log. All its methods block on file I/O (they are meant for `spawn_blocking`).
#[derive(Debug)]
pub(super) struct LogReader {
    dir: PathBuf,
    output: File,
    index: File,
}

impl LogReader {
    /// Opens the log in `dir` with its session id, or `None` when `dir` holds no log.
    pub(super) fn open(dir: &Path) -> io::Result<Option<(String, LogReader)>> {
        // The session id is written last, so once it is there, so are the files.
        let Some(session_id) = read_session_id(dir)? else {
            return Ok(None);
        };
        let reader = LogReader {
            dir: dir.to_owned(),
            output: File::open(dir.join(OUTPUT_FILE))?,
            index: File::open(dir.join(INDEX_FILE))?,
        };
        Ok(Some((session_id, reader)))
    }

    /// How many bytes of output are committed.
    pub(super) fn committed(&self) -> io::Result<u64> {
        match self.record_count()? {
            0 => Ok(0),
            count => Ok(self.record(count - 1)?.end),
        }
    }

    /// The committed bytes from `from` on, at most [`CHUNK_LIMIT`] of them and none at or
    /// past `until`; `None` when there are none (yet).
    ///
    /// With `timestamps`, the chunk stops where the chunk that was appended ends, so
    /// that all its bytes arrived at the one time it carries.
    pub(super) fn read_chunk(
        &self,
        from: u64,
        until: Option<u64>,
        timestamps: bool,
    ) -> io::Result<Option<Chunk>> {
        let records = self.record_count()?;
        if records == 0 {
            return Ok(None);
        }
        let committed = self.record(records - 1)?.end;
        let available = until.map_or(committed, |until| until.min(committed));
        if from >= available {
            return Ok(None);
        }
        let mut end = available.min(from + CHUNK_LIMIT as u64);
        let mut arrived = None;
        if timestamps {
            let record = self.record_past(from, records)?;
            end = end.min(record.end);
            arrived = OffsetDateTime::from_unix_timestamp_nanos(record.unix_nanos.into()).ok();
        }
        let bytes = self.read_output(from, end)?;
        Ok(Some(Chunk {
            bytes,
            end,
            arrived,
        }))
    }

    /// Where the last `lines` lines of the first `committed` bytes begin, counted as
    /// `tail -n` does: an unfinished last line counts, and the newline ending the log
    /// does not start another line. Scans backwards a chunk at a time.
    pub(super) fn start_of_last_lines(&self, lines: u64, committed: u64) -> io::Result<u64> {
        if lines == 0 {
            return Ok(committed);
        }
        let mut newlines_seen = 0;
        // The log's last byte belongs to its last line, whether or not it is a newline.
        let mut block_end = committed.saturating_sub(1);
        while block_end > 0 {
            let block_start = block_end.saturating_sub(CHUNK_LIMIT as u64);
            let block = self.read_output(block_start, block_end)?;
            for (at, _) in block
                .iter()
                .enumerate()
                .rev()
                .filter(|(_, byte)| **byte == b'\n')
            {
                newlines_seen += 1;
                if newlines_seen == lines {
                    return Ok(block_start + at as u64 + 1);
                }
            }
            block_end = block_start;
        }
        Ok(0)
    }

    /// Whether a writer, in this process or another, still holds the log open for
    /// appending (see the module's documentation).
    pub(super) fn writer_alive(&self) -> io::Result<bool> {
        // A lock is held by an open file description, so the probe must be a new one.
        let probe = File::open(self.dir.join(OUTPUT_FILE))?;
        match probe.try_lock_shared() {
            // Closing the probe releases the shared lock again.
            Ok(()) => Ok(false),
            Err(TryLockError::WouldBlock) => Ok(true),
            Err(TryLockError::Error(error)) => Err(error),
        }
    }

    fn record_count(&self) -> io::Result<u64> {
        // A record is written in one call, within one page, and the file's length grows
        // only once it is all there: a partial record is never seen.
        Ok(self.index.metadata()?.len() / IndexRecord::LEN)
    }

    fn record(&self, number: u64) -> io::Result<IndexRecord> {
        let mut bytes = [0; 16];
        self.index
            .read_exact_at(&mut bytes, number * IndexRecord::LEN)?;
        Ok(IndexRecord::decode(bytes))
    }

    /// The record of the chunk holding byte `offset`: the first to end past it. Records
    /// are sorted by their end and the last one ends past `offset` (it is committed), so
    /// a binary search finds it.
    fn record_past(&self, offset: u64, records: u64) -> io::Result<IndexRecord> {
        let (mut low, mut high) = (0, records - 1);
        while low < high {
            let middle = low + (high - low) / 2;
            if self.record(middle)?.end > offset {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        self.record(low)
    }

    fn read_output(&self, from: u64, end: u64) -> io::Result<Vec<u8>> {
        // Both bounds come from the index or the caller's clamping: at most a chunk apart.
        let mut bytes = vec![0; (end - from) as usize];
        self.output.read_exact_at(&mut bytes, from)?;
        Ok(bytes)
    }
}
