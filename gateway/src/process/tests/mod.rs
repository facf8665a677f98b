//! Tests of sandbox processes, their logs and exec, against real processes.
//!
//! Waiting is always for a condition, under a deadline ([`DEADLINE`]) generous enough for
//! a loaded machine; no sleep stands in for synchronisation.

mod exec;
mod lifecycle;
mod log_files;
mod logs;
mod network;
mod session;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use sandbox_api::logs::{LogStreamData, LogStreamError, LogStreamResponse};
use tempfile::TempDir;

use super::{
    Isolation, LaunchSpec, LogRequest, NetworkIsolation, ResourceLimits, SandboxProcess, launch,
    stream_log,
};

/// The longest any awaited condition may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test if it takes longer than [`DEADLINE`].
async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {DEADLINE:?} waiting for {what}"))
}

/// Polls `condition` until it holds, failing the test after [`DEADLINE`].
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    within(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// A temporary home for one sandbox: its working directory and its log directory.
struct Dirs {
    _root: TempDir,
    work: PathBuf,
    log: PathBuf,
}

impl Dirs {
    fn new() -> Dirs {
        let root = tempfile::tempdir().unwrap();
        // Canonical, so that it compares equal to what `pwd` prints.
        let base = root.path().canonicalize().unwrap();
        Dirs {
            work: base.join("work"),
            log: base.join("log"),
            _root: root,
        }
    }

    fn spec(&self, command: &str, args: &[&str]) -> LaunchSpec {
        LaunchSpec {
            id: "test-sandbox".to_owned(),
            command: command.to_owned(),
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            env: BTreeMap::new(),
            work_dir: self.work.clone(),
            mounted_files: Vec::new(),
            max_lifetime: None,
            network: NetworkIsolation::Host,
            log_dir: self.log.clone(),
            // These tests are of host processes (`--isolation none`); containers are
            // tested over the gateway's API (gateway/tests/isolation_api.rs).
            isolation: Isolation::None,
            limits: ResourceLimits {
                memory_bytes: 1 << 30,
                cpu_millicores: 1000,
                processes: 256,
                log_bytes: 64 << 20,
            },
            bundle_dir: self.work.with_file_name("bundle"),
            egress_allowlist: None,
        }
    }

    /// Launches `sh -c script` in these directories.
    async fn launch_sh(&self, script: &str) -> SandboxProcess {
        launch(self.spec("sh", &["-c", script])).await.unwrap()
    }

    /// The whole log as it is now, read through [`stream_log`] without following.
    async fn log_bytes(&self) -> Vec<u8> {
        let read = collect(stream_log(&self.log, None, LogRequest::default())).await;
        read.assert_complete();
        read.bytes
    }
}

/// What a log stream sent.
#[derive(Debug)]
struct Read {
    frames: Vec<LogStreamData>,
    /// The data of all frames, in order.
    bytes: Vec<u8>,
    /// The last frame, if it was not data.
    end: Option<LogStreamResponse>,
}

impl Read {
    fn assert_complete(&self) {
        assert!(
            matches!(self.end, Some(LogStreamResponse::Complete(_))),
            "expected the stream to end with a Complete frame, got {:?}",
            self.end
        );
    }

    fn error(&self) -> &LogStreamError {
        match &self.end {
            Some(LogStreamResponse::Error(error)) => error,
            other => panic!("expected the stream to end with an Error frame, got {other:?}"),
        }
    }

    /// Checks the frames' offsets: each is its start plus its length, starting at
    /// `start`, and every frame holds 1 to 64 KiB.
    fn assert_offsets_continue_from(&self, start: u64) {
        let mut expected = start;
        for frame in &self.frames {
            assert!(
                (1..=64 * 1024).contains(&frame.data.len()),
                "a data frame holds {} bytes",
                frame.data.len()
            );
            expected += frame.data.len() as u64;
            assert_eq!(frame.offset, expected, "offset just past the frame");
        }
    }
}

/// Reads frames from `stream` until it ends or `limit` data frames have come (the
/// stream is then dropped, as by a client that went away).
async fn collect_at_most(stream: impl Stream<Item = LogStreamResponse>, limit: usize) -> Read {
    let mut stream = std::pin::pin!(stream);
    let mut read = Read {
        frames: Vec::new(),
        bytes: Vec::new(),
        end: None,
    };
    within("the log stream to end", async {
        while read.frames.len() < limit {
            match stream.next().await {
                Some(LogStreamResponse::Data(data)) => {
                    read.bytes.extend_from_slice(&data.data);
                    read.frames.push(data);
                }
                Some(other) => {
                    read.end = Some(other);
                    assert!(
                        stream.next().await.is_none(),
                        "no frame follows the last one"
                    );
                    break;
                }
                None => break,
            }
        }
    })
    .await;
    read
}

async fn collect(stream: impl Stream<Item = LogStreamResponse>) -> Read {
    collect_at_most(stream, usize::MAX).await
}

/// A request to resume `session_id` just past `offset`.
fn resume(session_id: &str, offset: u64) -> LogRequest {
    LogRequest {
        resume_session_id: Some(session_id.to_owned()),
        resume_offset: Some(offset),
        ..LogRequest::default()
    }
}

/// Whether process `pid` is gone (or a zombie, which no longer runs: whether someone
/// reaps an orphan is up to this machine's init).
fn process_is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

fn read_file(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}
