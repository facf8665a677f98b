//! Launching a sandbox and looking after it until it ends: its output goes to its log,
//! a stop or its max lifetime ends it (SIGTERM to its process group, SIGKILL after a
//! grace period), and how it ended is kept for anyone who asks.

use std::collections::BTreeMap;
use std::future::pending;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};
use tokio::process::{Child, ChildStderr, ChildStdout};
use tokio::sync::{oneshot, watch};

use super::attach::Attach;
use super::child::{self, Container, Pipe, Signalled, drain_deadline};
use super::command::{ContainerSetup, container_command, sandbox_command};
use super::container::{self, ResourceLimits};
use super::log_files::{LiveLog, LogWriter};
use super::{Isolation, LaunchError, NetworkIsolation, work_dir};

/// The grace period between SIGTERM and SIGKILL when a sandbox outlives its max lifetime
/// (local decision).
const LIFETIME_GRACE: Duration = Duration::from_secs(2);

/// Everything needed to start a sandbox.
#[derive(Clone)]
pub struct LaunchSpec {
    /// The sandbox's ID: its container's name.
    pub id: String,
    pub command: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// A private working directory for this sandbox; created if missing. The process runs
    /// with it as cwd and HOME.
    pub work_dir: PathBuf,
    /// Files written before the command starts: (absolute mount path as the user gave it,
    /// content). Written under `work_dir` with the leading `/` stripped; paths with `..`
    /// are refused.
    pub mounted_files: Vec<(String, Vec<u8>)>,
    pub max_lifetime: Option<Duration>,
    pub network: NetworkIsolation,
    /// Where this sandbox's log lives (created if missing; it must not hold a log yet).
    /// The log outlives the gateway process.
    pub log_dir: PathBuf,
    pub isolation: Isolation,
    /// Enforced in a container; a host process is not limited.
    pub limits: ResourceLimits,
    /// Where its container's bundle is written (unused for a host process).
    pub bundle_dir: PathBuf,
    /// With [`NetworkIsolation::Outbound`], the only CIDRs it may reach, if limited.
    pub egress_allowlist: Option<Vec<String>>,
}

/// How a sandbox ended. Its JSON form is what an agent process answers when asked
/// (`crate::agent`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExitOutcome {
    /// The code the main process exited with, if it exited rather than being killed.
    pub exit_code: Option<i32>,
    /// The signal that killed the main process, if one did.
    pub signal: Option<i32>,
    pub reason: ExitReason,
}

/// What ended a sandbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ExitReason {
    /// Its main process ended by itself (or was killed by something other than the gateway).
    Exited,
    /// [`SandboxProcess::stop`] ended it.
    Stopped,
    /// It ran for its whole max lifetime and was killed.
    LifetimeExceeded { max_lifetime: Duration },
    /// The kernel's out-of-memory killer killed its main process: it used all the memory
    /// its limit allows (Kubernetes says OOMKilled).
    OutOfMemory { limit_bytes: u64 },
}

impl ExitOutcome {
    /// A short sentence for people: "exited with code 3", "stopped by a user", "killed
    /// after its max lifetime of 5s".
    pub fn describe(&self) -> String {
        match self.reason {
            ExitReason::Stopped => "stopped by a user".to_owned(),
            ExitReason::LifetimeExceeded { max_lifetime } => {
                format!("killed after its max lifetime of {max_lifetime:?}")
            }
            ExitReason::OutOfMemory { limit_bytes } => format!(
                "OOMKilled: killed for using all the memory its limit allows ({} MiB)",
                limit_bytes >> 20
            ),
            ExitReason::Exited => match (self.exit_code, self.signal) {
                (Some(code), _) => format!("exited with code {code}"),
                (None, Some(signal)) => format!("killed by signal {}", signal_name(signal)),
                (None, None) => "exited".to_owned(),
            },
        }
    }

    fn new(status: io::Result<ExitStatus>, reason: ExitReason, contained: bool) -> ExitOutcome {
        let status = status
            .inspect_err(|error| tracing::warn!(%error, "could not learn how a sandbox exited"))
            .ok();
        let (exit_code, signal) = match status.and_then(|status| status.code()) {
            // A container's main process killed by signal N is reported as exit status
            // 128 + N (by its init, and by runc when the init itself was killed), as
            // Kubernetes reports it too.
            Some(code) if contained && code > 128 && code < 128 + 65 => (None, Some(code - 128)),
            code => (code, status.and_then(|status| status.signal())),
        };
        ExitOutcome {
            exit_code,
            signal,
            reason,
        }
    }

