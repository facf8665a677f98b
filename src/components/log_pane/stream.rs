//! The pane's side of the network: following the log (and resuming it after a
//! dropped connection), reading dropped blocks again, and reading the whole log for a
//! download; and the state they share with the view.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::time::Duration;

use leptos::prelude::*;
use sandbox_api::ansi;
use sandbox_api::logs::LogStreamData;

use crate::api::{Api, ApiError, LogCursor, LogEnd, LogRead};
use crate::log_buffer::{BLOCK_LINES, Checkpoint, History, LogBuffer};
use crate::sleep::sleep;
use crate::wrapped_rows::WrappedRows;

/// Lines kept in memory; older ones are dropped (and read again when looked at).
pub const CAPACITY: usize = 200_000;
/// Reconnection waits grow to this.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, PartialEq)]
pub enum Connection {
    Connecting,
    Following,
    Reconnecting { attempt: u32 },
    Ended,
    Failed(String),
}

impl Connection {
    /// The connection as the pane's status line says it.
    pub fn status(&self) -> String {
        match self {
            Connection::Connecting => "Connecting…".to_owned(),
            Connection::Following => "Following".to_owned(),
            Connection::Reconnecting { attempt } => format!("Reconnecting… (attempt {attempt})"),
            Connection::Ended => "Ended: this is the whole log".to_owned(),
            Connection::Failed(reason) => format!("Stopped: {reason}"),
        }
    }

    /// The status line when the view may have stopped at the reader's place
    /// (`view_follows` false): new output still arrives, but the view stays put.
    pub fn status_in_view(&self, view_follows: bool) -> String {
        match self {
            Connection::Following if !view_follows => {
                "Paused here while you read; new output still arrives".to_owned()
            }
            other => other.status(),
        }
    }

    /// Why the gateway would not go on, in words (its code when it gives one).
    pub fn refused(code: &str, message: &str) -> Connection {
        Connection::Failed(if code.is_empty() {
            message.to_owned()
        } else {
            format!("{message} ({code})")
        })
    }
}

/// What the stream, the re-reads and the view share. Only `version` is reactive: it is
/// bumped (once a frame at most) when anything else changed.
#[derive(Clone, Copy)]
pub struct PaneState {
    pub buffer: StoredValue<LogBuffer, LocalStorage>,
    pub history: StoredValue<History, LocalStorage>,
    /// Blocks being read again, and blocks that could not be.
    pub reading: StoredValue<HashSet<u64>, LocalStorage>,
    pub unreadable: StoredValue<HashSet<u64>, LocalStorage>,
    pub cursor: StoredValue<Option<LogCursor>, LocalStorage>,
    pub wrapped: StoredValue<WrappedRows, LocalStorage>,
    pub version: RwSignal<u64>,
    redraw_scheduled: StoredValue<bool>,
    pub connection: RwSignal<Connection>,
}

impl PaneState {
    pub fn new() -> PaneState {
        PaneState {
            buffer: StoredValue::new_local(LogBuffer::new(CAPACITY)),
            history: StoredValue::new_local(History::default()),
            reading: StoredValue::new_local(HashSet::new()),
            unreadable: StoredValue::new_local(HashSet::new()),
            cursor: StoredValue::new_local(None),
            wrapped: StoredValue::new_local(WrappedRows::default()),
            version: RwSignal::new(0),
            redraw_scheduled: StoredValue::new(false),
            connection: RwSignal::new(Connection::Connecting),
        }
    }

    pub fn reset(self) {
        self.buffer.set_value(LogBuffer::new(CAPACITY));
        self.history.set_value(History::default());
        self.reading.update_value(HashSet::clear);
        self.unreadable.update_value(HashSet::clear);
        self.cursor.set_value(None);
        self.wrapped.set_value(WrappedRows::default());
        self.connection.set(Connection::Connecting);
        self.version.update(|v| *v += 1);
    }

    /// Asks for one redraw at the next animation frame, however often it is called.
    pub fn redraw(self) {
        if self.redraw_scheduled.get_value() {
            return;
        }
        self.redraw_scheduled.set_value(true);
        request_animation_frame(move || {
            // The pane may be gone by then.
            let _ = self.redraw_scheduled.try_set_value(false);
            let _ = self.version.try_update(|v| *v += 1);
        });
    }

    fn set_connection(self, connection: Connection) {
        if self.connection.get_untracked() != connection {
            self.connection.set(connection);
        }
    }
}

