//! `GatewayStreamingService`: a sandbox's log (`StreamLogs`, the NDJSON route's frames
//! and semantics) and commands run in it (`StreamExec`).
//!
//! `StreamExec` runs an interactive exec session (`operations::execs`): input in,
//! output out as it comes, on a terminal with `tty`. When the gateway stops, both end
//! with a last frame that says so.

use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::convert::to_proto;
use super::proto::gateway_streaming_service_server::GatewayStreamingService;
use super::proto::{
    ExecStreamError, ExecStreamExit, ExecStreamOutput, ExecStreamRequest, ExecStreamResponse,
    LogStreamInit, LogStreamRequest, StreamingExecReady, exec_stream_output, exec_stream_request,
    exec_stream_response, log_stream_request,
};
use super::{caller, status::to_status};
use crate::operations::Platform;
use crate::operations::execs::{SessionRequest, TerminalSize};
use crate::operations::{execs, sandboxes};

use crate::shutdown::until_stopping;
use crate::web::extract::{QueryPairs, log_request};
use sandbox_api::exec_stream;

type Frames<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

pub struct StreamingService {
    platform: Platform,
    /// Becomes true when the gateway starts to stop: log follows end then.
    stopping: watch::Receiver<bool>,
}

impl StreamingService {
    pub fn new(platform: Platform, stopping: watch::Receiver<bool>) -> StreamingService {
        StreamingService { platform, stopping }
    }
}

#[tonic::async_trait]
impl GatewayStreamingService for StreamingService {
    type StreamExecStream = Frames<ExecStreamResponse>;
    type StreamLogsStream = Frames<super::proto::LogStreamResponse>;

    async fn stream_logs(
        &self,
        request: Request<Streaming<LogStreamRequest>>,
    ) -> Result<Response<Self::StreamLogsStream>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let mut inbound = request.into_inner();
        let init = match inbound.message().await? {
            Some(LogStreamRequest {
                request: Some(log_stream_request::Request::Init(init)),
            }) => init,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message of StreamLogs must be `init`",
                ));
            }
        };
        if init.since_time.is_some() {
            return Err(Status::invalid_argument(
                "since_time is not supported by the local gateway; use tail_lines",
            ));
        }
        let log = log_request(&log_query(&init)).map_err(to_status)?;
        let record = sandboxes::find(&self.platform, &caller, &init.sandbox_id)
            .await
            .map_err(to_status)?;
        let frames = until_stopping(
            sandboxes::logs(&self.platform, &record, log),
            self.stopping.clone(),
        );
        // The client shows each line's time only if it is in the text (as `kubectl logs
        // --timestamps` writes it), so with timestamps every line starts with its chunk's.
        let mut at_line_start = true;
        let timestamps = init.timestamps;
        let frames = frames.map(move |mut frame| {
            if timestamps && let sandbox_api::logs::LogStreamResponse::Data(data) = &mut frame {
                let stamp = data
                    .timestamp
                    .and_then(|t| {
                        t.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    })
                    .unwrap_or_default();
                data.data = stamp_lines(&data.data, &stamp, &mut at_line_start);
            }
            to_proto(&frame)
        });
        Ok(Response::new(Box::pin(frames)))
    }

    async fn stream_exec(
        &self,
        request: Request<Streaming<ExecStreamRequest>>,
    ) -> Result<Response<Self::StreamExecStream>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let timeout_seconds = grpc_timeout_seconds(&request);
        let mut inbound = request.into_inner();
        let init = match inbound.message().await? {
            Some(ExecStreamRequest {
                request: Some(exec_stream_request::Request::Init(init)),
            }) => init,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message of StreamExec must be `init`",
                ));
            }
        };
        if !init.resume_session_id.is_empty() {
            return Err(Status::unimplemented(
                "resuming an exec session is not served by the local gateway; run the command again",
            ));
        }
        let session_request = SessionRequest {
            command: init.command,
            env: init.env.into_iter().collect(),
            terminal: init
                .tty
                .then(|| TerminalSize::from_client(init.tty_width, init.tty_height)),
            timeout_seconds: u64::try_from(timeout_seconds).ok().filter(|s| *s > 0),
        };
        let running =
            execs::exec_session(&self.platform, &caller, &init.sandbox_id, &session_request)
                .await
                .map_err(to_status)?;
        // The client's messages in their domain form; a broken inbound stream ends them
        // as a half-close would (a gone client is noticed when its answer cannot be sent).
        let client = inbound
            .take_while(|message| std::future::ready(message.is_ok()))
            .filter_map(|message| {
                std::future::ready(message.ok().and_then(|m| m.request).map(domain_request))
            });
        let (frames, answer) = mpsc::channel(4);
        let stopping = self.stopping.clone();
        tokio::spawn(async move {
            execs::relay(running, Box::pin(client), frames, stopping).await;
        });
        Ok(Response::new(Box::pin(
            ReceiverStream::new(answer).map(proto_response),
        )))
    }
}

