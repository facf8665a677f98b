//! The sandboxes of one agent, by sandbox ID: child processes (`crate::process`) whose
//! working directories and logs live under the agent's data directory, at
//! `DATA_DIR/sandboxes/<id>/{work,logs}`. The in-process agent calls it directly; the
//! agent process serves it over HTTP (`server.rs`). Errors are already the
//! `google.rpc.Status` the caller should see.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use futures_util::Stream;
use sandbox_api::error::Code;
use sandbox_api::logs::LogStreamResponse;
use sandbox_api::violation::Violation;

use super::wire::{LaunchRequest, SandboxIsolation, SandboxUsage, UsageReport};
use crate::error::ApiError;
use crate::mutex::lock;
use crate::process::{
    self, ExecOutput, ExecSession, ExecTarget, ExitOutcome, Isolation, LaunchSpec, LogRequest,
    NetworkIsolation, SandboxProcess, SessionRequest,
};

/// How long a deleted sandbox that still runs gets between SIGTERM and SIGKILL.
const DELETE_GRACE: Duration = Duration::from_secs(2);

pub struct SandboxHost {
    data_dir: PathBuf,
    /// How sandboxes are isolated here, or why they cannot be (then none is started).
    isolation: HostIsolation,
    /// Every sandbox launched here, ended ones included until they are deleted: the
    /// gateway may ask again how one ended if an answer was lost on the way.
    sandboxes: Mutex<HashMap<String, Hosted>>,
}

/// A launched sandbox and what an exec in it needs.
#[derive(Clone)]
struct Hosted {
    process: SandboxProcess,
    env: BTreeMap<String, String>,
    network: NetworkIsolation,
}

/// How an agent's sandboxes are kept apart from the machine, chosen at its start.
#[derive(Clone, Debug)]
pub enum HostIsolation {
    Ready(Isolation),
    /// Containers were asked for and cannot run: why, for people.
    Unavailable(String),
}

impl HostIsolation {
    /// Containers run by `runc` (the one given, else the one on PATH) if `containers`
    /// (proved to work here, leftovers of an earlier run of `data_dir` removed), else
    /// plain host processes, which is said loudly.
    pub async fn start(containers: bool, runc: Option<&Path>, data_dir: &Path) -> HostIsolation {
        if !containers {
            tracing::warn!(
                "--isolation none: sandboxes run as plain processes of this user, can read its \
                 files and reach its network; each is flagged unisolated"
            );
            return HostIsolation::Ready(Isolation::None);
        }
        match process::ContainerRuntime::start(data_dir, runc).await {
            Ok(runtime) => HostIsolation::Ready(Isolation::Container(runtime)),
            Err(why) => {
                tracing::error!(
                    "sandboxes cannot be isolated, so none will start: {why}. Fix that, or \
                     pass --isolation none to run them unisolated"
                );
                HostIsolation::Unavailable(why)
            }
        }
    }

    /// Whether sandboxes here can have a network of their own with outbound access.
    pub fn user_mode_networking(&self) -> bool {
        matches!(self, HostIsolation::Ready(Isolation::Container(runtime)) if runtime.network_tools().is_some())
    }

    /// What the agent reports in its capacity: the mode, and the problem if any.
    pub fn report(&self) -> (SandboxIsolation, String) {
        match self {
            HostIsolation::Ready(Isolation::Container(_)) => {
                (SandboxIsolation::Container, String::new())
            }
            HostIsolation::Ready(Isolation::None) => (SandboxIsolation::None, String::new()),
            HostIsolation::Unavailable(why) => (SandboxIsolation::Unavailable, why.clone()),
        }
    }
}

/// A sandbox's directory under `data_dir`.
pub fn sandbox_dir(data_dir: &Path, sandbox_id: &str) -> PathBuf {
    data_dir.join("sandboxes").join(sandbox_id)
}

/// Where a sandbox's log lives under `data_dir`.
pub fn log_dir(data_dir: &Path, sandbox_id: &str) -> PathBuf {
    sandbox_dir(data_dir, sandbox_id).join("logs")
}

