//! Running a one-off command in a sandbox's directory and collecting what it prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncRead;
use tokio::process::Command;
use tokio::sync::oneshot;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use super::attach::Attach;
use super::child::{self, Pipe, ProcessGroup, drain_deadline};
use super::command::{container_exec_command, sandbox_command};
use super::{Isolation, LaunchError, NetworkIsolation};

/// How much of each of stdout and stderr an exec keeps (local decision); the rest is
/// counted and dropped, so that a command cannot make the gateway hold unbounded output.
pub const EXEC_OUTPUT_LIMIT: usize = 16 * 1024 * 1024;

/// What an exec'd command printed and how it ended. Its JSON form (output in base64) is
/// what an agent process answers (`crate::agent`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecOutput {
    /// The first [`EXEC_OUTPUT_LIMIT`] bytes of stdout.
    #[serde(with = "sandbox_api::json::base64_bytes")]
    pub stdout: Vec<u8>,
    /// The first [`EXEC_OUTPUT_LIMIT`] bytes of stderr.
    #[serde(with = "sandbox_api::json::base64_bytes")]
    pub stderr: Vec<u8>,
    /// `None` when the command was killed by a signal (as on a timeout).
    pub exit_code: Option<i32>,
    /// The command ran past its timeout and was killed.
    pub timed_out: bool,
    /// How much the command wrote to stdout, kept or not.
    pub stdout_bytes_produced: u64,
    /// How much the command wrote to stderr, kept or not.
    pub stderr_bytes_produced: u64,
}

/// Where an exec runs: beside a host process, or in sandbox `id`'s container.
pub struct ExecTarget<'a> {
    pub id: &'a str,
    pub work_dir: &'a Path,
    pub network: NetworkIsolation,
    pub isolation: &'a Isolation,
}

/// Runs `command` (a program and its arguments, no shell) in the sandbox `target` with
/// `env`, as the sandbox's command runs (see [`super::launch`]), and returns its output
/// once it has ended. Past `timeout` it is killed and the output so far is returned with
/// `timed_out`.
///
/// Beside a host process, whatever the command starts in the background is killed when
/// it ends (local decision). In a container it joins the sandbox's namespaces and
/// cgroup as the sandbox's user; what it leaves running in the background stays in the
/// sandbox, as with `kubectl exec`, and ends with it.
pub async fn exec(
    target: ExecTarget<'_>,
    command: &[String],
    env: &BTreeMap<String, String>,
    timeout: Duration,
) -> Result<ExecOutput, LaunchError> {
    let (program, _) = command.split_first().ok_or(LaunchError::EmptyCommand)?;
    let (command, pid_file) = exec_command(&target, command, env, Attach::Pipes)?;
    let (mut child, group, mut stdout, mut stderr) = child::spawn(command, program)?;
    let contained = pid_file.is_some();
    let kill = || kill_exec(pid_file.as_deref(), &group);

    let (mut kept_stdout, mut kept_stderr) = (Captured::default(), Captured::default());
    let (announce_end, end_announced) = oneshot::channel();
    let capturing = async {
        tokio::select! {
            _ = async { tokio::join!(kept_stdout.read_all(&mut stdout), kept_stderr.read_all(&mut stderr)) } => {}
            () = drain_deadline(end_announced) => {}
        }
    };
    let running = async {
        let ending = match tokio::time::timeout(timeout, child.wait()).await {
            Ok(status) => (status, false),
            Err(_timed_out) => {
                kill();
                (child.wait().await, true)
            }
        };
        if !contained {
            group.kill_remaining();
        }
        // The receiver is gone only if the output is already fully captured.
        let _ = announce_end.send(());
        ending
    };
    let ((), (status, timed_out)) = tokio::join!(capturing, running);
    let status = status.map_err(LaunchError::io(format!("could not wait for `{program}`")))?;
    if let Some(pid_file) = &pid_file {
        let _ = std::fs::remove_file(pid_file);
    }
    let exit_code = match status.code() {
        // As for a container's main process: 128 + N is a kill by signal N.
        Some(code) if contained && timed_out && code > 128 => None,
        code => code,
    };
    Ok(ExecOutput {
        stdout_bytes_produced: kept_stdout.produced,
        stderr_bytes_produced: kept_stderr.produced,
        stdout: kept_stdout.kept,
        stderr: kept_stderr.kept,
        exit_code,
        timed_out,
    })
}

/// The command that runs `command` (not empty) in the sandbox `target` with `env`,
/// attached as `attach`, and in a container the file where runc will write the exec'd
/// process's host pid. Shared by one-shot execs and sessions.
pub(super) fn exec_command(
    target: &ExecTarget<'_>,
    command: &[String],
    env: &BTreeMap<String, String>,
    attach: Attach,
) -> Result<(Command, Option<PathBuf>), LaunchError> {
    let (program, args) = command.split_first().ok_or(LaunchError::EmptyCommand)?;
    let work_dir = std::path::absolute(target.work_dir).map_err(LaunchError::io(format!(
        "could not resolve the working directory {}",
        target.work_dir.display()
    )))?;
    Ok(match target.isolation {
        Isolation::Container(runtime) => {
            let pid_file = runtime.exec_pid_file();
            let command = container_exec_command(
                runtime,
                target.id,
                (program, args),
                env,
                &work_dir,
                &pid_file,
                attach,
            )?;
            (command, Some(pid_file))
        }
        Isolation::None => (
            sandbox_command(program, args, env, &work_dir, target.network, attach)?,
            None,
        ),
    })
}

/// Kills an exec and what it started: in a container the exec'd process (runc exec
/// does not pass SIGKILL on) by the host pid in `pid_file`, and the command's own
/// process group (or session) on the host.
pub(super) fn kill_exec(pid_file: Option<&Path>, group: &ProcessGroup) {
    if let Some(pid) = pid_file
        .and_then(|file| std::fs::read_to_string(file).ok())
        .and_then(|text| text.trim().parse::<i32>().ok())
    {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    group.kill_remaining();
}

/// The start of one output stream, up to [`EXEC_OUTPUT_LIMIT`], and its full length.
#[derive(Default)]
struct Captured {
    kept: Vec<u8>,
    produced: u64,
}

impl Captured {
    async fn read_all<R: AsyncRead + Unpin>(&mut self, pipe: &mut Pipe<R>) {
        while let Some(chunk) = pipe.next_chunk().await {
            self.produced += chunk.len() as u64;
            let room = EXEC_OUTPUT_LIMIT.saturating_sub(self.kept.len());
            self.kept.extend_from_slice(&chunk[..room.min(chunk.len())]);
        }
    }
}