    /// What a sandbox whose supervisor was dropped (the runtime shut down) is known to
    /// have become: its process group was killed as the supervisor went.
    fn killed_at_shutdown() -> ExitOutcome {
        ExitOutcome {
            exit_code: None,
            signal: Some(Signal::SIGKILL as i32),
            reason: ExitReason::Stopped,
        }
    }
}

fn signal_name(signal: i32) -> String {
    Signal::try_from(signal)
        .map_or_else(|_| signal.to_string(), |signal| signal.as_str().to_owned())
}

/// A launched sandbox. Clones share it.
#[derive(Clone, Debug)]
pub struct SandboxProcess {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    pid: u32,
    /// The grace period of the first stop asked for; `None` until one is.
    stop: watch::Sender<Option<Duration>>,
    outcome: watch::Receiver<Option<ExitOutcome>>,
    log: LiveLog,
}

impl SandboxProcess {
    /// The main process's pid while it runs. `None` once it has exited, since the number
    /// may then be given to another process.
    pub fn pid(&self) -> Option<u32> {
        self.outcome().is_none().then_some(self.shared.pid)
    }

    /// Asks the sandbox to stop: SIGTERM to its process group, then SIGKILL if its main
    /// process is still there after `grace`. Only the first call counts; a call after
    /// the sandbox has ended does nothing.
    pub fn stop(&self, grace: Duration) {
        self.shared.stop.send_if_modified(|request| {
            let first = request.is_none();
            if first {
                *request = Some(grace);
            }
            first
        });
    }

    /// Resolves when the sandbox has ended and all its output is in its log.
    pub async fn wait(&self) -> ExitOutcome {
        let mut outcome = self.shared.outcome.clone();
        loop {
            if let Some(outcome) = outcome.borrow_and_update().clone() {
                return outcome;
            }
            if outcome.changed().await.is_err() {
                return ExitOutcome::killed_at_shutdown();
            }
        }
    }

    /// How the sandbox ended, or `None` while it runs.
    pub fn outcome(&self) -> Option<ExitOutcome> {
        self.shared.outcome.borrow().clone()
    }

    /// Follows the growth of the sandbox's log.
    pub(super) fn live_log(&self) -> LiveLog {
        self.shared.log.clone()
    }
}

/// Starts a sandbox: prepares its directory and files, creates its log, starts its
/// command, and leaves a task looking after it.
pub async fn launch(spec: LaunchSpec) -> Result<SandboxProcess, LaunchError> {
    let work_dir = std::path::absolute(&spec.work_dir).map_err(LaunchError::io(format!(
        "could not resolve the working directory {}",
        spec.work_dir.display()
    )))?;
    // Files first: the command may be one of them.
    work_dir::prepare(&work_dir, &spec.mounted_files).await?;
    let command = match &spec.isolation {
        Isolation::None => sandbox_command(
            &spec.command,
            &spec.args,
            &spec.env,
            &work_dir,
            spec.network,
            Attach::Pipes,
        )?,
        Isolation::Container(runtime) => container_command(
            ContainerSetup {
                runtime,
                id: &spec.id,
                network: spec.network,
                limits: spec.limits,
                allowlist: spec.egress_allowlist.as_deref(),
                bundle_dir: &std::path::absolute(&spec.bundle_dir)
                    .map_err(LaunchError::io("could not resolve the bundle directory"))?,
            },
            &spec.command,
            &spec.args,
            &spec.env,
            &work_dir,
        )?,
    };
    // A handful of small file operations: not worth a trip to the blocking pool.
    let log = LogWriter::create(&spec.log_dir, spec.limits.log_bytes)?;
    let (mut child, group, stdout, stderr) = child::spawn(command, &spec.command)?;
    let mut pid = group.leader_pid();
    if matches!(spec.isolation, Isolation::Container(_)) {
        // runc's errors, if it fails, go to the log like the sandbox's own output.
        pid = container::started(&spec.bundle_dir, &mut child)
            .await
            .unwrap_or(pid);
    }
    let signalled = match &spec.isolation {
        Isolation::None => Signalled::Group(group),
        Isolation::Container(runtime) => Signalled::Container(Container::new(
            runtime.clone(),
            spec.id.clone(),
            spec.bundle_dir.clone(),
            group,
        )),
    };

    let (stop, stop_requests) = watch::channel(None);
    let (outcome_sender, outcome) = watch::channel(None);
    let shared = Shared {
        pid,
        stop,
        outcome,
        log: log.live(),
    };
    tokio::spawn(supervise(
        Supervised {
            child,
            signalled,
            stdout,
            stderr,
            log,
        },
        Limits {
            stop_requests,
            max_lifetime: spec.max_lifetime,
            memory_bytes: spec.limits.memory_bytes,
        },
        outcome_sender,
    ));
    Ok(SandboxProcess {
        shared: Arc::new(shared),
    })
}