impl SandboxHost {
    pub fn new(data_dir: PathBuf, isolation: HostIsolation) -> SandboxHost {
        SandboxHost {
            data_dir,
            isolation,
            sandboxes: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a sandbox; the pid of its main process on success. A command that cannot
    /// be started is FAILED_PRECONDITION with the reason for the user.
    pub async fn launch(&self, request: LaunchRequest) -> Result<Option<u32>, ApiError> {
        let id = checked_id(&request.sandbox_id)?;
        if self.hosted(id).is_ok() {
            return Err(ApiError::new(
                Code::AlreadyExists,
                format!("sandbox {id:?} was already launched on this agent"),
            ));
        }
        let isolation = self.ready_isolation()?.clone();
        process::open_files::room_for_a_sandbox()
            .map_err(|problem| ApiError::new(Code::ResourceExhausted, problem))?;
        let directory = sandbox_dir(&self.data_dir, id);
        // Its logs, bundle and working directory are nobody else's business.
        process::container::create_private_dir(&directory)
            .map_err(|e| ApiError::internal(&format!("creating {}", directory.display()), e))?;
        let spec = LaunchSpec {
            id: id.to_owned(),
            command: request.command.clone(),
            args: request.args.clone(),
            env: request.env.clone(),
            work_dir: directory.join("work"),
            mounted_files: request
                .mounted_files
                .iter()
                .map(|file| (file.mount_path.clone(), file.content.clone()))
                .collect(),
            max_lifetime: request.max_lifetime(),
            network: request.network,
            log_dir: directory.join("logs"),
            isolation,
            limits: request.limits,
            bundle_dir: directory.join("bundle"),
            egress_allowlist: request.egress_allowlist.clone(),
        };
        let process = process::launch(spec)
            .await
            .map_err(|e| ApiError::new(Code::FailedPrecondition, e.to_string()))?;
        let pid = process.pid();
        lock(&self.sandboxes).insert(
            id.to_owned(),
            Hosted {
                process,
                env: request.env,
                network: request.network,
            },
        );
        Ok(pid)
    }

    /// What each running sandbox uses now, read from its container's cgroup; plain host
    /// processes (`--isolation none`) share the agent's own cgroup, so none is said.
    pub fn usage(&self) -> UsageReport {
        if !matches!(
            self.isolation,
            HostIsolation::Ready(Isolation::Container(_))
        ) {
            return UsageReport::default();
        }
        let running: Vec<(String, u32)> = lock(&self.sandboxes)
            .iter()
            .filter_map(|(id, hosted)| Some((id.clone(), hosted.process.pid()?)))
            .collect();
        let sandboxes = running
            .into_iter()
            // One that has just ended has no cgroup to read any more: left out.
            .filter_map(|(sandbox_id, pid)| {
                let usage = process::container_usage(pid).ok()?;
                Some(SandboxUsage {
                    sandbox_id,
                    cpu_nanoseconds: usage.cpu_nanoseconds,
                    memory_bytes: usage.memory_bytes,
                })
            })
            .collect();
        UsageReport { sandboxes }
    }

    /// Asks a sandbox to stop (see `SandboxProcess::stop`).
    pub fn stop(&self, id: &str, grace: Duration) -> Result<(), ApiError> {
        self.hosted(id)?.process.stop(grace);
        Ok(())
    }

    /// How the sandbox ended, once it has.
    pub async fn wait(&self, id: &str) -> Result<ExitOutcome, ApiError> {
        Ok(self.hosted(id)?.process.wait().await)
    }

    /// How the sandbox ended, or `None` if it still runs after `patience`.
    pub async fn outcome_within(
        &self,
        id: &str,
        patience: Duration,
    ) -> Result<Option<ExitOutcome>, ApiError> {
        let process = self.hosted(id)?.process;
        Ok(tokio::time::timeout(patience, process.wait()).await.ok())
    }

    /// Runs `command` in a running sandbox's directory, with its environment and network.
    pub async fn exec(
        &self,
        id: &str,
        command: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, ApiError> {
        let (hosted, work_dir) = self.running(id)?;
        let target = self.exec_target(id, &hosted, &work_dir)?;
        process::exec(target, command, &hosted.env, timeout)
            .await
            .map_err(|e| ApiError::invalid(&[Violation::error("command", e.to_string())]))
    }

    /// Starts an interactive exec in a running sandbox, as [`SandboxHost::exec`] runs a
    /// command.
    pub fn exec_session(
        &self,
        id: &str,
        request: &SessionRequest,
    ) -> Result<ExecSession, ApiError> {
        let (hosted, work_dir) = self.running(id)?;
        let target = self.exec_target(id, &hosted, &work_dir)?;
        let mut env = hosted.env.clone();
        env.extend(request.env.clone());
        process::start_session(target, request, &env)
            .map_err(|e| ApiError::invalid(&[Violation::error("command", e.to_string())]))
    }

    /// The sandbox `id`, which must still run, and its working directory.
    fn running(&self, id: &str) -> Result<(Hosted, PathBuf), ApiError> {
        let hosted = self.hosted(id)?;
        if hosted.process.outcome().is_some() {
            return Err(ApiError::new(
                Code::FailedPrecondition,
                format!("sandbox {id:?} has ended and cannot run commands"),
            ));
        }
        Ok((hosted, sandbox_dir(&self.data_dir, id).join("work")))
    }

    /// Where an exec in the running sandbox `id` runs.
    fn exec_target<'a>(
        &'a self,
        id: &'a str,
        hosted: &Hosted,
        work_dir: &'a Path,
    ) -> Result<ExecTarget<'a>, ApiError> {
        Ok(ExecTarget {
            id,
            work_dir,
            network: hosted.network,
            isolation: self.ready_isolation()?,
        })
    }

    /// The sandbox's log as NDJSON frames (see `process::stream_log`). It is read from
    /// disk, so a sandbox this host no longer runs (it restarted) still has its log.
    pub fn logs(
        &self,
        id: &str,
        request: LogRequest,
    ) -> Result<impl Stream<Item = LogStreamResponse> + Send + 'static + use<>, ApiError> {
        let id = checked_id(id)?;
        let live = self.hosted(id).ok().map(|hosted| hosted.process);
        Ok(process::stream_log(
            &log_dir(&self.data_dir, id),
            live.as_ref(),
            request,
        ))
    }