/// Follows the log from its start (or its last `tail` lines) into `state`, reconnecting
/// from the last cursor whenever the connection drops.
pub async fn follow(api: Api, id: String, tail: Option<u64>, state: PaneState) {
    let mut attempt = 0u32;
    loop {
        let from = state.cursor.get_value();
        let read = LogRead {
            from: from.as_ref(),
            tail_lines: tail,
            follow: true,
        };
        let end = api
            .read_logs(
                &id,
                read,
                || state.set_connection(Connection::Following),
                |data| {
                    let timestamp = timestamp_text(&data);
                    state
                        .buffer
                        .update_value(|b| b.push(&data.data, data.offset, timestamp));
                    state.cursor.set_value(Some(LogCursor {
                        session_id: data.session_id,
                        offset: data.offset,
                    }));
                    attempt = 0;
                    state.set_connection(Connection::Following);
                    state.redraw();
                    ControlFlow::Continue(())
                },
            )
            .await;
        match end {
            Ok(LogEnd::Complete | LogEnd::Enough) => {
                state.buffer.update_value(LogBuffer::finish);
                state.redraw();
                state.set_connection(Connection::Ended);
                return;
            }
            Ok(LogEnd::Refused { code, message }) => {
                state.set_connection(Connection::refused(&code, &message));
                return;
            }
            Ok(LogEnd::Cut) | Err(ApiError::Unreachable(_)) => {
                attempt += 1;
                state.set_connection(Connection::Reconnecting { attempt });
                let wait = Duration::from_millis(250 * 2u64.pow(attempt.min(5))).min(MAX_BACKOFF);
                sleep(wait).await;
            }
            Err(error) => {
                state.set_connection(Connection::Failed(error.to_string()));
                return;
            }
        }
    }
}

/// Reads the block of lines starting at `checkpoint` again and keeps it in the history.
pub async fn read_again(
    api: Api,
    id: String,
    session_id: String,
    checkpoint: Checkpoint,
    state: PaneState,
) {
    let mut block = LogBuffer::resuming(checkpoint);
    let from = LogCursor {
        session_id,
        offset: checkpoint.offset,
    };
    let read = LogRead {
        from: Some(&from),
        tail_lines: None,
        follow: false,
    };
    let end = api
        .read_logs(
            &id,
            read,
            || {},
            |data| {
                block.push(&data.data, data.offset, timestamp_text(&data));
                if block.len() as u64 >= BLOCK_LINES {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .await;
    let _ = state
        .reading
        .try_update_value(|r| r.remove(&checkpoint.number));
    match end {
        Ok(LogEnd::Complete | LogEnd::Enough) => {
            block.finish();
            let _ = state
                .history
                .try_update_value(|h| h.insert(block.into_block()));
        }
        _ => {
            let _ = state
                .unreadable
                .try_update_value(|u| u.insert(checkpoint.number));
        }
    }
    state.redraw();
}

/// The whole log as it is now, colours left out, for a download.
pub async fn whole_log(api: &Api, id: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    let read = LogRead::default();
    let end = api
        .read_logs(
            id,
            read,
            || {},
            |data| {
                bytes.extend_from_slice(&data.data);
                ControlFlow::Continue(())
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    match end {
        LogEnd::Complete | LogEnd::Enough => Ok(ansi::strip(&String::from_utf8_lossy(&bytes))),
        LogEnd::Cut => Err("the connection dropped; try again".to_owned()),
        LogEnd::Refused { code, message } => Err(format!("{message} ({code})")),
    }
}

fn timestamp_text(data: &LogStreamData) -> Option<String> {
    data.timestamp.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_says_how_the_stream_stands() {
        assert_eq!(
            Connection::Reconnecting { attempt: 3 }.status(),
            "Reconnecting… (attempt 3)"
        );
        assert_eq!(Connection::Ended.status(), "Ended: this is the whole log");
        assert_eq!(Connection::Failed("gone".into()).status(), "Stopped: gone");
        assert_eq!(
            Connection::refused("", "this sandbox has no log yet").status(),
            "Stopped: this sandbox has no log yet",
            "no empty brackets"
        );
        assert_eq!(
            Connection::refused("REPLAY_GAP", "gone").status(),
            "Stopped: gone (REPLAY_GAP)"
        );
        assert_eq!(
            Connection::Following.status_in_view(false),
            "Paused here while you read; new output still arrives"
        );
        assert_eq!(Connection::Following.status_in_view(true), "Following");
        assert_eq!(
            Connection::Ended.status_in_view(false),
            Connection::Ended.status()
        );
    }
}
