//! Sandboxes as local processes: the stand-in for the platform's runners, used by every
//! agent (`crate::agent`), in the gateway or in an agent process.
//!
//! A sandbox is one command in a private working directory that is also its HOME,
//! holding the files the user mounted, with the environment the user gave, and
//! optionally without any network. How it is kept apart from its host is its
//! [`Isolation`]: a container (the default, see [`container`]), or, when asked for
//! explicitly, a plain child process in its own process group (of the gateway's own
//! environment only PATH is passed on, as a container does not see its host's).
//!
//! - [`launch`] starts a sandbox and hands back a [`SandboxProcess`]: stop it, wait for
//!   it, ask how it ended.
//! - [`exec`] runs a one-off command the same way and returns what it printed.
//! - The sandbox's stdout and stderr become one log on disk (`log_files`), which
//!   [`stream_log`] reads as the NDJSON frames of SPEC §4 "Logs for browsers", while the
//!   sandbox runs or after the gateway has restarted.

mod attach;
mod child;
mod command;
pub mod container;
mod exec;
mod log_files;
mod log_stream;
pub mod open_files;
mod session;
mod supervisor;
mod terminal;
#[cfg(test)]
mod tests;
mod usage;
mod work_dir;

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub use container::{ContainerRuntime, ResourceLimits};
pub use exec::{ExecOutput, ExecTarget, exec};
pub use log_stream::{LogRequest, stream_log};
pub use session::{ExecSession, SessionInput, SessionOutput, SessionRequest, start_session};
pub use supervisor::{ExitOutcome, ExitReason, LaunchSpec, SandboxProcess, launch};
pub use terminal::TerminalSize;
pub use usage::container_usage;

/// How a sandbox is kept apart from the machine it runs on.
#[derive(Clone, Debug)]
pub enum Isolation {
    /// In a container of its own (see [`container`]).
    Container(Arc<ContainerRuntime>),
    /// A plain child process of the gateway, as its user, seeing its files
    /// (`--isolation none`: an explicit opt-out, flagged on every such sandbox).
    None,
}

/// Whether a sandbox may use the network. JSON: `"host"` or `"none"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkIsolation {
    /// The sandbox shares the gateway's network.
    Host,
    /// The sandbox gets a network namespace of its own: in a container, with only its
    /// own loopback; unisolated, an empty one (`unshare --net`) with not even that. Either
    /// way it reaches nothing, the gateway's machine included.
    None,
    /// In a container only: a network namespace of its own with user-mode networking
    /// (slirp4netns), so it reaches out but not this machine's own services, and with an
    /// egress allowlist only the CIDRs on it (rules it cannot change).
    Outbound,
}

/// Whether [`NetworkIsolation::None`] works on this machine: a network namespace needs
/// `unshare` (util-linux) and the privilege to create one. Probed once, since the answer
/// cannot change while the gateway runs; the first call blocks for the few milliseconds
/// `unshare --net true` takes.
pub fn no_network_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        std::process::Command::new(command::UNSHARE)
            .args(["--net", "true"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// Why a sandbox or an exec'd command could not be started. The messages are meant for
/// the user who asked for it.
#[derive(Debug)]
pub enum LaunchError {
    /// The command line names no program.
    EmptyCommand,
    /// No executable file answers to the command: not at the path it gives, nor on the
    /// sandbox's PATH when it is a bare name.
    CommandNotFound { command: String },
    /// A mounted file's path would not land inside the sandbox's directory.
    InvalidMountPath {
        mount_path: String,
        reason: &'static str,
    },
    /// [`NetworkIsolation::None`] was asked for, but this machine cannot provide it
    /// (see [`no_network_available`]).
    NetworkIsolationUnavailable,
    /// [`NetworkIsolation::Outbound`] was asked for a sandbox that is not in a
    /// container, or without user-mode networking here.
    OutboundNetworkUnavailable,
    /// The log directory already holds a sandbox's log; logs are never overwritten, so
    /// that a session id always names the same bytes.
    LogDirectoryInUse { log_dir: PathBuf },
    /// The sandbox's container could not be prepared.
    Container { action: String, source: io::Error },
    /// Preparing the sandbox or starting its process failed in the operating system.
    Io { action: String, source: io::Error },
}

impl LaunchError {
    fn io(action: impl Into<String>) -> impl FnOnce(io::Error) -> LaunchError {
        let action = action.into();
        move |source| LaunchError::Io { action, source }
    }
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::EmptyCommand => f.write_str("the command is empty"),
            LaunchError::CommandNotFound { command } if command.contains('/') => {
                write!(
                    f,
                    "command `{command}` not found: no executable file at that path"
                )
            }
            LaunchError::CommandNotFound { command } => write!(
                f,
                "command `{command}` not found: no executable file of that name on the sandbox's PATH"
            ),
            LaunchError::InvalidMountPath { mount_path, reason } => {
                write!(f, "cannot mount a file at `{mount_path}`: {reason}")
            }
            LaunchError::NetworkIsolationUnavailable => f.write_str(
                "this gateway cannot run commands without network: `unshare --net` does not work \
                 on its machine (it needs util-linux and the privilege to create namespaces)",
            ),
            LaunchError::OutboundNetworkUnavailable => f.write_str(
                "this runner cannot give a sandbox a network of its own with outbound access \
                 (that needs containers and slirp4netns)",
            ),
            LaunchError::LogDirectoryInUse { log_dir } => write!(
                f,
                "the log directory {} already holds a sandbox's log; each sandbox needs its own",
                log_dir.display()
            ),
            LaunchError::Io { action, source } | LaunchError::Container { action, source } => {
                write!(f, "{action}: {source}")
            }
        }
    }
}

impl std::error::Error for LaunchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LaunchError::Io { source, .. } | LaunchError::Container { source, .. } => Some(source),
            _ => None,
        }
    }
}