/// A client message of `StreamExec` as the domain's.
fn domain_request(request: exec_stream_request::Request) -> exec_stream::ExecStreamRequest {
    use exec_stream::ExecStreamRequest as Domain;
    match request {
        exec_stream_request::Request::Init(init) => Domain::Init(exec_stream::ExecStreamInit {
            sandbox_id: init.sandbox_id,
            command: init.command,
            tty: init.tty,
            tty_width: init.tty_width,
            tty_height: init.tty_height,
        }),
        exec_stream_request::Request::Stdin(data) => {
            Domain::Stdin(exec_stream::ExecStreamData { data: data.data })
        }
        exec_stream_request::Request::Resize(size) => {
            Domain::Resize(exec_stream::ExecStreamResize {
                width: size.width,
                height: size.height,
            })
        }
        exec_stream_request::Request::Close(_) => Domain::Close(exec_stream::Empty {}),
    }
}

/// A domain message of `StreamExec` as the client's; a deadline passed is the gRPC
/// status the client turns into its timeout error.
fn proto_response(response: exec_stream::ExecStreamResponse) -> Result<ExecStreamResponse, Status> {
    use exec_stream::ExecStreamResponse as Domain;
    let response = match response {
        Domain::Ready(_) => exec_stream_response::Response::Ready(StreamingExecReady {
            ready_at: Some(now()),
            session_id: String::new(),
        }),
        Domain::Output(output) => exec_stream_response::Response::Output(ExecStreamOutput {
            stream_type: match output.stream_type {
                exec_stream::StreamType::Stderr => exec_stream_output::StreamType::Stderr,
                _ => exec_stream_output::StreamType::Stdout,
            } as i32,
            data: output.data,
            timestamp: Some(now()),
        }),
        Domain::Exit(exit) => exec_stream_response::Response::Exit(ExecStreamExit {
            exit_code: exit.exit_code,
            completed_at: Some(now()),
        }),
        Domain::Error(error) if error.code == "DEADLINE_EXCEEDED" => {
            return Err(Status::deadline_exceeded(error.message));
        }
        Domain::Error(error) => exec_stream_response::Response::Error(ExecStreamError {
            message: error.message,
            code: error.code,
        }),
    };
    Ok(frame(response))
}

fn frame(response: exec_stream_response::Response) -> ExecStreamResponse {
    ExecStreamResponse {
        response: Some(response),
    }
}

fn now() -> pbjson_types::Timestamp {
    let at = time::OffsetDateTime::now_utc();
    pbjson_types::Timestamp {
        seconds: at.unix_timestamp(),
        nanos: i32::try_from(at.nanosecond()).unwrap_or(0),
    }
}

/// The client's deadline (`grpc-timeout`, e.g. `305S`, `300000m`), in whole seconds; 0
/// (the exec operation's default) without one.
fn grpc_timeout_seconds<T>(request: &Request<T>) -> i32 {
    let Some(value) = request
        .metadata()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
    else {
        return 0;
    };
    let (number, unit) = value.split_at(value.len().saturating_sub(1));
    let Ok(number) = number.parse::<u64>() else {
        return 0;
    };
    let seconds = match unit {
        "H" => number.saturating_mul(3600),
        "M" => number.saturating_mul(60),
        "S" => number,
        "m" => number / 1000,
        "u" => number / 1_000_000,
        "n" => number / 1_000_000_000,
        _ => 0,
    };
    i32::try_from(seconds).unwrap_or(i32::MAX)
}

/// An `init`'s fields as the JSON route's log query, so that both read a request alike.
fn log_query(init: &LogStreamInit) -> QueryPairs {
    let mut pairs = vec![
        ("follow".to_owned(), init.follow.to_string()),
        ("timestamps".to_owned(), init.timestamps.to_string()),
    ];
    if init.tail_lines != 0 {
        pairs.push(("tailLines".to_owned(), init.tail_lines.to_string()));
    }
    if !init.resume_session_id.is_empty() {
        pairs.push(("resumeSessionId".to_owned(), init.resume_session_id.clone()));
        pairs.push(("resumeOffset".to_owned(), init.resume_offset.to_string()));
    }
    QueryPairs(pairs)
}

/// `data` with `stamp` and a space at the start of every line; `at_line_start` carries
/// across chunks, which need not end at line ends.
fn stamp_lines(data: &[u8], stamp: &str, at_line_start: &mut bool) -> Vec<u8> {
    let mut stamped = Vec::with_capacity(data.len() + stamp.len() + 1);
    for &byte in data {
        if *at_line_start {
            stamped.extend_from_slice(stamp.as_bytes());
            stamped.push(b' ');
            *at_line_start = false;
        }
        stamped.push(byte);
        if byte == b'\n' {
            *at_line_start = true;
        }
    }
    stamped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_gets_its_stamp_across_chunks() {
        let mut at_start = true;
        let first = stamp_lines(b"one\ntw", "T1", &mut at_start);
        let second = stamp_lines(b"o\nthree\n", "T2", &mut at_start);
        assert_eq!(first, b"T1 one\nT1 tw");
        assert_eq!(second, b"o\nT2 three\n");
        assert!(at_start);
    }

    #[test]
    fn a_negative_tail_is_refused_as_the_json_route_refuses_it() {
        let init = LogStreamInit {
            tail_lines: -1,
            ..Default::default()
        };
        let problem = log_request(&log_query(&init)).unwrap_err();
        assert!(
            problem.0.message.contains("tailLines"),
            "{}",
            problem.0.message
        );
    }
}