    /// Stops the sandbox if it still runs, then forgets it and removes its files.
    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        let id = checked_id(id)?;
        if let Ok(hosted) = self.hosted(id) {
            hosted.process.stop(DELETE_GRACE);
            hosted.process.wait().await;
            lock(&self.sandboxes).remove(id);
        }
        let directory = sandbox_dir(&self.data_dir, id);
        match tokio::fs::remove_dir_all(&directory).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ApiError::internal(
                &format!("removing {}", directory.display()),
                e,
            )),
        }
    }

    /// Stops every sandbox still running and waits until they have ended: what an agent
    /// does before it exits.
    pub async fn stop_all(&self, grace: Duration) {
        let running: Vec<SandboxProcess> = lock(&self.sandboxes)
            .values()
            .map(|hosted| hosted.process.clone())
            .filter(|process| process.outcome().is_none())
            .collect();
        for process in &running {
            process.stop(grace);
        }
        futures_util::future::join_all(running.iter().map(SandboxProcess::wait)).await;
    }

    fn ready_isolation(&self) -> Result<&Isolation, ApiError> {
        match &self.isolation {
            HostIsolation::Ready(isolation) => Ok(isolation),
            HostIsolation::Unavailable(why) => Err(ApiError::new(
                Code::FailedPrecondition,
                format!("this runner cannot isolate sandboxes, so it starts none: {why}"),
            )),
        }
    }

    fn hosted(&self, id: &str) -> Result<Hosted, ApiError> {
        lock(&self.sandboxes).get(id).cloned().ok_or_else(|| {
            ApiError::new(
                Code::NotFound,
                format!("sandbox {id:?} is not known to this runner's agent"),
            )
        })
    }
}

