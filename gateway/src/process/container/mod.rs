//! Sandboxes in containers, the way Kubernetes runs pods: each sandbox is an OCI
//! container run by `runc` (one bundle per sandbox, the runtime's state under the data
//! directory), with `tini` as its init so that a stop's SIGTERM reaches the sandbox's
//! processes and orphans are reaped. What a container sees and may do is in
//! [`bundle`]; how its memory cgroup reports the out-of-memory killer in [`cgroup`].
//!
//! A container's processes live in their own pid namespace: when its init ends, the
//! kernel kills every other process in it, whatever they did (`setsid`, double forks,
//! `nohup`), so nothing outlives a sandbox.

pub mod bundle;
mod cgroup;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio::process::Command;

use super::attach::{Attach, SETSID};

/// What a sandbox may use. Every sandbox has each of them (see the operations for where
/// they come from).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceLimits {
    pub memory_bytes: u64,
    pub cpu_millicores: u64,
    /// Processes and threads at once.
    pub processes: u64,
    /// Bytes of output the sandbox's log keeps; the rest is dropped, which the log says.
    pub log_bytes: u64,
}

/// Parent cgroup of every sandbox, relative to the gateway's (or agent's) own cgroup.
const CGROUP_PARENT: &str = "sandbox-gateway";

/// Where a sandbox user's uid starts (local decision): far above the uids people and
/// system services get, so that a sandbox never shares its uid with anything on the
/// machine. Each sandbox gets its own uid in the range (from its ID), and its group is
/// the same number.
const SANDBOX_UID_BASE: u32 = 1_000_000_000;
const SANDBOX_UID_RANGE: u32 = 1_000_000_000;

/// The init each container runs first (Debian's `tini`): it forwards signals to the
/// sandbox's process group and reaps orphans, as a pod's pause and init do.
const INIT_CANDIDATES: &[&str] = &["/usr/bin/tini", "/usr/bin/tini-static", "/sbin/tini"];

/// Where execs' pid files go, under the data directory.
const EXEC_PID_DIR: &str = "runtime-exec";

/// How long one `runc` management command (kill, delete, list) may take.
const RUNC_TIMEOUT: Duration = Duration::from_secs(10);

/// The container runtime of one data directory. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct ContainerRuntime {
    runc: PathBuf,
    init: PathBuf,
    /// What user-mode networking needs, when this machine has all of it.
    network_tools: Option<bundle::NetworkTools>,
    /// `runc --root`: the runtime's state of this data directory's containers only.
    state_root: PathBuf,
    data_dir: PathBuf,
}

