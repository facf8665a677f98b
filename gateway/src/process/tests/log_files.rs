//! The log's file format and its writer's lock, driven by a writer directly so that the
//! test decides exactly what is written and when.

use std::io::Write;
use std::time::Duration;

use futures_util::StreamExt;
use sandbox_api::logs::LogStreamResponse;

use super::super::log_files::LogWriter;
use super::super::{LogRequest, stream_log};
use super::{Dirs, collect, resume, within};

fn follow() -> LogRequest {
    LogRequest {
        follow: true,
        ..LogRequest::default()
    }
}

async fn next_data(
    stream: &mut (impl futures_util::Stream<Item = LogStreamResponse> + Unpin),
) -> Vec<u8> {
    match within("the next frame", stream.next()).await {
        Some(LogStreamResponse::Data(data)) => data.data,
        other => panic!("expected a data frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_follower_without_a_live_handle_waits_while_the_writer_holds_the_log() {
    let dirs = Dirs::new();
    let mut writer = LogWriter::create(&dirs.log, u64::MAX).unwrap();
    writer.append(b"a".to_vec()).await;
    let mut stream = Box::pin(stream_log(&dirs.log, None, follow()));

    assert_eq!(next_data(&mut stream).await, b"a");
    writer.append(b"b".to_vec()).await;
    assert_eq!(next_data(&mut stream).await, b"b");
    let waiting = tokio::time::timeout(Duration::from_millis(700), stream.next()).await;
    assert!(
        waiting.is_err(),
        "no frame while the writer is idle: {waiting:?}"
    );

    writer.finish();
    let rest = collect(stream).await;
    assert!(rest.frames.is_empty());
    rest.assert_complete();
}

#[tokio::test]
async fn a_log_whose_writer_vanished_without_finishing_completes_a_follow() {
    let dirs = Dirs::new();
    let mut writer = LogWriter::create(&dirs.log, u64::MAX).unwrap();
    writer.append(b"before the crash\n".to_vec()).await;
    let live = writer.live();
    drop(writer);

    let read = collect(stream_log(&dirs.log, None, follow())).await;

    assert_eq!(read.bytes, b"before the crash\n");
    read.assert_complete();
    assert!(
        live.progress.has_changed().is_err(),
        "live followers see the writer gone"
    );
}

#[tokio::test]
async fn bytes_past_the_last_index_record_are_never_read() {
    let dirs = Dirs::new();
    let mut writer = LogWriter::create(&dirs.log, u64::MAX).unwrap();
    writer.append(b"committed\n".to_vec()).await;
    writer.finish();
    // As if a gateway died between writing a chunk and its index record.
    let mut output = std::fs::OpenOptions::new()
        .append(true)
        .open(dirs.log.join("output"))
        .unwrap();
    output.write_all(b"torn").unwrap();

    let read = collect(stream_log(&dirs.log, None, follow())).await;

    assert_eq!(read.bytes, b"committed\n");
    read.assert_complete();
}

#[tokio::test]
async fn a_second_writer_on_a_live_log_is_refused() {
    let dirs = Dirs::new();
    let _writer = LogWriter::create(&dirs.log, u64::MAX).unwrap();

    let second = LogWriter::create(&dirs.log, u64::MAX);

    assert!(second.is_err(), "the log is in use");
}

#[tokio::test]
async fn timestamped_frames_follow_the_chunks_as_they_were_appended() {
    let dirs = Dirs::new();
    let mut writer = LogWriter::create(&dirs.log, u64::MAX).unwrap();
    for chunk in [&b"one\n"[..], b"two\n", b"three\n"] {
        writer.append(chunk.to_vec()).await;
    }
    writer.finish();
    let stamped = LogRequest {
        timestamps: true,
        ..LogRequest::default()
    };

    let read = collect(stream_log(&dirs.log, None, stamped)).await;
    let plain = collect(stream_log(&dirs.log, None, LogRequest::default())).await;

    let frames: Vec<_> = read
        .frames
        .iter()
        .map(|frame| (&frame.data[..], frame.offset))
        .collect();
    assert_eq!(
        frames,
        [(&b"one\n"[..], 4), (b"two\n", 8), (b"three\n", 14)]
    );
    assert_eq!(
        plain.frames.len(),
        1,
        "without timestamps, chunks are merged"
    );
}

#[tokio::test]
async fn a_log_at_its_limit_says_so_once_and_keeps_its_offsets() {
    let dirs = Dirs::new();
    let mut writer = LogWriter::create(&dirs.log, 10).unwrap();
    let session_id = writer.live().session_id;
    writer.append(b"12345678".to_vec()).await;
    writer.append(b"90abcdef".to_vec()).await;
    writer.append(b"never written".to_vec()).await;
    writer.finish();

    let read = collect(stream_log(&dirs.log, None, LogRequest::default())).await;

    let text = String::from_utf8(read.bytes.clone()).unwrap();
    assert!(text.starts_with("1234567890\n[sandbox-gateway]"), "{text}");
    assert!(text.contains("limit of 10 bytes"), "{text}");
    assert!(!text.contains("never"), "{text}");
    assert_eq!(text.matches("[sandbox-gateway]").count(), 1, "{text}");
    // Resuming at the limit gives exactly the notice.
    let resumed = collect(stream_log(&dirs.log, None, resume(&session_id, 10))).await;
    assert_eq!(resumed.bytes, read.bytes[10..]);
}