/// A sandbox ID names a directory, so only a UUID (what the gateway issues) is taken.
fn checked_id(id: &str) -> Result<&str, ApiError> {
    match uuid::Uuid::parse_str(id) {
        Ok(_) => Ok(id),
        Err(_) => Err(ApiError::invalid(&[Violation::error(
            "sandboxId",
            format!("{id:?} is not a sandbox ID (a UUID)"),
        )])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::ExitReason;
    use futures_util::StreamExt;

    fn request(id: &str, script: &str) -> LaunchRequest {
        LaunchRequest {
            sandbox_id: id.to_owned(),
            command: "sh".into(),
            args: vec!["-c".into(), script.into()],
            env: BTreeMap::from([("GREETING".to_owned(), "hi".to_owned())]),
            mounted_files: Vec::new(),
            max_lifetime_ms: None,
            network: NetworkIsolation::Host,
            limits: crate::process::ResourceLimits {
                memory_bytes: 256 << 20,
                cpu_millicores: 1000,
                processes: 64,
                log_bytes: 1 << 20,
            },
            egress_allowlist: None,
        }
    }

    fn unisolated_host(data_dir: &Path) -> SandboxHost {
        SandboxHost::new(data_dir.to_owned(), HostIsolation::Ready(Isolation::None))
    }

    const ID: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

    #[tokio::test]
    async fn a_hosted_sandbox_runs_execs_logs_and_is_deleted_with_its_files() {
        let data = tempfile::tempdir().unwrap();
        let host = unisolated_host(data.path());
        host.launch(request(ID, "echo \"$GREETING\"; sleep 30"))
            .await
            .unwrap();
        let exec = host
            .exec(
                ID,
                &["sh".into(), "-c".into(), "echo $GREETING; pwd".into()],
                Duration::from_secs(10),
            )
            .await
            .unwrap();
        let work_dir = sandbox_dir(data.path(), ID).join("work");
        assert_eq!(
            String::from_utf8(exec.stdout).unwrap(),
            format!("hi\n{}\n", work_dir.display())
        );
        assert_eq!(host.outcome_within(ID, Duration::ZERO).await.unwrap(), None);
        host.stop(ID, Duration::from_secs(5)).unwrap();
        let outcome = host.wait(ID).await.unwrap();
        assert_eq!(outcome.reason, ExitReason::Stopped);
        let frames: Vec<_> = host
            .logs(ID, LogRequest::default())
            .unwrap()
            .collect()
            .await;
        assert!(
            matches!(&frames[0], LogStreamResponse::Data(data) if data.data == b"hi\n"),
            "{frames:?}"
        );
        host.delete(ID).await.unwrap();
        assert!(!sandbox_dir(data.path(), ID).exists());
        assert_eq!(host.wait(ID).await.unwrap_err().0.code, Code::NotFound);
    }

    #[tokio::test]
    async fn a_host_refuses_ids_that_are_not_uuids_and_launching_twice() {
        let data = tempfile::tempdir().unwrap();
        let host = unisolated_host(data.path());
        let refused = host.launch(request("../escape", "true")).await.unwrap_err();
        assert_eq!(refused.0.code, Code::InvalidArgument);
        host.launch(request(ID, "true")).await.unwrap();
        let again = host.launch(request(ID, "true")).await.unwrap_err();
        assert_eq!(again.0.code, Code::AlreadyExists);
        let missing = host
            .launch(LaunchRequest {
                command: "no-such-command-here".into(),
                ..request("5f0c7a1e-2b1d-4a55-9d39-4ad7d7a0c2b1", "")
            })
            .await
            .unwrap_err();
        assert_eq!(missing.0.code, Code::FailedPrecondition);
        assert!(
            missing.0.message.contains("not found"),
            "{}",
            missing.0.message
        );
    }
}
