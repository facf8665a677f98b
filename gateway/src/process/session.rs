//! Interactive execs: a command in a sandbox whose input is streamed to it and whose
//! output is streamed back as it comes, optionally on a terminal (`tty`). What the gRPC
//! `StreamExec` and the console's terminal run; [`super::exec`] is the one-shot form.
//!
//! A session is two channels. Its output channel is bounded: a reader that falls behind
//! stops the reading of the command's output, so the command blocks on its writes
//! rather than the gateway buffering them. Dropping the output receiver ends the session
//! (the command is killed); dropping the input sender closes the command's stdin.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::process::{ChildStderr, ChildStdin, ChildStdout};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::attach::Attach;
use super::child::{DRAIN_AFTER_EXIT, Pipe, ProcessGroup};
use super::exec::{ExecTarget, exec_command, kill_exec};
use super::terminal::{self, TerminalInput, TerminalOutput, TerminalSize};
use super::{Isolation, LaunchError};

/// How many output chunks wait for a slow reader before the command's output is no
/// longer read (local decision: with 64 KiB chunks, at most 1 MiB per session).
const OUTPUT_BACKLOG: usize = 16;

/// `TERM` for a session on a terminal when the caller gives none (local decision, as
/// `docker exec -t` does).
const TERMINAL_TYPE: &str = "xterm-256color";

/// runc starts an exec'd process before it copies our terminal's size into the
/// sandbox's terminal (just after), so a command that reads its size at once would see
/// 0 × 0 (seen with `stty size` typed as the session opened). In a container, a
/// terminal's command therefore first waits, at most a second, for the size to arrive.
/// Without `stty` in the sandbox it does not wait.
const WAIT_FOR_SIZE: &str = r#"i=0; while [ "$(stty size 2>/dev/null)" = "0 0" ] && [ $i -lt 50 ]; do sleep 0.02; i=$((i+1)); done; exec "$@""#;

fn waiting_for_its_size(command: &[String]) -> Vec<String> {
    ["/bin/sh", "-c", WAIT_FOR_SIZE, "sh"]
        .into_iter()
        .map(str::to_owned)
        .chain(command.iter().cloned())
        .collect()
}

/// How many input messages wait for a command that does not read them.
const INPUT_BACKLOG: usize = 16;

/// What a session is asked to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRequest {
    /// The program and its arguments (no shell).
    pub command: Vec<String>,
    /// Set for this command on top of the sandbox's own environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A terminal of this size, or plain pipes.
    pub terminal: Option<TerminalSize>,
    /// Killed past this (the session then ends with `timed_out`); none: it runs as long
    /// as its sandbox and its client.
    pub timeout_seconds: Option<u64>,
}

/// What the client sends to a running session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum SessionInput {
    /// Bytes for the command's stdin (typed input, on a terminal).
    Stdin {
        #[serde(with = "sandbox_api::json::base64_bytes")]
        data: Vec<u8>,
    },
    /// No more input: the command's stdin is closed; on a terminal, end-of-file (^D) is
    /// typed, as a terminal has no other way to say it.
    CloseStdin,
    /// The terminal's new size (ignored without one).
    Resize { size: TerminalSize },
}

/// What a session sends back; [`SessionOutput::Ended`] is always the last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum SessionOutput {
    /// Bytes the command wrote to stdout (or, on a terminal, to the terminal).
    Stdout {
        #[serde(with = "sandbox_api::json::base64_bytes")]
        data: Vec<u8>,
    },
    Stderr {
        #[serde(with = "sandbox_api::json::base64_bytes")]
        data: Vec<u8>,
    },
    /// The command has ended. `exit_code` is `None` when a signal killed it.
    Ended {
        exit_code: Option<i32>,
        timed_out: bool,
    },
}

/// A running session's two ends.
#[derive(Debug)]
pub struct ExecSession {
    pub input: mpsc::Sender<SessionInput>,
    pub output: mpsc::Receiver<SessionOutput>,
}

