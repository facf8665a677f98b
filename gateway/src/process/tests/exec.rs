//! Running one-off commands.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::super::exec::ExecOutput;
use super::super::{ExecTarget, Isolation, LaunchError, NetworkIsolation, exec};
use super::{Dirs, within};

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| (*word).to_owned()).collect()
}

async fn exec_in(dirs: &Dirs, command: &[&str], timeout: Duration) -> ExecOutput {
    std::fs::create_dir_all(&dirs.work).unwrap();
    within(
        "the command to end",
        exec(
            ExecTarget {
                id: "test-sandbox",
                work_dir: &dirs.work,
                network: NetworkIsolation::Host,
                isolation: &Isolation::None,
            },
            &argv(command),
            &BTreeMap::new(),
            timeout,
        ),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn exec_returns_stdout_stderr_and_the_exit_code() {
    let dirs = Dirs::new();

    let output = exec_in(
        &dirs,
        &["sh", "-c", "printf out; printf error >&2; exit 7"],
        Duration::from_secs(60),
    )
    .await;

    assert_eq!(
        output,
        ExecOutput {
            stdout: b"out".to_vec(),
            stderr: b"error".to_vec(),
            exit_code: Some(7),
            timed_out: false,
            stdout_bytes_produced: 3,
            stderr_bytes_produced: 5,
        }
    );
}

#[tokio::test]
async fn exec_kills_a_command_that_outlives_its_timeout() {
    let dirs = Dirs::new();
    let started = Instant::now();

    let output = exec_in(&dirs, &["sleep", "60"], Duration::from_millis(300)).await;

    assert!(output.timed_out);
    assert_eq!(output.exit_code, None);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn exec_runs_in_the_work_dir_with_the_given_env() {
    let dirs = Dirs::new();
    std::fs::create_dir_all(&dirs.work).unwrap();
    let env = BTreeMap::from([("GREETING".to_owned(), "hello".to_owned())]);

    let output = exec(
        ExecTarget {
            id: "test-sandbox",
            work_dir: &dirs.work,
            network: NetworkIsolation::Host,
            isolation: &Isolation::None,
        },
        &argv(&["sh", "-c", r#"pwd; echo "$HOME $GREETING""#]),
        &env,
        Duration::from_secs(60),
    )
    .await
    .unwrap();

    let work = dirs.work.display();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("{work}\n{work} hello\n")
    );
}

#[tokio::test]
async fn exec_returns_once_the_command_exits_even_if_a_background_child_holds_its_output() {
    let dirs = Dirs::new();

    let output = exec_in(
        &dirs,
        &["sh", "-c", "sleep 60 & echo started"],
        Duration::from_secs(60),
    )
    .await;

    assert_eq!(output.stdout, b"started\n");
    assert_eq!(output.exit_code, Some(0));
    assert!(!output.timed_out);
}

#[tokio::test]
async fn exec_of_a_missing_or_empty_command_is_an_error_in_words() {
    let dirs = Dirs::new();
    let run = |command: Vec<String>| {
        let work = dirs.work.clone();
        async move {
            exec(
                ExecTarget {
                    id: "test-sandbox",
                    work_dir: &work,
                    network: NetworkIsolation::Host,
                    isolation: &Isolation::None,
                },
                &command,
                &BTreeMap::new(),
                Duration::from_secs(60),
            )
            .await
        }
    };

    let missing = run(argv(&["no-such-command-here"])).await.unwrap_err();
    let empty = run(Vec::new()).await.unwrap_err();

    assert!(
        matches!(missing, LaunchError::CommandNotFound { .. }),
        "{missing:?}"
    );
    assert!(
        missing
            .to_string()
            .contains("`no-such-command-here` not found")
    );
    assert_eq!(empty.to_string(), "the command is empty");
}
