//! Reading sandboxes' logs as NDJSON frames: following, resuming, tails, timestamps.

use std::collections::BTreeSet;

use futures_util::StreamExt;
use sandbox_api::logs::{LogStreamError, LogStreamResponse};
use time::OffsetDateTime;

use super::super::log_files::read_session_id;
use super::super::{LogRequest, SandboxProcess, stream_log};
use super::{Dirs, collect, collect_at_most, read_file, resume, within};

fn follow() -> LogRequest {
    LogRequest {
        follow: true,
        ..LogRequest::default()
    }
}

fn tail(lines: u64) -> LogRequest {
    LogRequest {
        tail_lines: Some(lines),
        ..LogRequest::default()
    }
}

/// A script that prints `first`, waits until the file `go` appears in its directory, and
/// prints `second`.
const FIRST_GO_SECOND: &str = "echo first; while [ ! -e go ]; do sleep 0.05; done; echo second";

/// Checks that a following stream gets `first` while the sandbox still runs (before the
/// test lets it go on), then `second` and Complete after it ends.
async fn assert_follow_sees_output_as_written(dirs: &Dirs, sandbox: &SandboxProcess, live: bool) {
    let stream = stream_log(&dirs.log, live.then_some(sandbox), follow());
    let mut stream = std::pin::pin!(stream);

    let first = within("the first frame", stream.next()).await;
    let Some(LogStreamResponse::Data(first)) = first else {
        panic!("expected a data frame, got {first:?}");
    };
    assert_eq!(first.data, b"first\n");
    assert_eq!(
        sandbox.outcome(),
        None,
        "the frame came while the sandbox ran"
    );

    std::fs::write(dirs.work.join("go"), "").unwrap();
    let rest = collect(stream).await;

    assert_eq!(rest.bytes, b"second\n");
    rest.assert_offsets_continue_from(first.offset);
    rest.assert_complete();
    assert!(
        sandbox.outcome().is_some(),
        "Complete comes once the sandbox ended"
    );
}

#[tokio::test]
async fn following_with_the_live_sandbox_gets_output_as_it_is_written_then_complete() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh(FIRST_GO_SECOND).await;

    assert_follow_sees_output_as_written(&dirs, &sandbox, true).await;
}

#[tokio::test]
async fn following_without_a_live_handle_gets_output_as_it_is_written_then_complete() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh(FIRST_GO_SECOND).await;

    assert_follow_sees_output_as_written(&dirs, &sandbox, false).await;
}

#[tokio::test]
async fn without_follow_the_stream_sends_what_exists_then_completes_while_the_sandbox_runs() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh(FIRST_GO_SECOND).await;
    super::eventually("the first line", || {
        std::fs::read(dirs.log.join("output")).is_ok_and(|output| output == b"first\n")
    })
    .await;

    let read = collect(stream_log(&dirs.log, Some(&sandbox), LogRequest::default())).await;

    assert_eq!(read.bytes, b"first\n");
    read.assert_complete();
    assert_eq!(sandbox.outcome(), None, "the sandbox still runs");
    sandbox.stop(std::time::Duration::ZERO);
    within("the sandbox to stop", sandbox.wait()).await;
}

