//! How every sandbox command is set up, the same for [`super::launch`] and
//! [`super::exec`]: which program, which environment, which directory, which network,
//! as a host process or in the sandbox's container.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use super::attach::Attach;
use super::container::{ContainerRuntime, ResourceLimits, bundle, give_to, sandbox_uid};
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
    attach: Attach,
) -> Result<Command, LaunchError> {
    let path = sandbox_path(env);
    let program = resolve_program(program, &path, work_dir)?;
    let mut argv: Vec<OsString> = Vec::new();
    match network {
        NetworkIsolation::Host => {}
        NetworkIsolation::Outbound => return Err(LaunchError::OutboundNetworkUnavailable),
        NetworkIsolation::None => {
            if !no_network_available() {
                return Err(LaunchError::NetworkIsolationUnavailable);
            }
            // `unshare` execs the program once the namespace exists, so the sandbox's
            // pid and process group stay those of the program itself.
            argv.extend([UNSHARE.into(), "--net".into(), "--".into()]);
        }
    }
    argv.push(program.into());
    let mut command = attach.command(argv);
    command
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", work_dir)
        .envs(env)
        .current_dir(work_dir)
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

/// What a sandbox's container is made of, besides the command.
pub(super) struct ContainerSetup<'a> {
    pub runtime: &'a ContainerRuntime,
    pub id: &'a str,
    pub network: NetworkIsolation,
    pub limits: ResourceLimits,
    /// With [`NetworkIsolation::Outbound`]: the only CIDRs it may reach, if limited.
    pub allowlist: Option<&'a [String]>,
    pub bundle_dir: &'a Path,
}

/// A sandbox's container, ready to run `program args…` as the sandbox's user in its
/// working directory (mounted at `/work`, its cwd and HOME) with PATH, HOME and `env`,
/// under the runtime's init: its bundle written under `bundle_dir`, the working
/// directory handed to the sandbox's user, and the `runc run` command that starts it.
pub(super) fn container_command(
    setup: ContainerSetup<'_>,
    program: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
    work_dir: &Path,
) -> Result<Command, LaunchError> {
    let ContainerSetup {
        runtime,
        id,
        network,
        limits,
        allowlist,
        bundle_dir,
    } = setup;
    let user_mode_network = match network {
        NetworkIsolation::Outbound => Some(bundle::UserModeNetwork {
            tools: runtime
                .network_tools()
                .ok_or(LaunchError::OutboundNetworkUnavailable)?,
            slirp_pid_file: super::container::slirp_pid_file(bundle_dir),
            allowlist,
        }),
        _ => None,
    };
    let program = resolve_in_container(program, env, work_dir)?;
    let uid = sandbox_uid(id);
    let failed = |action: &str| {
        let action = action.to_owned();
        move |source| LaunchError::Container { action, source }
    };
    give_to(work_dir, uid).map_err(failed(
        "could not hand the working directory to the sandbox's user",
    ))?;
    let mut argv = vec![
        runtime.init().display().to_string(),
        // The init passes signals on to the sandbox's whole process group.
        "-g".to_owned(),
        "--".to_owned(),
        // The init's own warnings (about signals runc passes on after the sandbox's
        // process has ended) would land in the sandbox's log: silenced, and the setting
        // kept out of the sandbox's environment.
        "/usr/bin/env".to_owned(),
        "-u".to_owned(),
        INIT_QUIET.0.to_owned(),
        program,
    ];
    argv.extend(args.iter().cloned());
    let mut env_pairs = container_env(env);
    env_pairs.push(format!("{}={}", INIT_QUIET.0, INIT_QUIET.1));
    let process = bundle::ContainerProcess {
        argv,
        env: env_pairs,
        uid,
        network,
        limits,
        work_dir,
        data_dir: runtime.data_dir(),
        cgroup: super::container::cgroup_path(id),
        user_mode_network,
        open_files: super::open_files::for_a_sandbox(),
    };
    bundle::write(bundle_dir, &process)
        .map_err(failed("could not write the sandbox's container bundle"))?;
    Ok(runtime.run(id, bundle_dir))
}

/// `runc exec` of `program args…` in sandbox `id`'s running container, as its user.
pub(super) fn container_exec_command(
    runtime: &ContainerRuntime,
    id: &str,
    (program, args): (&str, &[String]),
    env: &BTreeMap<String, String>,
    work_dir: &Path,
    pid_file: &Path,
    attach: Attach,
) -> Result<Command, LaunchError> {
    let mut argv = vec![resolve_in_container(program, env, work_dir)?];
    argv.extend(args.iter().cloned());
    Ok(runtime.exec(
        id,
        sandbox_uid(id),
        &container_env(env),
        &argv,
        pid_file,
        attach,
    ))
}

/// The init's setting that keeps its warnings out of the sandbox's log.
const INIT_QUIET: (&str, &str) = ("TINI_VERBOSITY", "0");

/// A container's environment: PATH (the user's, else [`DEFAULT_PATH`]: the gateway's
/// own PATH may name directories the sandbox does not have), HOME, then the user's.
fn container_env(env: &BTreeMap<String, String>) -> Vec<String> {
    let mut pairs = vec![
        format!(
            "PATH={}",
            env.get("PATH").map_or(DEFAULT_PATH, String::as_str)
        ),
        format!("HOME={}", bundle::WORK_DIR),
    ];
    pairs.extend(
        env.iter()
            .filter(|(key, _)| key.as_str() != "PATH")
            .map(|(key, value)| format!("{key}={value}")),
    );
    pairs
}

/// The path inside the container of the executable a command names, found as a shell
/// in the container would: only in what the container sees (its working directory and
/// the host's system directories).
fn resolve_in_container(
    program: &str,
    env: &BTreeMap<String, String>,
    work_dir: &Path,
) -> Result<String, LaunchError> {
    if program.is_empty() {
        return Err(LaunchError::EmptyCommand);
    }
    let on_host = |inside: &Path| -> Option<PathBuf> {
        if let Ok(rest) = inside.strip_prefix(bundle::WORK_DIR) {
            return Some(work_dir.join(rest));
        }
        bundle::SYSTEM_DIRS
            .iter()
            .any(|dir| inside.starts_with(dir))
            .then(|| inside.to_owned())
    };
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![Path::new(bundle::WORK_DIR).join(program)]
    } else {
        let path = env.get("PATH").map_or(DEFAULT_PATH, String::as_str);
        std::env::split_paths(path)
            .map(|dir| Path::new(bundle::WORK_DIR).join(dir).join(program))
            .collect()
    };
    candidates
        .into_iter()
        .find(|inside| on_host(inside).is_some_and(|host| is_executable_file(&host)))
        .map(|inside| inside.display().to_string())
        .ok_or_else(|| LaunchError::CommandNotFound {
            command: program.to_owned(),
        })
}
