//! Launching, stopping and ending sandboxes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::super::{ExitOutcome, ExitReason, LaunchError, launch};
use super::{Dirs, eventually, process_is_gone, read_file, within};

const SIGTERM: i32 = Signal::SIGTERM as i32;
const SIGKILL: i32 = Signal::SIGKILL as i32;

/// Waits until the sandbox's log holds a line for which `parse` answers, and returns it.
async fn first_line_of<T>(dirs: &Dirs, mut parse: impl FnMut(&str) -> Option<T>) -> T {
    within("a line in the log", async {
        loop {
            let log = String::from_utf8(dirs.log_bytes().await).unwrap();
            if let Some(found) = log.lines().find_map(&mut parse) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

#[tokio::test]
async fn a_process_that_exits_by_itself_has_its_exit_code_recorded() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh("exit 3").await;

    let outcome = within("the sandbox to end", sandbox.wait()).await;

    assert_eq!(
        outcome,
        ExitOutcome {
            exit_code: Some(3),
            signal: None,
            reason: ExitReason::Exited
        }
    );
    assert_eq!(outcome.describe(), "exited with code 3");
    assert_eq!(sandbox.outcome(), Some(outcome));
    assert_eq!(sandbox.pid(), None, "no pid once exited");
}

#[tokio::test]
async fn stdout_and_stderr_both_go_to_the_log_each_in_its_own_order() {
    let dirs = Dirs::new();
    let sandbox = dirs
        .launch_sh("echo out-1; echo err-1 >&2; echo out-2; echo err-2 >&2")
        .await;
    within("the sandbox to end", sandbox.wait()).await;

    let log = String::from_utf8(dirs.log_bytes().await).unwrap();
    let lines: Vec<_> = log.lines().collect();
    let of_stream = |prefix: &str| -> Vec<&str> {
        lines
            .iter()
            .copied()
            .filter(|line| line.starts_with(prefix))
            .collect()
    };
    assert_eq!(lines.len(), 4, "log: {log:?}");
    assert_eq!(of_stream("out-"), ["out-1", "out-2"]);
    assert_eq!(of_stream("err-"), ["err-1", "err-2"]);
}

#[tokio::test]
async fn the_process_runs_in_its_work_dir_as_home_with_its_env_and_mounted_files() {
    let dirs = Dirs::new();
    let mut spec = dirs.spec(
        "sh",
        &[
            "-c",
            r#"pwd; echo "$HOME"; echo "$GREETING"; cat etc/app.conf"#,
        ],
    );
    spec.env = BTreeMap::from([("GREETING".to_owned(), "hello".to_owned())]);
    spec.mounted_files = vec![("/etc/app.conf".to_owned(), b"key=value\n".to_vec())];
    let sandbox = launch(spec).await.unwrap();
    within("the sandbox to end", sandbox.wait()).await;

    let work = dirs.work.display();
    assert_eq!(
        String::from_utf8(dirs.log_bytes().await).unwrap(),
        format!("{work}\n{work}\nhello\nkey=value\n")
    );
    assert_eq!(read_file(&dirs.work.join("etc/app.conf")), b"key=value\n");
}

#[tokio::test]
async fn the_process_sees_only_path_home_and_its_own_env_of_the_gateways_environment() {
    let dirs = Dirs::new();
    let mut spec = dirs.spec("env", &[]);
    spec.env = BTreeMap::from([("GREETING".to_owned(), "hello".to_owned())]);
    let sandbox = launch(spec).await.unwrap();
    within("the sandbox to end", sandbox.wait()).await;

    let log = String::from_utf8(dirs.log_bytes().await).unwrap();
    let mut names: Vec<_> = log
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name))
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["GREETING", "HOME", "PATH"], "environment: {log}");
}