#[tokio::test]
async fn resuming_at_every_frame_boundary_and_at_arbitrary_offsets_yields_exactly_the_rest() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh("seq 1 40000").await;
    within("the sandbox to end", sandbox.wait()).await;
    let expected: Vec<u8> = (1..=40000)
        .map(|n| format!("{n}\n"))
        .collect::<String>()
        .into();
    let whole = collect(stream_log(&dirs.log, None, LogRequest::default())).await;
    let stamped = collect(stream_log(
        &dirs.log,
        None,
        LogRequest {
            timestamps: true,
            ..LogRequest::default()
        },
    ))
    .await;
    assert_eq!(whole.bytes, expected);
    assert_eq!(stamped.bytes, expected);
    whole.assert_offsets_continue_from(0);
    stamped.assert_offsets_continue_from(0);
    let session_id = &whole.frames[0].session_id;
    let length = expected.len() as u64;
    let boundaries = whole
        .frames
        .iter()
        .chain(&stamped.frames)
        .map(|frame| frame.offset);
    let arbitrary = [0, 1, 4097, 65535, 65536, 65537, length - 1, length];
    let offsets: BTreeSet<u64> = boundaries.chain(arbitrary).collect();
    assert!(offsets.len() > 8, "the output came in several chunks");

    for offset in offsets {
        let resumed = collect(stream_log(&dirs.log, None, resume(session_id, offset))).await;

        assert_eq!(
            resumed.bytes,
            expected[offset as usize..],
            "resuming at {offset}"
        );
        resumed.assert_offsets_continue_from(offset);
        resumed.assert_complete();
        assert!(
            resumed
                .frames
                .iter()
                .all(|frame| frame.session_id == *session_id)
        );
    }
}

#[tokio::test]
async fn ten_megabytes_of_output_stream_whole_and_reassemble_exactly_across_cuts() {
    let dirs = Dirs::new();
    let sandbox = dirs
        .launch_sh("head -c 7500000 /dev/urandom | base64 | tee expected")
        .await;

    let live = collect(stream_log(&dirs.log, Some(&sandbox), follow())).await;
    let expected = read_file(&dirs.work.join("expected"));

    assert!(expected.len() > 10_000_000, "{} bytes", expected.len());
    assert!(
        live.bytes == expected,
        "the followed stream equals the output"
    );
    live.assert_offsets_continue_from(0);
    live.assert_complete();

    let session_id = live.frames[0].session_id.clone();
    let mut reassembled = Vec::new();
    let mut offset = 0;
    for frames_before_cut in [1, 3, 17, 40, 2, 90].into_iter().cycle() {
        let part = collect_at_most(
            stream_log(&dirs.log, None, resume(&session_id, offset)),
            frames_before_cut,
        )
        .await;
        part.assert_offsets_continue_from(offset);
        reassembled.extend_from_slice(&part.bytes);
        offset = part.frames.last().map_or(offset, |frame| frame.offset);
        if part.end.is_some() {
            part.assert_complete();
            break;
        }
    }
    assert!(reassembled == expected, "the pieces reassemble the output");
}

#[tokio::test]
async fn resuming_an_unknown_session_gets_one_session_not_found_error() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh("echo hello").await;
    within("the sandbox to end", sandbox.wait()).await;

    let read = collect(stream_log(
        &dirs.log,
        Some(&sandbox),
        resume("not-a-session", 0),
    ))
    .await;
    let no_log = collect(stream_log(
        &dirs.log.join("none"),
        None,
        resume("not-a-session", 0),
    ))
    .await;

    for read in [read, no_log] {
        assert!(read.frames.is_empty());
        assert_eq!(read.error().code, LogStreamError::SESSION_NOT_FOUND);
    }
}

#[tokio::test]
async fn resuming_past_the_end_gets_replay_gap_and_at_the_end_just_complete() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh("echo hello").await;
    within("the sandbox to end", sandbox.wait()).await;
    let session_id = read_session_id(&dirs.log).unwrap().unwrap();

    let past = collect(stream_log(&dirs.log, None, resume(&session_id, 7))).await;
    let at_end = collect(stream_log(&dirs.log, None, resume(&session_id, 6))).await;

    assert!(past.frames.is_empty());
    assert_eq!(past.error().code, LogStreamError::REPLAY_GAP);
    assert!(at_end.frames.is_empty());
    at_end.assert_complete();
}