impl ContainerRuntime {
    /// Sets up the runtime for `data_dir` and proves it works by running a container.
    /// Containers an earlier run of this data directory left behind (the gateway or
    /// agent was killed) are killed and deleted first. The error says, for people, why
    /// sandboxes cannot be isolated here.
    ///
    /// `runc` is the runtime's binary: the one given, else `runc` on PATH.
    pub async fn start(
        data_dir: &Path,
        runc: Option<&Path>,
    ) -> Result<Arc<ContainerRuntime>, String> {
        let data_dir = std::path::absolute(data_dir).map_err(|e| e.to_string())?;
        let runc = match runc {
            Some(path) if path.is_file() => path.to_owned(),
            Some(path) => return Err(format!("there is no runc at {}", path.display())),
            None => find_on_path("runc").ok_or(
                "`runc` is not installed (scripts/bootstrap installs Debian's runc package)",
            )?,
        };
        let init = INIT_CANDIDATES
            .iter()
            .map(PathBuf::from)
            .find(|path| path.is_file())
            .ok_or("`tini` is not installed (scripts/bootstrap installs Debian's tini package)")?;
        if !nix::unistd::geteuid().is_root() {
            return Err(
                "containers need root here (runc without rootless support); run the gateway as \
                 root, or pass --isolation none to run sandboxes unisolated"
                    .into(),
            );
        }
        let state_root = data_dir.join("runtime");
        for dir in [state_root.clone(), data_dir.join(EXEC_PID_DIR)] {
            create_private_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        let network_tools = match (
            find_on_path("slirp4netns"),
            find_on_path("nsenter"),
            find_on_path("iptables"),
        ) {
            (Some(slirp4netns), Some(nsenter), Some(iptables)) => Some(bundle::NetworkTools {
                slirp4netns,
                nsenter,
                iptables,
            }),
            _ => {
                tracing::warn!(
                    "no slirp4netns, nsenter or iptables: sandboxes with outbound egress keep the \
                     host's network (scripts/bootstrap installs them)"
                );
                None
            }
        };
        let runtime = Arc::new(ContainerRuntime {
            runc,
            init,
            network_tools,
            state_root,
            data_dir,
        });
        let removed = runtime.remove_leftovers().await;
        if removed > 0 {
            tracing::warn!(removed, "killed containers left from an earlier run");
        }
        runtime.trial().await?;
        Ok(runtime)
    }

    /// The init every container runs first.
    pub fn init(&self) -> &Path {
        &self.init
    }

    /// The tools user-mode networking needs, if this machine has them.
    pub fn network_tools(&self) -> Option<&bundle::NetworkTools> {
        self.network_tools.as_ref()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn runc(&self) -> Command {
        let mut command = Command::new(&self.runc);
        command
            .arg("--root")
            .arg(&self.state_root)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// `runc run` of the bundle at `bundle`, in the foreground: the container's stdout
    /// and stderr are the command's. `--keep` leaves the container (and its cgroup) for
    /// [`ContainerRuntime::finish`] to read how it ended. Once the container's process
    /// has started, its host pid is in [`pid_file`]`(bundle)`.
    pub fn run(&self, id: &str, bundle: &Path) -> Command {
        let mut command = self.runc();
        command
            .args(["run", "--keep", "--pid-file"])
            .arg(pid_file(bundle))
            .arg("--bundle")
            .arg(bundle)
            .arg(id)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // `runc run` passes the signals it gets on to the container: its own group
            // keeps it from the gateway's terminal's.
            .process_group(0)
            .kill_on_drop(false);
        command
    }

    /// `runc exec` of `argv` in the running container `id`, as `uid` in the sandbox's
    /// working directory with `env`; the exec'd process's host pid goes to `pid_file`.
    pub(super) fn exec(
        &self,
        id: &str,
        uid: u32,
        env: &[String],
        argv: &[String],
        pid_file: &Path,
        attach: Attach,
    ) -> Command {
        let mut command = match attach {
            Attach::Pipes => {
                let mut command = self.runc();
                command.process_group(0);
                command
            }
            // runc makes a terminal in the container and copies between it and its
            // own stdin and stdout, the caller's terminal, which it sets to raw mode;
            // a resize of that terminal reaches runc as SIGWINCH, which it passes on.
            Attach::Terminal => {
                let mut command = Command::new(SETSID);
                command
                    .arg("--ctty")
                    .arg(&self.runc)
                    .arg("--root")
                    .arg(&self.state_root)
                    .kill_on_drop(true);
                command
            }
        };
        command.arg("exec");
        if attach == Attach::Terminal {
            command.arg("--tty");
        }
        command
            .arg("--user")
            .arg(format!("{uid}:{uid}"))
            .arg("--cwd")
            .arg(bundle::WORK_DIR)
            .arg("--pid-file")
            .arg(pid_file);
        for pair in env {
            command.arg("--env").arg(pair);
        }
        command
            .arg(id)
            .args(argv)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(false);
        command
    }

    /// A fresh path for an exec's pid file (runc writes it as root).
    pub fn exec_pid_file(&self) -> PathBuf {
        self.data_dir
            .join(EXEC_PID_DIR)
            .join(format!("{}.pid", uuid::Uuid::new_v4().simple()))
    }

    /// Sends `signal` to the container's init (which passes SIGTERM on to the sandbox's
    /// process group; SIGKILL ends the container). A container that has already ended is
    /// not an error.
    pub async fn signal(&self, id: &str, signal: Signal) {
        let mut command = self.runc();
        command.arg("kill").arg(id).arg(signal.as_str());
        let _ = quietly(command).await;
    }

    /// Once the container's init has ended: whether the out-of-memory killer killed any
    /// of its processes, read before the container and its cgroup are deleted; its
    /// user-mode network (in `bundle`) ends too.
    pub async fn finish(&self, id: &str, bundle: &Path) -> bool {
        let oom_killed =
            cgroup::memory_dir(&cgroup_path(id)).is_some_and(|dir| cgroup::oom_kills(&dir) > 0);
        self.delete(id).await;
        stop_network(bundle);
        oom_killed
    }

    /// Kills the container if it still runs and deletes it.
    pub async fn delete(&self, id: &str) {
        let mut command = self.runc();
        command.args(["delete", "--force"]).arg(id);
        let _ = quietly(command).await;
    }

    /// The same as [`ContainerRuntime::delete`] and ending its network, for code that
    /// cannot wait (a drop).
    pub fn delete_now(&self, id: &str, bundle: &Path) {
        stop_network(bundle);
        let _ = std::process::Command::new(&self.runc)
            .arg("--root")
            .arg(&self.state_root)
            .args(["delete", "--force", id])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Kills and deletes every container of this data directory, and their networks;
    /// how many there were.
    pub async fn remove_leftovers(&self) -> usize {
        let mut command = self.runc();
        command.args(["list", "--format", "json"]);
        let Ok(listed) = quietly(command).await else {
            return 0;
        };
        // `null` when there are none.
        let containers: Vec<serde_json::Value> = serde_json::from_slice(&listed)
            .ok()
            .flatten()
            .unwrap_or_default();
        for container in &containers {
            let id = container["id"].as_str().unwrap_or_default();
            self.delete(id).await;
            if let Some(bundle) = container["bundle"].as_str() {
                stop_network(Path::new(bundle));
            }
        }
        containers.len()
    }

    /// Runs `true` in a container: the proof that containers work on this machine.
    async fn trial(&self) -> Result<(), String> {
        let id = format!("probe-{}", std::process::id());
        let dir = self.data_dir.join("runtime-probe");
        let work = dir.join("work");
        let uid = sandbox_uid(&id);
        create_private_dir(&work)
            .and_then(|()| give_to(&work, uid))
            .map_err(|e| format!("creating {}: {e}", work.display()))?;
        let program = ["/usr/bin/true", "/bin/true"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .ok_or("no `true` program in /usr/bin or /bin")?;
        let process = bundle::ContainerProcess {
            argv: vec![program.to_owned()],
            env: vec!["PATH=/usr/bin:/bin".into()],
            uid,
            network: super::NetworkIsolation::None,
            limits: ResourceLimits {
                memory_bytes: 64 << 20,
                cpu_millicores: 1000,
                processes: 16,
                log_bytes: 1 << 20,
            },
            work_dir: &work,
            data_dir: &self.data_dir,
            cgroup: cgroup_path(&id),
            user_mode_network: None,
            open_files: crate::process::open_files::for_a_sandbox(),
        };
        let bundle_dir = dir.join("bundle");
        bundle::write(&bundle_dir, &process).map_err(|e| format!("writing a trial bundle: {e}"))?;
        let started = Instant::now();
        let output = self
            .run(&id, &bundle_dir)
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| format!("running {}: {e}", self.runc.display()));
        self.delete(&id).await;
        let _ = std::fs::remove_dir_all(&dir);
        let output = output?;
        if !output.status.success() {
            return Err(format!(
                "runc could not run a trial container: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        tracing::info!(took = ?started.elapsed(), "sandboxes run in containers (runc)");
        Ok(())
    }
}

/// Where `runc run` writes the host pid of a container's init once it has started.
pub fn pid_file(bundle: &Path) -> PathBuf {
    bundle.join("init.pid")
}

/// Waits until the container `runc` (the `runc run` child) creates has started its
/// process, so that a sandbox counts as running only once it can be exec'd into; the
/// init's host pid, or `None` if runc ended first (its error is in the sandbox's log).
pub async fn started(bundle: &Path, runc: &mut tokio::process::Child) -> Option<u32> {
    let pid_file = pid_file(bundle);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
        {
            return Some(pid);
        }
        if !matches!(runc.try_wait(), Ok(None)) || Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Where the network hook writes the pid of a sandbox's slirp4netns.
pub fn slirp_pid_file(bundle: &Path) -> PathBuf {
    bundle.join("slirp.pid")
}

/// Ends a sandbox's slirp4netns, if it has one: it outlives the namespace it serves.
fn stop_network(bundle: &Path) {
    let pid_file = slirp_pid_file(bundle);
    if let Some(pid) = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok())
    {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM);
        let _ = std::fs::remove_file(pid_file);
    }
}

/// A sandbox's cgroup, relative to the gateway's own.
pub fn cgroup_path(id: &str) -> String {
    format!("{CGROUP_PARENT}/{id}")
}

/// The uid (and gid) a sandbox's processes run as: derived from its ID, so that exec
/// finds the same one, and never 0 or a uid below [`SANDBOX_UID_BASE`].
pub fn sandbox_uid(id: &str) -> u32 {
    // FNV-1a: small, stable across builds and machines.
    let hash = id.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    SANDBOX_UID_BASE + hash % SANDBOX_UID_RANGE
}

/// Runs a runc management command, its output discarded unless it succeeds.
async fn quietly(mut command: Command) -> Result<Vec<u8>, ()> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    match tokio::time::timeout(RUNC_TIMEOUT, command.output()).await {
        Ok(Ok(output)) if output.status.success() => Ok(output.stdout),
        Ok(Ok(output)) => {
            tracing::debug!(
                stderr = %String::from_utf8_lossy(&output.stderr).trim(),
                "runc refused"
            );
            Err(())
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "could not run runc");
            Err(())
        }
        Err(_) => {
            tracing::warn!("runc did not answer within {RUNC_TIMEOUT:?}");
            Err(())
        }
    }
}

/// `program` on PATH, else in the system directories Debian installs runc, iptables
/// and their kind in (`/usr/sbin` is often missing from a service's PATH).
fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SYSTEM_PROGRAM_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

const SYSTEM_PROGRAM_DIRS: &[&str] = &["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// Makes `path` and everything under it belong to the sandbox user `uid` (its group
/// too), without following symlinks.
pub fn give_to(path: &Path, uid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid))?;
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path)? {
            give_to(&entry?.path(), uid)?;
        }
    }
    Ok(())
}

/// Creates `dir` (and parents) readable by its owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_uids_are_stable_and_never_those_of_the_machine() {
        let a = sandbox_uid("8a1c7d2e-0000-4000-8000-000000000001");
        assert_eq!(a, sandbox_uid("8a1c7d2e-0000-4000-8000-000000000001"));
        assert_ne!(a, sandbox_uid("8a1c7d2e-0000-4000-8000-000000000002"));
        for id in ["", "x", "ffffffff-ffff-ffff-ffff-ffffffffffff"] {
            assert!(sandbox_uid(id) >= SANDBOX_UID_BASE);
        }
    }
}