/// A started sandbox as its supervisor holds it.
struct Supervised {
    child: Child,
    signalled: Signalled,
    stdout: Pipe<ChildStdout>,
    stderr: Pipe<ChildStderr>,
    log: LogWriter,
}

/// What can end a sandbox before its main process exits by itself.
struct Limits {
    stop_requests: watch::Receiver<Option<Duration>>,
    max_lifetime: Option<Duration>,
    /// For the reason given when the out-of-memory killer ends the sandbox.
    memory_bytes: u64,
}

/// Records the sandbox's output while waiting for it to end, then publishes how it
/// ended: only once its output is all in the log, so that whoever sees the outcome can
/// read the whole log.
async fn supervise(
    sandbox: Supervised,
    limits: Limits,
    outcome: watch::Sender<Option<ExitOutcome>>,
) {
    let Supervised {
        mut child,
        mut signalled,
        stdout,
        stderr,
        mut log,
    } = sandbox;
    let contained = matches!(signalled, Signalled::Container(_));
    let memory_bytes = limits.memory_bytes;
    let (announce_end, end_announced) = oneshot::channel();
    let recording = async {
        record_output(stdout, stderr, &mut log, drain_deadline(end_announced)).await;
        log.finish();
    };
    let running = async {
        let ending = run_until_ended(&mut child, &signalled, limits).await;
        signalled.kill_remaining();
        // The receiver is gone only if the output is already fully recorded.
        let _ = announce_end.send(());
        ending
    };
    let ((), (status, reason)) = tokio::join!(recording, running);
    let oom_killed = signalled.finish().await;
    let mut ended_as = ExitOutcome::new(status, reason, contained);
    if oom_killed
        && ended_as.reason == ExitReason::Exited
        && ended_as.signal == Some(Signal::SIGKILL as i32)
    {
        ended_as.reason = ExitReason::OutOfMemory {
            limit_bytes: memory_bytes,
        };
    }
    tracing::debug!(outcome = ended_as.describe(), "sandbox ended");
    outcome.send_replace(Some(ended_as));
}

/// Appends both output pipes to the log, chunk by chunk in the order the chunks arrive,
/// until both are closed or `deadline` passes.
async fn record_output(
    mut stdout: Pipe<ChildStdout>,
    mut stderr: Pipe<ChildStderr>,
    log: &mut LogWriter,
    deadline: impl Future<Output = ()>,
) {
    let mut deadline = std::pin::pin!(deadline);
    loop {
        let chunk = tokio::select! {
            chunk = stdout.next_chunk(), if stdout.is_open() => chunk,
            chunk = stderr.next_chunk(), if stderr.is_open() => chunk,
            () = &mut deadline => return,
            else => return,
        };
        if let Some(chunk) = chunk {
            log.append(chunk).await;
        }
    }
}

/// Waits for the main process to exit by itself, or ends it when a stop is asked for or
/// its max lifetime runs out, whichever comes first.
async fn run_until_ended(
    child: &mut Child,
    signalled: &Signalled,
    limits: Limits,
) -> (io::Result<ExitStatus>, ExitReason) {
    let lifetime_over = async {
        match limits.max_lifetime {
            Some(max_lifetime) => {
                tokio::time::sleep(max_lifetime).await;
                max_lifetime
            }
            None => pending().await,
        }
    };
    let (grace, reason) = tokio::select! {
        status = child.wait() => return (status, ExitReason::Exited),
        grace = stop_requested(limits.stop_requests) => (grace, ExitReason::Stopped),
        max_lifetime = lifetime_over => (LIFETIME_GRACE, ExitReason::LifetimeExceeded { max_lifetime }),
    };
    (terminate(child, signalled, grace).await, reason)
}

/// Resolves with the grace period of the first stop asked for; never, once every handle
/// is gone, since then nobody can ask any more.
async fn stop_requested(mut requests: watch::Receiver<Option<Duration>>) -> Duration {
    loop {
        if let Some(grace) = *requests.borrow_and_update() {
            return grace;
        }
        if requests.changed().await.is_err() {
            return pending().await;
        }
    }
}

/// SIGTERM to the whole group, then SIGKILL if the main process is still there after
/// `grace`.
async fn terminate(
    child: &mut Child,
    signalled: &Signalled,
    grace: Duration,
) -> io::Result<ExitStatus> {
    signalled.signal(Signal::SIGTERM).await;
    match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status,
        Err(_grace_over) => {
            signalled.signal(Signal::SIGKILL).await;
            child.wait().await
        }
    }
}
