//! How every sandbox command is set up, the same for [`super::launch`] and
//! [`super::exec`]: which program, which environment, which directory, which network.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use super::{LaunchError, NetworkIsolation, no_network_available};

/// The util-linux tool that starts a program in new namespaces.
pub(super) const UNSHARE: &str = "unshare";

/// The PATH a sandbox gets when neither the user nor the gateway's own environment gives
/// one (local decision: Debian's default for ordinary users).
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// A command ready to spawn: `program args…` in `work_dir` (its cwd and HOME) with only
/// PATH, HOME and `env` in its environment (`env` wins over the first two), stdin empty,
/// stdout and stderr piped, in a process group of its own so that it can be signalled
/// with everything it starts, and behind `unshare --net` when it must have no network.
///
/// `work_dir` must be absolute: it becomes HOME.
pub(super) fn sandbox_command(
    program: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
    work_dir: &Path,
    network: NetworkIsolation,
) -> Result<Command, LaunchError> {
    let path = sandbox_path(env);
    let program = resolve_program(program, &path, work_dir)?;
    let mut command = match network {
        NetworkIsolation::Host => Command::new(&program),
        NetworkIsolation::None => {
            if !no_network_available() {
                return Err(LaunchError::NetworkIsolationUnavailable);
            }
            // `unshare` execs the program once the namespace exists, so the sandbox's
            // pid and process group stay those of the program itself.
            let mut command = Command::new(UNSHARE);
            command.arg("--net").arg("--").arg(&program);
            command
        }
    };
    command
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", work_dir)
        .envs(env)
        .current_dir(work_dir)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Ok(command)
}

/// The PATH the sandbox will see: the user's, else the gateway's, else [`DEFAULT_PATH`].
fn sandbox_path(env: &BTreeMap<String, String>) -> OsString {
    match env.get("PATH") {
        Some(path) => path.into(),
        None => std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into()),
    }
}

/// Finds the executable a command names, as a shell would: a name with a `/` is a path
/// (relative ones from the working directory), any other name is looked up on `path`.
/// Resolving here rather than leaving it to `exec` lets a missing command be reported as
/// such even when it would have been started by `unshare`, whose own failure is only an
/// exit code.
fn resolve_program(program: &str, path: &OsStr, work_dir: &Path) -> Result<PathBuf, LaunchError> {
    if program.is_empty() {
        return Err(LaunchError::EmptyCommand);
    }
    let found = if program.contains('/') {
        Some(work_dir.join(program)).filter(|candidate| is_executable_file(candidate))
    } else {
        std::env::split_paths(path)
            .map(|dir| work_dir.join(dir).join(program))
            .find(|candidate| is_executable_file(candidate))
    };
    found.ok_or_else(|| LaunchError::CommandNotFound {
        command: program.to_owned(),
    })
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}
