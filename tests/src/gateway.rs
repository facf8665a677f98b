//! A `sandbox-gateway serve` child process for one test.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A stopped gateway that can start again on the same port and data.
pub struct Paused {
    binary: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    data_dir: TempDir,
    address: String,
}

impl Paused {
    pub async fn resume(self) -> anyhow::Result<Gateway> {
        Gateway::start_in(
            self.binary,
            self.args,
            self.envs,
            self.data_dir,
            &self.address,
        )
        .await
    }

    /// Starts again on the same data and port, with other arguments and environment.
    pub async fn resume_with(
        self,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> anyhow::Result<Gateway> {
        Gateway::start_in(
            self.binary,
            args.iter().map(|a| a.to_string()).collect(),
            envs.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            self.data_dir,
            &self.address,
        )
        .await
    }
}

/// A running gateway; killed when dropped.
pub struct Gateway {
    binary: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    child: GatewayProcess,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    data_dir: TempDir,
    stdout_lines: Vec<String>,
}

/// The gateway's process. A test that ends without stopping its gateway (it failed, or
/// did not need to) stops it with SIGTERM, as an operator would, so that the gateway
/// removes its sandboxes' containers; only one that does not exit within 5 s is killed.
struct GatewayProcess(Child);

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let Some(pid) = self.0.id() else { return };
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while matches!(self.0.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.0.start_kill();
    }
}

/// The gateway binary `cargo build -p sandbox-gateway` made in this target directory.
pub fn built_binary() -> anyhow::Result<PathBuf> {
    // Test executables live in target/<profile>/deps/; the binary in target/<profile>/.
    let exe = std::env::current_exe().context("locating the test executable")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("the test executable has no target directory")?;
    let binary = profile_dir.join("sandbox-gateway");
    if !binary.is_file() {
        bail!(
            "{} is missing: build it first with `cargo build -p sandbox-gateway` (scripts/test does)",
            binary.display()
        );
    }
    Ok(binary)
}

/// The release console that `scripts/build-console` wrote.
pub fn built_console() -> anyhow::Result<PathBuf> {
    let dist = std::env::var_os("SANDBOX_CONSOLE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("dist"));
    if !dist.join("index.html").is_file() {
        bail!(
            "{} has no index.html: build the console first with scripts/build-console",
            dist.display()
        );
    }
    Ok(dist)
}

impl Gateway {
    /// Starts `binary serve --listen 127.0.0.1:0 --data-dir <fresh> ARGS` and waits until
    /// it says where it listens.
    pub async fn start(binary: &Path, args: &[&str]) -> anyhow::Result<Gateway> {
        Gateway::start_with_env(binary, args, &[]).await
    }

    /// As [`Gateway::start`], with environment variables set for the gateway.
    pub async fn start_with_env(
        binary: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> anyhow::Result<Gateway> {
        let data_dir = tempfile::tempdir().context("creating a data directory")?;
        let args = args.iter().map(|a| a.to_string()).collect();
        let envs = envs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Gateway::start_in(binary.to_owned(), args, envs, data_dir, "127.0.0.1:0").await
    }

    /// Stops the gateway and starts it again on the same data directory and arguments.
    pub async fn restart(self) -> anyhow::Result<Gateway> {
        self.pause().await?.resume().await
    }

    /// Stops the gateway, keeping what it needs to start again on the same port.
    pub async fn pause(self) -> anyhow::Result<Paused> {
        let address = self.url.trim_start_matches("http://").to_owned();
        let envs = self.envs.clone();
        let (binary, args, data_dir) = self.stop_keeping_data().await?;
        Ok(Paused {
            binary,
            args,
            envs,
            data_dir,
            address,
        })
    }

    /// Kills the gateway with SIGKILL, as a crash or an OOM kill would, keeping what it
    /// needs to start again on the same data and port.
    pub async fn crash(mut self) -> anyhow::Result<Paused> {
        let address = self.url.trim_start_matches("http://").to_owned();
        self.child.0.kill().await.context("killing the gateway")?;
        Ok(Paused {
            binary: self.binary.clone(),
            args: self.args.clone(),
            envs: self.envs.clone(),
            data_dir: self.data_dir,
            address,
        })
    }

    async fn start_in(
        binary: PathBuf,
        args: Vec<String>,
        envs: Vec<(String, String)>,
        data_dir: TempDir,
        listen: &str,
    ) -> anyhow::Result<Gateway> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.path().join("gateway.log"))?;
        let mut child = Command::new(&binary)
            .args(["serve", "--listen", listen, "--data-dir"])
            .arg(data_dir.path())
            .args(&args)
            .envs(envs.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("the gateway's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut stdout_lines = Vec::new();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix("listening on ") {
                    return Ok(url.trim().to_owned());
                }
                stdout_lines.push(line);
            }
            bail!("the gateway exited before listening")
        })
        .await
        .context("the gateway did not start listening within 30 s")?;
        let url = match url {
            Ok(url) => url,
            Err(e) => {
                let log = std::fs::read_to_string(data_dir.path().join("gateway.log"))
                    .unwrap_or_default();
                return Err(e.context(format!("gateway log:\n{log}")));
            }
        };
        // Keep draining stdout so the gateway never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Gateway {
            binary,
            args,
            envs,
            child: GatewayProcess(child),
            url,
            data_dir,
            stdout_lines,
        })
    }

    /// The gateway's process ID (for measuring its memory).
    pub fn pid(&self) -> Option<u32> {
        self.child.0.id()
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// What the gateway printed before it listened (e.g. the demo tokens).
    pub fn startup_output(&self) -> &[String] {
        &self.stdout_lines
    }

    /// Stops the gateway the way an operator would (SIGTERM) and waits for it to exit
    /// cleanly.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop_keeping_data().await.map(drop)
    }

    async fn stop_keeping_data(mut self) -> anyhow::Result<(PathBuf, Vec<String>, TempDir)> {
        if let Some(pid) = self.child.0.id() {
            // `kill` sends SIGTERM without libc (this workspace forbids unsafe code).
            Command::new("kill").arg(pid.to_string()).status().await?;
        }
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.0.wait())
            .await
            .context("the gateway did not stop within 10 s of SIGTERM")??;
        anyhow::ensure!(status.success(), "the gateway exited with {status}");
        Ok((self.binary, self.args, self.data_dir))
    }
}
