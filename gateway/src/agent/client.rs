//! The gateway's client of one agent process's API, at the URL and with the key the
//! agent reported in its heartbeats.
//!
//! Waiting for a sandbox's end (local decision): the gateway long-polls the agent,
//! which holds each poll for up to [`OUTCOME_POLL`]. A poll that fails without an answer
//! (connection refused or broken, timeout, 5xx) is retried every [`RETRY_INTERVAL`];
//! once polls have failed without a break for the heartbeat timeout, after which the
//! runner counts as DISCONNECTED too, the agent counts as gone and the sandbox as lost.
//! An agent that answers that it does not know the sandbox (it restarted) loses it at
//! once.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream};
use futures_util::{SinkExt, Stream, StreamExt};
use reqwest::header::AUTHORIZATION;
use reqwest::{Method, RequestBuilder};
use sandbox_api::error::{Code, Reason, Status};
use sandbox_api::logs::{LogStreamError, LogStreamResponse, parse_line};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::error_frame;
use super::wire::{
    Empty, ExecRequest, LaunchRequest, LaunchResponse, OutcomeResponse, SessionMessage,
    StopRequest, UsageReport, log_query,
};
use crate::error::ApiError;
use crate::process::{
    ExecOutput, ExecSession, ExitOutcome, LogRequest, SessionInput, SessionOutput, SessionRequest,
};

/// How long the agent holds one outcome poll before answering "still running".
const OUTCOME_POLL: Duration = Duration::from_secs(20);
/// How long to wait before retrying a poll that failed without an answer.
const RETRY_INTERVAL: Duration = Duration::from_millis(250);
/// Time allowed on top of what a call itself may take (a launch writing files, an exec
/// running its command) before it counts as unanswered.
const CALL_MARGIN: Duration = Duration::from_secs(10);
/// How long a launch may take: preparing the directory and files, then starting.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest NDJSON line accepted from an agent: a data frame holds at most 64 KiB,
/// which is about 88 KiB in base64, so this leaves ample room (local decision).
const MAX_LOG_LINE: usize = 1024 * 1024;

/// One agent process, as the gateway reaches it.
pub struct RemoteAgent {
    url: String,
    key: String,
    http: reqwest::Client,
    /// How long calls may fail without a break before the agent counts as gone.
    give_up_after: Duration,
}

/// Why a call to the agent did not succeed.
#[derive(Debug)]
pub enum CallError {
    /// The agent answered with an error (4xx): it refuses or does not know the thing.
    Refused(Status),
    /// No usable answer: unreachable, cut off, timed out, or the agent failed (5xx).
    Unanswered(String),
}

impl CallError {
    /// The error for the gateway's client: what the agent said, or that the runner's
    /// agent cannot be reached.
    pub fn into_api_error(self) -> ApiError {
        match self {
            CallError::Refused(status) => ApiError(status),
            CallError::Unanswered(why) => unavailable(&why),
        }
    }
}

/// UNAVAILABLE with `CWSANDBOX_RUNNER_UNAVAILABLE`: the runner's agent cannot be reached.
fn unavailable(why: &str) -> ApiError {
    ApiError(
        Status::new(
            Code::Unavailable,
            format!("the runner's agent cannot be reached: {why}"),
        )
        .with_reason(Reason::RunnerUnavailable, Default::default()),
    )
}

impl RemoteAgent {
    /// `url` is the agent's base URL (no trailing slash); `http` is shared by every
    /// agent (one connection pool).
    pub fn new(url: &str, key: &str, http: reqwest::Client, give_up_after: Duration) -> Self {
        RemoteAgent {
            url: url.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            http,
            give_up_after,
        }
    }

    /// Whether this is the agent that reports `url` and `key`.
    pub fn is(&self, url: &str, key: &str) -> bool {
        self.url == url.trim_end_matches('/') && self.key == key
    }

    pub async fn launch(&self, request: &LaunchRequest) -> Result<Option<u32>, CallError> {
        let sent = self
            .request(Method::POST, "")
            .json(request)
            .timeout(LAUNCH_TIMEOUT);
        call::<LaunchResponse>(sent).await.map(|answer| answer.pid)
    }

