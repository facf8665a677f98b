//! Interactive execs: input in, output out as it comes, on a terminal when asked.

use std::collections::BTreeMap;
use std::time::Duration;

use super::super::{
    ExecSession, ExecTarget, Isolation, NetworkIsolation, SessionInput, SessionOutput,
    SessionRequest, TerminalSize, start_session,
};
use super::{Dirs, eventually, process_is_gone, within};

fn start(dirs: &Dirs, command: &[&str], terminal: Option<TerminalSize>) -> ExecSession {
    std::fs::create_dir_all(&dirs.work).unwrap();
    start_session(
        ExecTarget {
            id: "test-sandbox",
            work_dir: &dirs.work,
            network: NetworkIsolation::Host,
            isolation: &Isolation::None,
        },
        &SessionRequest {
            command: command.iter().map(|word| (*word).to_owned()).collect(),
            env: BTreeMap::new(),
            terminal,
            timeout_seconds: None,
        },
        &BTreeMap::new(),
    )
    .unwrap()
}

/// Everything the session sends until it ends: stdout, stderr and the last message.
async fn finish(session: &mut ExecSession) -> (Vec<u8>, Vec<u8>, SessionOutput) {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    loop {
        match within("the session to end", session.output.recv()).await {
            Some(SessionOutput::Stdout { data }) => stdout.extend(data),
            Some(SessionOutput::Stderr { data }) => stderr.extend(data),
            Some(ended) => return (stdout, stderr, ended),
            None => panic!("the session ended without saying how"),
        }
    }
}

/// Reads output until it contains `needle`.
async fn read_until(session: &mut ExecSession, needle: &str) -> String {
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(needle) {
        match within(needle, session.output.recv()).await {
            Some(SessionOutput::Stdout { data } | SessionOutput::Stderr { data }) => {
                seen.extend(data)
            }
            other => panic!(
                "{other:?} before {needle:?} in {}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn input_reaches_the_command_and_closing_it_ends_the_input() {
    let dirs = Dirs::new();
    let mut session = start(&dirs, &["sh", "-c", "cat; echo done >&2; exit 3"], None);
    for part in ["hello ", "world\n"] {
        session
            .input
            .send(SessionInput::Stdin {
                data: part.as_bytes().to_vec(),
            })
            .await
            .unwrap();
    }
    session.input.send(SessionInput::CloseStdin).await.unwrap();
    let (stdout, stderr, ended) = finish(&mut session).await;
    assert_eq!(stdout, b"hello world\n");
    assert_eq!(stderr, b"done\n");
    assert_eq!(
        ended,
        SessionOutput::Ended {
            exit_code: Some(3),
            timed_out: false
        }
    );
}

#[tokio::test]
async fn output_streams_before_the_command_ends() {
    let dirs = Dirs::new();
    let mut session = start(
        &dirs,
        &["sh", "-c", "echo first; read line; echo \"$line\""],
        None,
    );
    read_until(&mut session, "first\n").await;
    session
        .input
        .send(SessionInput::Stdin {
            data: b"second\n".to_vec(),
        })
        .await
        .unwrap();
    let (stdout, _, _) = finish(&mut session).await;
    assert_eq!(stdout, b"second\n");
}

#[tokio::test]
async fn a_terminal_session_is_a_terminal_of_the_asked_size_and_follows_resizes() {
    let dirs = Dirs::new();
    let mut session = start(
        &dirs,
        &["sh"],
        Some(TerminalSize {
            columns: 91,
            rows: 17,
        }),
    );
    let typed = |line: &str| SessionInput::Stdin {
        data: format!("{line}\n").into_bytes(),
    };
    session
        .input
        .send(typed(
            "test -t 0 && echo \"is-a-terminal $TERM\"; stty size",
        ))
        .await
        .unwrap();
    let seen = read_until(&mut session, "17 91").await;
    assert!(seen.contains("is-a-terminal xterm-256color"), "{seen}");
    session
        .input
        .send(SessionInput::Resize {
            size: TerminalSize {
                columns: 120,
                rows: 40,
            },
        })
        .await
        .unwrap();
    session.input.send(typed("stty size")).await.unwrap();
    read_until(&mut session, "40 120").await;
    // ^C reaches the command as a terminal's interrupt: the sleep ends at once.
    session
        .input
        .send(typed("sleep 30; echo slept"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    session
        .input
        .send(SessionInput::Stdin { data: vec![0x03] })
        .await
        .unwrap();
    session.input.send(typed("echo interrupted")).await.unwrap();
    let seen = read_until(&mut session, "interrupted\r\n").await;
    assert!(!seen.contains("\nslept"), "{seen}");
    session.input.send(typed("exit 5")).await.unwrap();
    let (_, stderr, ended) = finish(&mut session).await;
    assert!(stderr.is_empty(), "a terminal has one output");
    assert_eq!(
        ended,
        SessionOutput::Ended {
            exit_code: Some(5),
            timed_out: false
        }
    );
}

#[tokio::test]
async fn a_session_whose_client_goes_away_is_killed() {
    let dirs = Dirs::new();
    let mut session = start(&dirs, &["sh", "-c", "echo $$; exec sleep 600"], None);
    let seen = read_until(&mut session, "\n").await;
    let pid: u32 = seen.trim().parse().unwrap();
    drop(session);
    eventually("the command to be killed", || process_is_gone(pid)).await;
}
