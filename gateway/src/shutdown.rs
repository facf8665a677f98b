//! How both the gateway and an agent process learn that they should stop, and how a log
//! follow ends when the gateway does.

use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use sandbox_api::logs::{LogStreamError, LogStreamResponse};
use tokio::sync::watch;

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                let _ = interrupt.await;
                return;
            }
        };
    tokio::select! {
        _ = interrupt => {},
        _ = terminate.recv() => {},
    }
}

/// `frames` until the gateway starts to stop; then one last error frame, so that a
/// follower knows to resume from its last offset once the gateway is back, and the
/// gateway does not wait for a stream that would never end. Every transport's log
/// stream goes through it.
pub fn until_stopping(
    frames: BoxStream<'static, LogStreamResponse>,
    stopping: watch::Receiver<bool>,
) -> impl Stream<Item = LogStreamResponse> + Send + 'static {
    stream::unfold(Some((frames, stopping)), |state| async move {
        let (mut frames, mut stopping) = state?;
        let stopped = tokio::select! {
            frame = frames.next() => Err(frame),
            // Stopping, or the sender gone with the server: either way, the end.
            _ = stopping.wait_for(|stop| *stop) => Ok(()),
        };
        match stopped {
            Err(frame) => frame.map(|frame| (frame, Some((frames, stopping)))),
            Ok(()) => Some((
                LogStreamResponse::Error(LogStreamError {
                    message: "the gateway is stopping; resume from the last offset once it is back"
                        .to_owned(),
                    code: String::new(),
                }),
                None,
            )),
        }
    })
}