    /// Asks the sandbox to stop; false if the agent does not know it.
    pub async fn stop(&self, id: &str, grace: Duration) -> Result<bool, CallError> {
        let body = StopRequest {
            grace_ms: millis(grace),
        };
        let sent = self
            .request(Method::POST, &format!("/{id}/stop"))
            .json(&body)
            .timeout(CALL_MARGIN);
        match call::<Empty>(sent).await {
            Ok(Empty {}) => Ok(true),
            Err(CallError::Refused(status)) if status.code == Code::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Follows the sandbox to its end (see the module's retry policy); `Err` says why
    /// its end cannot be known.
    pub async fn wait(&self, id: &str) -> Result<ExitOutcome, String> {
        let mut failing_since = None;
        loop {
            let poll = self
                .request(Method::GET, &format!("/{id}/outcome"))
                .query(&[("waitMs", millis(OUTCOME_POLL))])
                .timeout(OUTCOME_POLL + CALL_MARGIN);
            match call::<OutcomeResponse>(poll).await {
                Ok(OutcomeResponse {
                    outcome: Some(outcome),
                }) => return Ok(outcome),
                Ok(OutcomeResponse { outcome: None }) => failing_since = None,
                Err(CallError::Refused(status)) => {
                    return Err(format!(
                        "the runner's agent no longer knows this sandbox ({}); it may have restarted",
                        status.message
                    ));
                }
                Err(CallError::Unanswered(why)) => {
                    let since = *failing_since.get_or_insert_with(tokio::time::Instant::now);
                    if since.elapsed() >= self.give_up_after {
                        return Err(format!(
                            "lost contact with the runner's agent: no answer for {:?} ({why})",
                            self.give_up_after
                        ));
                    }
                    tokio::time::sleep(RETRY_INTERVAL).await;
                }
            }
        }
    }

    pub async fn exec(
        &self,
        id: &str,
        command: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, CallError> {
        let body = ExecRequest {
            command: command.to_vec(),
            timeout_ms: millis(timeout),
        };
        let sent = self
            .request(Method::POST, &format!("/{id}/exec"))
            .json(&body)
            .timeout(timeout + CALL_MARGIN);
        call(sent).await
    }

    /// Starts an interactive exec on the agent, over a WebSocket that a task relays to
    /// and from the session's channels (see `wire::SessionMessage`).
    pub async fn exec_session(
        &self,
        id: &str,
        request: &SessionRequest,
    ) -> Result<ExecSession, CallError> {
        let url = match self.url.strip_prefix("http://") {
            Some(rest) => format!("ws://{rest}/agent/v1/sandboxes/{id}/session"),
            None => {
                return Err(CallError::Unanswered(format!(
                    "sessions reach agents over plain HTTP only, not {}",
                    self.url
                )));
            }
        };
        let mut handshake = url
            .into_client_request()
            .map_err(|e| CallError::Unanswered(e.to_string()))?;
        let bearer = format!("Bearer {}", self.key)
            .parse()
            .map_err(|_| CallError::Unanswered("the agent key is not a header value".into()))?;
        handshake.headers_mut().insert(AUTHORIZATION, bearer);
        let opening = async {
            let (mut socket, _) = tokio_tungstenite::connect_async(handshake)
                .await
                .map_err(|e| CallError::Unanswered(e.to_string()))?;
            let first = serde_json::to_string(request).expect("session requests serialize");
            socket
                .send(WsMessage::text(first))
                .await
                .map_err(|e| CallError::Unanswered(e.to_string()))?;
            match next_session_message(&mut socket).await {
                Some(SessionMessage::Started) => Ok(socket),
                Some(SessionMessage::Refused(status)) => Err(CallError::Refused(status)),
                _ => Err(CallError::Unanswered(
                    "the agent closed the session before it started".into(),
                )),
            }
        };
        let socket = tokio::time::timeout(CALL_MARGIN, opening)
            .await
            .map_err(|_| CallError::Unanswered("the session did not start in time".into()))??;
        let (input, inputs) = mpsc::channel(16);
        let (outputs, output) = mpsc::channel(16);
        tokio::spawn(relay_session(
            socket,
            inputs,
            outputs,
            request.terminal.is_none(),
        ));
        Ok(ExecSession { input, output })
    }

    /// Stops the sandbox if it runs and removes its files on the agent.
    /// What each running sandbox of the agent uses now.
    pub async fn usage(&self) -> Result<UsageReport, CallError> {
        let sent = self.request(Method::GET, "/usage").timeout(CALL_MARGIN);
        call::<UsageReport>(sent).await
    }

    pub async fn delete(&self, id: &str) -> Result<(), CallError> {
        let sent = self
            .request(Method::DELETE, &format!("/{id}"))
            .timeout(LAUNCH_TIMEOUT);
        call::<Empty>(sent).await.map(drop)
    }

    /// The sandbox's log frames, relayed from the agent as they come. A relay that cannot
    /// start or is cut off ends with an Error frame; the reader resumes from the last
    /// frame it got.
    pub fn logs(&self, id: &str, request: &LogRequest) -> BoxStream<'static, LogStreamResponse> {
        let sent = self
            .request(Method::GET, &format!("/{id}/logs"))
            .query(&log_query(request))
            .send();
        stream::once(async move {
            let response = match sent.await {
                Ok(response) => response,
                Err(e) => {
                    return error_frame(format!(
                        "could not reach the runner's agent: {}",
                        describe(&e)
                    ));
                }
            };
            if response.status().is_success() {
                return relay_frames(response.bytes_stream()).boxed();
            }
            let status = response.status();
            let message = match response.json::<Status>().await {
                Ok(refusal) => refusal.message,
                Err(_) => format!("the runner's agent answered HTTP {status}"),
            };
            error_frame(message)
        })
        .flatten()
        .boxed()
    }

    fn request(&self, method: Method, path_under_sandboxes: &str) -> RequestBuilder {
        self.http
            .request(
                method,
                format!("{}/agent/v1/sandboxes{path_under_sandboxes}", self.url),
            )
            .bearer_auth(&self.key)
    }
}

/// Sends a request built with its body and timeout, and reads the answer.
async fn call<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, CallError> {
    let response = request
        .send()
        .await
        .map_err(|e| CallError::Unanswered(describe(&e)))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| CallError::Unanswered(describe(&e)))?;
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| {
            CallError::Unanswered(format!("the agent's answer could not be read: {e}"))
        });
    }
    match serde_json::from_slice::<Status>(&body) {
        Ok(refusal) if status.is_client_error() => Err(CallError::Refused(refusal)),
        Ok(failure) => Err(CallError::Unanswered(format!(
            "the agent failed (HTTP {status}): {}",
            failure.message
        ))),
        Err(_) => Err(CallError::Unanswered(format!(
            "the agent answered HTTP {status}"
        ))),
    }
}