#[tokio::test]
async fn a_mounted_file_path_with_dot_dot_is_refused_and_nothing_is_written() {
    let dirs = Dirs::new();
    let mut spec = dirs.spec("true", &[]);
    spec.mounted_files = vec![
        ("/fine.txt".to_owned(), b"x".to_vec()),
        ("/../escaped.txt".to_owned(), b"x".to_vec()),
    ];

    let error = launch(spec).await.unwrap_err();

    assert!(
        matches!(error, LaunchError::InvalidMountPath { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "cannot mount a file at `/../escaped.txt`: the path must not contain `..`"
    );
    assert!(!dirs.work.join("fine.txt").exists(), "nothing was written");
    assert!(!dirs.work.parent().unwrap().join("escaped.txt").exists());
}

#[tokio::test]
async fn a_command_that_does_not_exist_is_reported_in_words() {
    let dirs = Dirs::new();

    let by_name = launch(dirs.spec("no-such-command-here", &[]))
        .await
        .unwrap_err();
    let by_path = launch(dirs.spec("/no/such/program", &[]))
        .await
        .unwrap_err();

    assert_eq!(
        by_name.to_string(),
        "command `no-such-command-here` not found: no executable file of that name on the sandbox's PATH"
    );
    assert_eq!(
        by_path.to_string(),
        "command `/no/such/program` not found: no executable file at that path"
    );
    assert!(
        !dirs.log.exists(),
        "no log for a sandbox that never started"
    );
}

#[tokio::test]
async fn a_log_dir_that_already_holds_a_log_is_refused() {
    let dirs = Dirs::new();
    let first = dirs.launch_sh("echo first").await;
    within("the first sandbox to end", first.wait()).await;

    let error = launch(dirs.spec("true", &[])).await.unwrap_err();

    assert!(
        matches!(error, LaunchError::LogDirectoryInUse { .. }),
        "{error:?}"
    );
    assert_eq!(
        dirs.log_bytes().await,
        b"first\n",
        "the first log is intact"
    );
}

#[tokio::test]
async fn stop_ends_a_sleeping_process_with_sigterm_well_before_the_grace_period() {
    let dirs = Dirs::new();
    let sandbox = launch(dirs.spec("sleep", &["60"])).await.unwrap();
    assert!(sandbox.pid().is_some());
    let asked = Instant::now();

    sandbox.stop(Duration::from_secs(60));
    let outcome = within("the sandbox to stop", sandbox.wait()).await;

    assert!(
        asked.elapsed() < Duration::from_secs(20),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(
        outcome,
        ExitOutcome {
            exit_code: None,
            signal: Some(SIGTERM),
            reason: ExitReason::Stopped
        }
    );
    assert_eq!(outcome.describe(), "stopped by a user");
}

#[tokio::test]
async fn stop_kills_the_whole_process_group_including_children() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh("sleep 60 & echo child=$!; wait").await;
    let child: u32 = first_line_of(&dirs, |line| line.strip_prefix("child=")?.parse().ok()).await;
    assert!(!process_is_gone(child), "the child runs before the stop");

    sandbox.stop(Duration::from_secs(60));
    within("the sandbox to stop", sandbox.wait()).await;

    eventually("the child to be gone", || process_is_gone(child)).await;
}

#[tokio::test]
async fn a_process_that_ignores_sigterm_gets_sigkill_after_the_grace_period() {
    let dirs = Dirs::new();
    let sandbox = dirs
        .launch_sh(r#"trap "" TERM; echo ready; while :; do sleep 1; done"#)
        .await;
    first_line_of(&dirs, |line| (line == "ready").then_some(())).await;
    let grace = Duration::from_millis(500);
    let asked = Instant::now();

    sandbox.stop(grace);
    let outcome = within("the sandbox to be killed", sandbox.wait()).await;

    assert!(
        asked.elapsed() >= grace,
        "killed after {:?}",
        asked.elapsed()
    );
    assert_eq!(outcome.signal, Some(SIGKILL));
    assert_eq!(outcome.reason, ExitReason::Stopped);
}

#[tokio::test]
async fn stop_is_idempotent_and_harmless_after_the_process_exited() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh("exit 0").await;
    let outcome = within("the sandbox to end", sandbox.wait()).await;

    sandbox.stop(Duration::ZERO);
    sandbox.stop(Duration::ZERO);

    assert_eq!(sandbox.outcome(), Some(outcome.clone()));
    assert_eq!(outcome.reason, ExitReason::Exited);
}

#[tokio::test]
async fn a_process_past_its_max_lifetime_is_killed_and_says_so() {
    let dirs = Dirs::new();
    let mut spec = dirs.spec("sleep", &["60"]);
    spec.max_lifetime = Some(Duration::from_millis(300));
    let started = Instant::now();
    let sandbox = launch(spec).await.unwrap();

    let outcome = within("the lifetime to run out", sandbox.wait()).await;

    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        outcome.reason,
        ExitReason::LifetimeExceeded {
            max_lifetime: Duration::from_millis(300)
        }
    );
    assert_eq!(outcome.signal, Some(SIGTERM));
    assert_eq!(outcome.describe(), "killed after its max lifetime of 300ms");
}

#[tokio::test]
async fn a_background_child_left_holding_the_output_is_killed_when_the_main_process_exits() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh("sleep 60 & echo child=$!").await;

    let outcome = within("the sandbox to end", sandbox.wait()).await;

    assert_eq!(outcome.exit_code, Some(0));
    let log = String::from_utf8(dirs.log_bytes().await).unwrap();
    let child: u32 = log.trim().strip_prefix("child=").unwrap().parse().unwrap();
    eventually("the child to be gone", || process_is_gone(child)).await;
}

#[tokio::test]
async fn a_process_that_left_the_group_cannot_keep_wait_from_resolving() {
    let dirs = Dirs::new();
    // `setsid` takes the child out of the sandbox's process group, pipes and all.
    let sandbox = dirs.launch_sh("setsid sleep 60 & echo escaped=$!").await;

    let outcome = within("the sandbox to end", sandbox.wait()).await;

    let log = String::from_utf8(dirs.log_bytes().await).unwrap();
    let escaped: i32 = log
        .trim()
        .strip_prefix("escaped=")
        .unwrap()
        .parse()
        .unwrap();
    // It is out of reach of the sandbox, so the test cleans it up itself.
    let _ = kill(Pid::from_raw(escaped), Signal::SIGKILL);
    assert_eq!(outcome.exit_code, Some(0));
}