/// Starts `request` in the sandbox `target` with `env`, as [`super::exec`] runs a
/// command, and hands back its two ends; a task of its own looks after it.
pub fn start_session(
    target: ExecTarget<'_>,
    request: &SessionRequest,
    env: &BTreeMap<String, String>,
) -> Result<ExecSession, LaunchError> {
    let program = request.command.first().ok_or(LaunchError::EmptyCommand)?;
    let attach = match request.terminal {
        Some(_) => Attach::Terminal,
        None => Attach::Pipes,
    };
    let mut env = env.clone();
    if request.terminal.is_some() {
        // What the terminal understands, unless the caller says: programs that draw
        // (less, vi, clear) need it. Every client the gateway has is xterm-like.
        env.entry("TERM".to_owned())
            .or_insert_with(|| TERMINAL_TYPE.to_owned());
    }
    let in_container = matches!(target.isolation, Isolation::Container(_));
    let argv = match attach {
        Attach::Terminal if in_container => waiting_for_its_size(&request.command),
        _ => request.command.clone(),
    };
    let (mut command, pid_file) = exec_command(&target, &argv, &env, attach)?;
    let terminal = match request.terminal {
        Some(size) => {
            let (output, input, follower) = terminal::open(size, in_container)
                .map_err(LaunchError::io("could not open a terminal for the command"))?;
            let stdio = |fd: &OwnedFd| {
                fd.try_clone()
                    .map(Stdio::from)
                    .map_err(LaunchError::io("could not open a terminal for the command"))
            };
            command
                .stdin(stdio(&follower)?)
                .stdout(stdio(&follower)?)
                .stderr(stdio(&follower)?);
            Some((output, input))
        }
        None => {
            command.stdin(Stdio::piped());
            None
        }
    };
    let mut child = command
        .spawn()
        .map_err(LaunchError::io(format!("could not start `{program}`")))?;
    // Dropping the command closes the gateway's copies of the follower side, so that
    // the terminal reports its end once the command's side is closed.
    drop(command);
    let pid = child
        .id()
        .expect("a child that was never waited for has a pid");
    let (streams, input) = match terminal {
        Some((output, input)) => (Streams::Terminal(output), Input::Terminal(input)),
        None => (
            Streams::Pipes {
                stdout: Pipe::new(child.stdout.take().expect("stdout is piped")),
                stderr: Pipe::new(child.stderr.take().expect("stderr is piped")),
            },
            Input::Pipe(child.stdin.take().expect("stdin is piped")),
        ),
    };
    let (input_sender, inputs) = mpsc::channel(INPUT_BACKLOG);
    let (outputs, output_receiver) = mpsc::channel(OUTPUT_BACKLOG);
    let process = Running {
        child,
        group: ProcessGroup::led_by(pid),
        pid_file,
    };
    let deadline = request
        .timeout_seconds
        .map(|seconds| Instant::now() + Duration::from_secs(seconds));
    tokio::spawn(run(process, streams, input, inputs, outputs, deadline));
    Ok(ExecSession {
        input: input_sender,
        output: output_receiver,
    })
}

/// The session's process and how to kill it.
struct Running {
    child: tokio::process::Child,
    /// The command's own group (or session): what it started on the host.
    group: ProcessGroup,
    /// In a container: where runc wrote the exec'd process's host pid.
    pid_file: Option<std::path::PathBuf>,
}