/// A reqwest error with its causes: its own message rarely says what went wrong.
pub fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Reads NDJSON log frames off the bytes of an agent's answer, passing each on as soon
/// as its line is complete. It holds at most one line (up to [`MAX_LOG_LINE`]) and one
/// chunk, however long the log. The relay ends after a Complete or Error frame; if the
/// bytes break off or end before one, it ends with an Error frame that says so.
fn relay_frames<E: fmt::Display + Send + 'static>(
    bytes: impl Stream<Item = Result<Bytes, E>> + Send + 'static,
) -> impl Stream<Item = LogStreamResponse> + Send + 'static {
    let relay = Relay {
        bytes: bytes.boxed(),
        pending: Vec::new(),
    };
    stream::unfold(Some(relay), |relay| async move {
        let mut relay = relay?;
        let frame = relay.next_frame().await;
        let last = !matches!(frame, LogStreamResponse::Data(_));
        Some((frame, (!last).then_some(relay)))
    })
}

struct Relay<E> {
    bytes: BoxStream<'static, Result<Bytes, E>>,
    /// Bytes received past the last complete line.
    pending: Vec<u8>,
}

impl<E: fmt::Display + Send + 'static> Relay<E> {
    async fn next_frame(&mut self) -> LogStreamResponse {
        let cut_off = |why: String| {
            LogStreamResponse::Error(LogStreamError {
                message: format!("{why}; reconnect with the last sessionId and offset to read on"),
                code: String::new(),
            })
        };
        loop {
            if let Some(end) = self.pending.iter().position(|byte| *byte == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                let parsed = std::str::from_utf8(&line)
                    .map_err(|e| e.to_string())
                    .and_then(|text| parse_line(text).map_err(|e| e.to_string()));
                match parsed {
                    // A blank line, or a kind of frame this gateway does not know.
                    Ok(None) => continue,
                    Ok(Some(frame)) => return frame,
                    Err(e) => {
                        return cut_off(format!(
                            "the runner's agent sent a log frame that could not be read ({e})"
                        ));
                    }
                }
            }
            if self.pending.len() > MAX_LOG_LINE {
                return cut_off(format!(
                    "the runner's agent sent a log line longer than {MAX_LOG_LINE} bytes"
                ));
            }
            match self.bytes.next().await {
                Some(Ok(chunk)) => self.pending.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    return cut_off(format!("the connection to the runner's agent broke ({e})"));
                }
                None => return cut_off("the runner's agent ended the log early".to_owned()),
            }
        }
    }
}

type SessionSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next [`SessionMessage`] from the agent; `None` once the socket is closed or sends
/// something else.
async fn next_session_message(socket: &mut SessionSocket) -> Option<SessionMessage> {
    loop {
        match socket.next().await? {
            Ok(WsMessage::Text(text)) => return serde_json::from_str(&text).ok(),
            Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => {}
            _ => return None,
        }
    }
}

/// Relays a started session: input to the agent, output from it, until the session has
/// ended or either side has gone (dropping the socket ends the session on the agent).
/// The gateway's input ending closes a piped stdin (`piped`); a terminal's stays.
async fn relay_session(
    mut socket: SessionSocket,
    mut inputs: mpsc::Receiver<SessionInput>,
    outputs: mpsc::Sender<SessionOutput>,
    piped: bool,
) {
    let mut input_open = true;
    loop {
        tokio::select! {
            input = inputs.recv(), if input_open => {
                let message = match input {
                    Some(input) => input,
                    None => {
                        input_open = false;
                        if !piped {
                            continue;
                        }
                        SessionInput::CloseStdin
                    }
                };
                let text = serde_json::to_string(&message).expect("session input serializes");
                if socket.send(WsMessage::text(text)).await.is_err() {
                    // The agent is closing the session: what it sent before, the end
                    // included, is still to be read.
                    input_open = false;
                }
            }
            message = next_session_message(&mut socket) => match message {
                Some(SessionMessage::Output(output)) => {
                    let last = matches!(output, SessionOutput::Ended { .. });
                    if outputs.send(output).await.is_err() || last {
                        return;
                    }
                }
                // Cut off without an end: the output channel closes without `Ended`,
                // which its reader reports as lost contact.
                _ => return,
            },
            () = outputs.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbox_api::logs::{LogStreamComplete, LogStreamData};

    /// A frame as one NDJSON line.
    fn line(frame: &LogStreamResponse) -> Vec<u8> {
        let mut line = serde_json::to_vec(frame).unwrap();
        line.push(b'\n');
        line
    }

    fn data(text: &str, offset: u64) -> LogStreamResponse {
        LogStreamResponse::Data(LogStreamData {
            data: text.as_bytes().to_vec(),
            timestamp: None,
            session_id: "s".into(),
            offset,
        })
    }

    async fn relay(chunks: Vec<Result<Vec<u8>, &'static str>>) -> Vec<LogStreamResponse> {
        let bytes = stream::iter(chunks.into_iter().map(|chunk| chunk.map(Bytes::from)));
        relay_frames(bytes).collect().await
    }

    #[tokio::test]
    async fn frames_split_across_chunks_are_relayed_whole_and_in_order() {
        let mut text = line(&data("hello\n", 6));
        text.extend(line(&data("world\n", 12)));
        text.extend(line(&LogStreamResponse::Complete(LogStreamComplete {})));
        let chunks = text.chunks(7).map(|c| Ok(c.to_vec())).collect();
        assert_eq!(
            relay(chunks).await,
            [
                data("hello\n", 6),
                data("world\n", 12),
                LogStreamResponse::Complete(LogStreamComplete {})
            ]
        );
    }

    #[tokio::test]
    async fn a_relay_cut_off_or_ended_early_says_so_in_an_error_frame() {
        let first = line(&data("a", 1));
        for ending in [vec![Err("connection reset")], vec![]] {
            let mut chunks = vec![Ok(first.clone())];
            chunks.extend(ending);
            let frames = relay(chunks).await;
            assert_eq!(frames[0], data("a", 1));
            let LogStreamResponse::Error(error) = &frames[1] else {
                panic!("expected an error frame, got {frames:?}");
            };
            assert!(error.message.contains("sessionId"), "{}", error.message);
            assert_eq!(frames.len(), 2);
        }
    }

    #[tokio::test]
    async fn an_endless_line_is_refused_instead_of_buffered() {
        let chunk = vec![b'x'; 64 * 1024];
        let chunks = std::iter::repeat_n(Ok(chunk), MAX_LOG_LINE / (64 * 1024) + 2).collect();
        let frames = relay(chunks).await;
        assert!(
            matches!(&frames[..], [LogStreamResponse::Error(e)] if e.message.contains("longer than")),
            "{frames:?}"
        );
    }
}