#[tokio::test]
async fn tail_lines_starts_at_the_beginning_of_the_last_n_lines() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh(r"printf 'one\ntwo\nthree\n'").await;
    within("the sandbox to end", sandbox.wait()).await;
    let tail_of = |lines| {
        let log = dirs.log.clone();
        async move {
            let read = collect(stream_log(&log, None, tail(lines))).await;
            read.assert_complete();
            String::from_utf8(read.bytes).unwrap()
        }
    };

    assert_eq!(tail_of(0).await, "");
    assert_eq!(tail_of(1).await, "three\n");
    assert_eq!(tail_of(2).await, "two\nthree\n");
    assert_eq!(tail_of(3).await, "one\ntwo\nthree\n");
    assert_eq!(tail_of(10).await, "one\ntwo\nthree\n");
}

#[tokio::test]
async fn tail_lines_counts_an_unfinished_last_line_and_reaches_back_over_many_chunks() {
    let unfinished = Dirs::new();
    let long = Dirs::new();
    let sandboxes = [
        unfinished.launch_sh(r"printf 'a\nb'").await,
        long.launch_sh("seq 1 100000").await,
    ];
    for sandbox in &sandboxes {
        within("the sandbox to end", sandbox.wait()).await;
    }

    let last_of_unfinished = collect(stream_log(&unfinished.log, None, tail(1))).await;
    let last_20000 = collect(stream_log(&long.log, None, tail(20000))).await;

    assert_eq!(last_of_unfinished.bytes, b"b");
    let expected: String = (80001..=100000).map(|n| format!("{n}\n")).collect();
    assert!(expected.len() > 64 * 1024, "the tail spans several chunks");
    assert_eq!(String::from_utf8(last_20000.bytes).unwrap(), expected);
}

#[tokio::test]
async fn timestamps_are_set_only_when_asked_and_tell_when_the_output_arrived() {
    let dirs = Dirs::new();
    let before = OffsetDateTime::now_utc();
    let sandbox = dirs.launch_sh("echo one; echo two >&2").await;
    within("the sandbox to end", sandbox.wait()).await;
    let after = OffsetDateTime::now_utc();

    let stamped = collect(stream_log(
        &dirs.log,
        None,
        LogRequest {
            timestamps: true,
            ..LogRequest::default()
        },
    ))
    .await;
    let plain = collect(stream_log(&dirs.log, None, LogRequest::default())).await;

    assert!(!stamped.frames.is_empty());
    let times: Vec<_> = stamped
        .frames
        .iter()
        .map(|frame| frame.timestamp.unwrap())
        .collect();
    assert!(
        times.iter().all(|time| (before..=after).contains(time)),
        "{times:?}"
    );
    assert!(times.is_sorted(), "{times:?}");
    assert!(plain.frames.iter().all(|frame| frame.timestamp.is_none()));
}

#[tokio::test]
async fn the_log_and_its_session_outlive_the_sandbox_handle() {
    let dirs = Dirs::new();
    let sandbox = dirs.launch_sh("echo kept").await;
    within("the sandbox to end", sandbox.wait()).await;
    let seen_live = collect(stream_log(&dirs.log, Some(&sandbox), LogRequest::default())).await;
    drop(sandbox);

    // As a later gateway run would: no handle, only the directory.
    let later = collect(stream_log(&dirs.log, None, follow())).await;

    assert_eq!(later.bytes, b"kept\n");
    later.assert_complete();
    let session_id = read_session_id(&dirs.log).unwrap().unwrap();
    assert_eq!(seen_live.frames[0].session_id, session_id);
    assert_eq!(later.frames[0].session_id, session_id);
    uuid::Uuid::parse_str(&session_id).unwrap();
}

#[tokio::test]
async fn a_directory_without_a_log_gets_one_error_frame() {
    let dirs = Dirs::new();

    let read = collect(stream_log(&dirs.log, None, follow())).await;

    assert!(read.frames.is_empty());
    assert_eq!(read.error().message, "this sandbox has no log yet");
    assert_eq!(read_session_id(&dirs.log).unwrap(), None);
}
