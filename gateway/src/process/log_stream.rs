//! A sandbox's log as the frames of SPEC §4 "Logs for browsers": data frames of at most
//! 64 KiB, each with the session id and the offset just past it, so that a reader who
//! reconnects with them gets exactly the bytes it has not seen.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use futures_util::stream;
use sandbox_api::logs::{LogStreamComplete, LogStreamData, LogStreamError, LogStreamResponse};
use tokio::sync::watch;

use super::SandboxProcess;
use super::log_files::{Chunk, LiveLog, LogProgress, LogReader};

/// How often a stream following a log without a live handle on its writer looks for more
/// output (local decision).
const DETACHED_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// What part of a log to send, and how (the query of `GET /v1beta2/sandboxes/{id}/logs`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogRequest {
    /// After what exists, keep sending output as it is written until the sandbox ends.
    pub follow: bool,
    /// Start at the beginning of the last this many lines. A resume takes precedence.
    pub tail_lines: Option<u64>,
    /// Give each data frame the time its bytes arrived.
    pub timestamps: bool,
    /// Continue a stream of this session; another session gets `SESSION_NOT_FOUND`.
    pub resume_session_id: Option<String>,
    /// Start just past this offset: what the last frame seen carried. Past the end of
    /// what was written gets `REPLAY_GAP`.
    pub resume_offset: Option<u64>,
}

/// Streams the log in `log_dir` as [`LogStreamResponse`] frames.
///
/// - It starts just past `resume_offset` when resuming (a session other than the log's
///   gets one `SESSION_NOT_FOUND` Error frame, an offset past the end one `REPLAY_GAP`),
///   else at the beginning of the last `tail_lines` lines, else at the beginning.
/// - Data frames carry at most 64 KiB, the session id and the offset just past them.
///   With `timestamps`, a frame also never spans two appended chunks, so that its
///   timestamp is when all its bytes arrived; without, it has none.
/// - Without `follow`: the output that exists when the stream starts, then Complete.
/// - With `follow`: then the output as it is written, and Complete once the writer has
///   finished (the sandbox ended and all its output is in the log). `live`, the sandbox
///   writing this log, wakes the stream at each append. Without it (or if it writes
///   another log), the stream polls every [`DETACHED_POLL_INTERVAL`] while the log's
///   writer lock is held; a log nobody writes any more, as after a gateway restart,
///   completes at once.
/// - A stream that cannot start, or cannot go on, sends one Error frame and ends.
///
/// The stream is `'static` (it owns what it needs) and reads the files off the async
/// threads, one frame at a time, as the consumer asks for frames; dropping it stops it.
pub fn stream_log(
    log_dir: &Path,
    live: Option<&SandboxProcess>,
    request: LogRequest,
) -> impl Stream<Item = LogStreamResponse> + Send + 'static + use<> {
    let opening = Stage::Opening {
        dir: log_dir.to_owned(),
        live: live.map(SandboxProcess::live_log),
        request,
    };
    stream::unfold(opening, |stage| async move {
        let mut cursor = match stage {
            Stage::Done => return None,
            Stage::Opening { dir, live, request } => {
                match LogCursor::open(dir, live, request).await {
                    Ok(cursor) => cursor,
                    Err(refusal) => return Some((LogStreamResponse::Error(refusal), Stage::Done)),
                }
            }
            Stage::Sending(cursor) => cursor,
        };
        Some(match cursor.next_frame().await {
            Ok(Some(data)) => (LogStreamResponse::Data(data), Stage::Sending(cursor)),
            Ok(None) => (
                LogStreamResponse::Complete(LogStreamComplete {}),
                Stage::Done,
            ),
            Err(failure) => (LogStreamResponse::Error(failure), Stage::Done),
        })
    })
}

/// Where a log stream is.
enum Stage {
    Opening {
        dir: PathBuf,
        live: Option<LiveLog>,
        request: LogRequest,
    },
    Sending(LogCursor),
    Done,
}

/// How a following stream learns that the log grew or was finished.
enum WriterWatch {
    /// The writer runs in this gateway and announces every append.
    Live(watch::Receiver<LogProgress>),
    /// The writer is elsewhere or gone: its lock on the log tells which.
    Detached,
}

/// A stream's place in a log.
struct LogCursor {
    reader: Arc<LogReader>,
    session_id: String,
    /// The offset of the next byte to send.
    position: u64,
    /// Without `follow`: the end of the output that existed when the stream started.
    until: Option<u64>,
    timestamps: bool,
    /// With `follow`: how to learn of more output.
    writer: Option<WriterWatch>,
}

impl LogCursor {
    /// Opens the log and finds where the stream starts, or says why it cannot.
    async fn open(
        dir: PathBuf,
        live: Option<LiveLog>,
        request: LogRequest,
    ) -> Result<LogCursor, LogStreamError> {
        let follow = request.follow;
        let timestamps = request.timestamps;
        let (reader, session_id, position, committed) =
            blocking(move || starting_point(&dir, &request)).await??;
        // A handle on some other log's writer would wake the stream for nothing (or
        // never): it is only trusted for the log it writes.
        let writer = match live {
            Some(live) if live.session_id == session_id => WriterWatch::Live(live.progress),
            _ => WriterWatch::Detached,
        };
        Ok(LogCursor {
            reader: Arc::new(reader),
            session_id,
            position,
            until: (!follow).then_some(committed),
            timestamps,
            writer: follow.then_some(writer),
        })
    }