impl Running {
    /// Kills the command and what it started.
    fn kill(&self) {
        kill_exec(self.pid_file.as_deref(), &self.group);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(file) = &self.pid_file {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Where the command's output is read.
enum Streams {
    Pipes {
        stdout: Pipe<ChildStdout>,
        stderr: Pipe<ChildStderr>,
    },
    Terminal(TerminalOutput),
}

impl Streams {
    /// The next chunk of output from whichever stream has one; `None` once all are
    /// closed. Cancel-safe, as its parts are.
    async fn next(&mut self) -> Option<SessionOutput> {
        match self {
            Streams::Terminal(terminal) => terminal
                .next_chunk()
                .await
                .map(|data| SessionOutput::Stdout { data }),
            Streams::Pipes { stdout, stderr } => loop {
                if !stdout.is_open() && !stderr.is_open() {
                    return None;
                }
                tokio::select! {
                    Some(data) = stdout.next_chunk(), if stdout.is_open() => {
                        return Some(SessionOutput::Stdout { data });
                    }
                    Some(data) = stderr.next_chunk(), if stderr.is_open() => {
                        return Some(SessionOutput::Stderr { data });
                    }
                    else => {}
                }
            },
        }
    }
}

/// Where the client's input goes.
enum Input {
    Pipe(ChildStdin),
    Terminal(TerminalInput),
}

/// Passes the client's input on until the client stops sending, which closes a piped
/// stdin. Runs beside the output, so that a command that does not read its input never
/// holds up its output.
async fn pass_input(input: Input, mut inputs: mpsc::Receiver<SessionInput>) {
    let mut stdin = match input {
        Input::Pipe(pipe) => Some(pipe),
        Input::Terminal(mut terminal) => {
            while let Some(message) = inputs.recv().await {
                let written = match message {
                    SessionInput::Stdin { data } => terminal.write_all(&data).await,
                    SessionInput::CloseStdin => terminal.write_all(&[END_OF_FILE]).await,
                    SessionInput::Resize { size } => terminal.resize(size),
                };
                if let Err(error) = written {
                    tracing::debug!(%error, "a terminal session's input was not taken");
                }
            }
            return;
        }
    };
    while let Some(message) = inputs.recv().await {
        match message {
            SessionInput::Stdin { data } => {
                if let Some(pipe) = &mut stdin
                    && pipe.write_all(&data).await.is_err()
                {
                    // The command closed its stdin: the rest of the input has nowhere to go.
                    stdin = None;
                }
            }
            SessionInput::CloseStdin => stdin = None,
            SessionInput::Resize { .. } => {}
        }
    }
}

/// What a terminal's line discipline reads as end-of-file (^D).
const END_OF_FILE: u8 = 0x04;

/// Looks after a session until its command has ended and its output is passed on, or
/// its client has gone (then the command is killed).
async fn run(
    mut process: Running,
    mut streams: Streams,
    input: Input,
    inputs: mpsc::Receiver<SessionInput>,
    outputs: mpsc::Sender<SessionOutput>,
    deadline: Option<Instant>,
) {
    let input_task = tokio::spawn(pass_input(input, inputs));
    let mut streams_open = true;
    let mut exit = None;
    let mut timed_out = false;
    // Once the command has ended, its output is read for a little longer only: what it
    // left running in the background must not hold the session open.
    let mut drain_until: Option<Instant> = None;
    let ended = loop {
        if exit.is_some() && !streams_open {
            break true;
        }
        tokio::select! {
            chunk = streams.next(), if streams_open => match chunk {
                Some(chunk) => {
                    if outputs.send(chunk).await.is_err() {
                        break false;
                    }
                }
                None => streams_open = false,
            },
            status = process.child.wait(), if exit.is_none() => {
                exit = Some(status);
                if process.pid_file.is_none() {
                    process.group.kill_remaining();
                }
                drain_until = Some(Instant::now() + DRAIN_AFTER_EXIT);
            }
            () = sleep_until(deadline), if exit.is_none() && !timed_out => {
                timed_out = true;
                process.kill();
            }
            () = sleep_until(drain_until), if drain_until.is_some() => break true,
            () = outputs.closed() => break false,
        }
    };
    input_task.abort();
    if !ended {
        // The client has gone: so does the command.
        process.kill();
        let _ = process.child.wait().await;
        return;
    }
    let exit_code = match exit {
        Some(Ok(status)) => match status.code() {
            // As for a container's main process: 128 + N is a kill by signal N.
            Some(code) if process.pid_file.is_some() && timed_out && code > 128 => None,
            code => code,
        },
        Some(Err(error)) => {
            tracing::warn!(%error, "could not wait for an exec session's command");
            None
        }
        None => None,
    };
    let _ = outputs
        .send(SessionOutput::Ended {
            exit_code,
            timed_out,
        })
        .await;
}

/// Resolves at `deadline`, or never without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
