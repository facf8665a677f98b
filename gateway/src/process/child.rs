//! A started sandbox command: what a stop signals (its process group, or its container),
//! and its output pipes, which are read in bounded chunks.

use std::mem;
use std::sync::Arc;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::sync::oneshot;

use super::LaunchError;
use super::container::ContainerRuntime;

/// The most bytes read from a pipe at once, and so the largest chunk of output anything
/// downstream holds in memory (local decision: the size of a Linux pipe's buffer).
pub(super) const CHUNK_LIMIT: usize = 64 * 1024;

/// How long output is still read after a command has ended and its process group was
/// killed (local decision). Only a process that left the group (`setsid`) can still hold
/// the pipes open by then, and it does not get to keep anyone waiting for the output.
pub(super) const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// Starts `command` (built by [`super::command::sandbox_command`]) and hands back its
/// output pipes and its process group. `name` is what the user called the command.
pub(super) fn spawn(
    mut command: Command,
    name: &str,
) -> Result<(Child, ProcessGroup, Pipe<ChildStdout>, Pipe<ChildStderr>), LaunchError> {
    let mut child = command
        .spawn()
        .map_err(LaunchError::io(format!("could not start `{name}`")))?;
    // tokio knows the pid until the child has been waited for, which nothing has done yet.
    let pid = child
        .id()
        .expect("a child that was never waited for has a pid");
    // The command was set up with piped stdout and stderr, so both pipes are there.
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    Ok((
        child,
        ProcessGroup::led_by(pid),
        Pipe::new(stdout),
        Pipe::new(stderr),
    ))
}

/// The process group a sandbox command leads (it was started with `process_group(0)`):
/// the command and everything it starts, unless something leaves with `setsid`.
///
/// Dropping it kills the group, so that no sandbox process outlives the code that looks
/// after it, even when that code is cancelled (an HTTP client goes away, the runtime shuts
/// down). After a normal end the group is already gone and the kill finds nothing.
#[derive(Debug)]
pub(super) struct ProcessGroup {
    id: Pid,
}

impl ProcessGroup {
    pub(super) fn led_by(pid: u32) -> ProcessGroup {
        // Linux pids are at most 2^22, so the conversion to pid_t is lossless.
        ProcessGroup {
            id: Pid::from_raw(pid as i32),
        }
    }

    pub(super) fn leader_pid(&self) -> u32 {
        self.id.as_raw().unsigned_abs()
    }

    /// Sends `signal` to every process of the group. A group with no process left is not
    /// an error: a stop can race with the command's own exit.
    pub(super) fn signal(&self, signal: Signal) {
        match killpg(self.id, signal) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(error) => tracing::warn!(
                process_group = %self.id,
                %signal,
                %error,
                "could not signal a sandbox's process group"
            ),
        }
    }

    /// Kills what is left of the group once its leader has exited: a sandbox ends with
    /// its main process, as a container does, and processes it left behind would
    /// otherwise keep running and keep its output pipes open. (The leader's pid, which
    /// is the group's id, cannot be reused while any member of the group remains.)
    pub(super) fn kill_remaining(&self) {
        self.signal(Signal::SIGKILL);
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
    }
}

/// What a stop of a sandbox signals.
#[derive(Debug)]
pub(super) enum Signalled {
    /// A host process and what it started.
    Group(ProcessGroup),
    /// A container, through its init.
    Container(Container),
}

impl Signalled {
    /// Sends `signal` to the sandbox's processes (a container's init passes SIGTERM on
    /// to the sandbox's process group).
    pub(super) async fn signal(&self, signal: Signal) {
        match self {
            Signalled::Group(group) => group.signal(signal),
            Signalled::Container(container) => {
                container.runtime.signal(&container.id, signal).await
            }
        }
    }

    /// Kills whatever is left once the main process has exited. (In a container nothing
    /// is: its processes end with its init.)
    pub(super) fn kill_remaining(&self) {
        if let Signalled::Group(group) = self {
            group.kill_remaining();
        }
    }

    /// Cleans up after the end; whether the out-of-memory killer killed any of the
    /// sandbox's processes (known for containers only).
    pub(super) async fn finish(&mut self) -> bool {
        match self {
            Signalled::Group(_) => false,
            Signalled::Container(container) => {
                container.finished = true;
                container
                    .runtime
                    .finish(&container.id, &container.bundle)
                    .await
            }
        }
    }
}

/// A sandbox's container. Dropping it before [`Signalled::finish`] (the runtime shuts
/// down) kills and deletes it, so that no container outlives the code looking after it.
#[derive(Debug)]
pub(super) struct Container {
    pub(super) runtime: Arc<ContainerRuntime>,
    pub(super) id: String,
    bundle: std::path::PathBuf,
    finished: bool,
    /// `runc run`'s own group, killed (if still there) after the container on a drop.
    _runc: ProcessGroup,
}

impl Container {
    pub(super) fn new(
        runtime: Arc<ContainerRuntime>,
        id: String,
        bundle: std::path::PathBuf,
        runc: ProcessGroup,
    ) -> Container {
        Container {
            runtime,
            id,
            bundle,
            finished: false,
            _runc: runc,
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if !self.finished {
            self.runtime.delete_now(&self.id, &self.bundle);
        }
    }
}

/// One output pipe of a command, read a chunk at a time.
#[derive(Debug)]
pub(super) struct Pipe<R> {
    /// `None` once the pipe is closed.
    reader: Option<R>,
    buffer: Vec<u8>,
}

impl<R: AsyncRead + Unpin> Pipe<R> {
    pub(super) fn new(reader: R) -> Pipe<R> {
        Pipe {
            reader: Some(reader),
            buffer: Vec::with_capacity(CHUNK_LIMIT),
        }
    }

    pub(super) fn is_open(&self) -> bool {
        self.reader.is_some()
    }

    /// The next bytes written to the pipe, at most [`CHUNK_LIMIT`] of them, or `None` once
    /// every writer has closed it. A read error (which a pipe does not produce in
    /// practice) closes it too: there is nothing better to do with the rest.
    ///
    /// Cancel-safe: a read that is cancelled has taken nothing from the pipe.
    pub(super) async fn next_chunk(&mut self) -> Option<Vec<u8>> {
        let reader = self.reader.as_mut()?;
        match reader.read_buf(&mut self.buffer).await {
            Ok(0) => {}
            Ok(_) => return Some(self.take_chunk()),
            Err(error) => tracing::warn!(%error, "reading a sandbox command's output failed"),
        }
        self.reader = None;
        None
    }

    /// Hands out the bytes read so far, leaving an empty buffer for the next read.
    fn take_chunk(&mut self) -> Vec<u8> {
        mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_LIMIT))
    }
}

/// Resolves [`DRAIN_AFTER_EXIT`] after `ended` fires (or is dropped): the moment to stop
/// reading the output of a command that has ended.
pub(super) async fn drain_deadline(ended: oneshot::Receiver<()>) {
    // A dropped sender means the same as a sent signal: the command is over.
    let _ = ended.await;
    tokio::time::sleep(DRAIN_AFTER_EXIT).await;
}