    /// The next data frame, `None` when the stream is complete, or why it cannot go on.
    async fn next_frame(&mut self) -> Result<Option<LogStreamData>, LogStreamError> {
        loop {
            if let Some(chunk) = self.read_chunk().await? {
                return Ok(Some(self.frame(chunk)));
            }
            if self.writer_finished().await? {
                // Output appended between the read above and the writer finishing is
                // still to be sent; after this read, nothing more can come.
                return match self.read_chunk().await? {
                    Some(chunk) => Ok(Some(self.frame(chunk))),
                    None => Ok(None),
                };
            }
            self.wait_for_output().await;
        }
    }

    async fn read_chunk(&self) -> Result<Option<Chunk>, LogStreamError> {
        let reader = Arc::clone(&self.reader);
        let (position, until, timestamps) = (self.position, self.until, self.timestamps);
        blocking(move || {
            reader
                .read_chunk(position, until, timestamps)
                .map_err(read_failed)
        })
        .await?
    }

    fn frame(&mut self, chunk: Chunk) -> LogStreamData {
        self.position = chunk.end;
        LogStreamData {
            data: chunk.bytes,
            timestamp: chunk.arrived,
            session_id: self.session_id.clone(),
            offset: chunk.end,
        }
    }

    /// Whether no more output can come: always, without `follow`.
    async fn writer_finished(&mut self) -> Result<bool, LogStreamError> {
        match &mut self.writer {
            None => Ok(true),
            Some(WriterWatch::Live(progress)) => {
                // A writer that vanished without saying so (its task was dropped) is
                // finished all the same.
                Ok(progress.borrow().finished || progress.has_changed().is_err())
            }
            Some(WriterWatch::Detached) => {
                let reader = Arc::clone(&self.reader);
                blocking(move || {
                    reader
                        .writer_alive()
                        .map(|alive| !alive)
                        .map_err(read_failed)
                })
                .await?
            }
        }
    }

    /// Waits until the log may hold output past the cursor, or the writer has finished.
    async fn wait_for_output(&mut self) {
        let position = self.position;
        match &mut self.writer {
            Some(WriterWatch::Live(progress)) => {
                // An error means the writer is gone, which the next look at it tells.
                let _ = progress
                    .wait_for(|progress| progress.finished || progress.committed > position)
                    .await;
            }
            Some(WriterWatch::Detached) => tokio::time::sleep(DETACHED_POLL_INTERVAL).await,
            // Without `follow` the writer always counts as finished: nothing to wait for.
            None => {}
        }
    }
}

/// Opens the log in `dir` and works out where `request` starts in it: the reader, the
/// session id, the starting offset, and how much output is committed now.
fn starting_point(
    dir: &Path,
    request: &LogRequest,
) -> Result<(LogReader, String, u64, u64), LogStreamError> {
    let opened = LogReader::open(dir).map_err(read_failed)?;
    let Some((session_id, reader)) = opened else {
        return Err(match request.resume_session_id {
            Some(_) => session_not_found(),
            None => LogStreamError {
                message: "this sandbox has no log yet".to_owned(),
                code: String::new(),
            },
        });
    };
    if request
        .resume_session_id
        .as_ref()
        .is_some_and(|wanted| *wanted != session_id)
    {
        return Err(session_not_found());
    }
    let committed = reader.committed().map_err(read_failed)?;
    let position = match (request.resume_offset, request.tail_lines) {
        (Some(offset), _) if offset > committed => {
            return Err(LogStreamError {
                message: format!(
                    "cannot resume at offset {offset}: the log holds only {committed} bytes"
                ),
                code: LogStreamError::REPLAY_GAP.to_owned(),
            });
        }
        (Some(offset), _) => offset,
        (None, Some(lines)) => reader
            .start_of_last_lines(lines, committed)
            .map_err(read_failed)?,
        (None, None) => 0,
    };
    Ok((reader, session_id, position, committed))
}

fn session_not_found() -> LogStreamError {
    LogStreamError {
        message: "this log session does not exist (any more); read the log from the start"
            .to_owned(),
        code: LogStreamError::SESSION_NOT_FOUND.to_owned(),
    }
}

/// An I/O failure as the stream's reader sees it. The details are for the gateway's own
/// log; the reader learns that the log could not be read.
fn read_failed(error: io::Error) -> LogStreamError {
    tracing::warn!(%error, "reading a sandbox's log failed");
    LogStreamError {
        message: format!("could not read the sandbox's log: {error}"),
        code: String::new(),
    }
}

/// Runs file I/O on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, LogStreamError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|panicked| read_failed(io::Error::other(panicked)))
}
