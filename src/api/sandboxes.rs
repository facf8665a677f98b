//! Sandboxes on the data plane: listing, reading, stopping, deleting, and following a
//! sandbox's log as it is written.

use std::ops::ControlFlow;

use gloo_net::http::Request;
use sandbox_api::exec_stream::{ExecStreamInit, ExecStreamRequest, TerminalHello};
use sandbox_api::logs::{LogStreamResponse, parse_line};
use sandbox_api::sandbox::{
    GetSandboxResponse, ListSandboxesResponse, SandboxInfo, StopSandboxRequest,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;

use super::{Answer, Api, ApiError, open};

/// The sandbox list's filters, named as the API's query parameters (and the URL's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SandboxQuery {
    /// `SANDBOX_STATUS_*` names; any of them.
    pub statuses: Vec<String>,
    /// All of them.
    pub tags: Vec<String>,
    pub profile_name: String,
    pub runner_id: String,
    /// Also list sandboxes that have ended.
    pub include_stopped: bool,
}

impl SandboxQuery {
    pub const PARAMETERS: [&'static str; 5] = [
        "status",
        "tags",
        "profileNames",
        "runnerIds",
        "includeStopped",
    ];

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> SandboxQuery {
        let mut query = SandboxQuery::default();
        let list = |v: &str| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        for (key, value) in pairs {
            match key {
                "status" => query.statuses = list(value),
                "tags" => query.tags = list(value),
                "profileNames" => query.profile_name = value.trim().to_owned(),
                "runnerIds" => query.runner_id = value.trim().to_owned(),
                "includeStopped" => query.include_stopped = value == "true",
                _ => {}
            }
        }
        query
    }

    /// The non-empty filters as query pairs.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let values = [
            self.statuses.join(","),
            self.tags.join(","),
            self.profile_name.clone(),
            self.runner_id.clone(),
            if self.include_stopped {
                "true".to_owned()
            } else {
                String::new()
            },
        ];
        Self::PARAMETERS
            .into_iter()
            .zip(values)
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }
}

/// Where a log stream goes on from: its session and the byte offset just past what
/// has been read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogCursor {
    pub session_id: String,
    pub offset: u64,
}

/// Which part of a log to read, and whether to wait for more.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogRead<'a> {
    /// Go on from here; else start at the beginning (or at `tail_lines`).
    pub from: Option<&'a LogCursor>,
    /// Start at the beginning of the last this many lines.
    pub tail_lines: Option<u64>,
    /// Keep the stream open for what the sandbox writes next.
    pub follow: bool,
}

/// How a log stream ended without an HTTP error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEnd {
    /// Every byte has been read (the sandbox finished, or the read did not follow).
    Complete,
    /// The reader said it had enough.
    Enough,
    /// The connection ended before a `complete` frame: reconnect from the cursor.
    Cut,
    /// The server cannot go on from the cursor (`SESSION_NOT_FOUND`, `REPLAY_GAP`).
    Refused { code: String, message: String },
}

impl Api {
    /// The organization's sandboxes that pass `query`.
    pub async fn list_sandboxes(&self, query: &SandboxQuery) -> Result<Vec<SandboxInfo>, ApiError> {
        let page: ListSandboxesResponse = self
            .get(Request::get(&self.data_plane("sandboxes")).query(query.to_pairs()))
            .await?;
        Ok(page.sandboxes)
    }

    /// The active sandboxes on one runner.
    pub async fn list_sandboxes_on(&self, runner_id: &str) -> Result<Vec<SandboxInfo>, ApiError> {
        let query = SandboxQuery {
            runner_id: runner_id.to_owned(),
            ..SandboxQuery::default()
        };
        self.list_sandboxes(&query).await
    }

    /// Opens sandbox `id`'s terminal (SPEC §4: a WebSocket whose first message carries
    /// the token, never the URL) and asks it to run `init` once connected. The caller
    /// reads the socket's messages (`ExecStreamResponse` JSON) and sends its input.
    pub fn open_terminal(
        &self,
        id: &str,
        init: ExecStreamInit,
    ) -> Result<web_sys::WebSocket, ApiError> {
        let token = self.session.token_untracked().ok_or(ApiError::SignedOut)?;
        let path = format!("sandboxes/{}/terminal", js_sys::encode_uri_component(id));
        let url = websocket_url(&self.data_plane_absolute(&path));
        let socket = web_sys::WebSocket::new(&url)
            .map_err(|_| ApiError::Unreachable(format!("could not open {url}")))?;
        let hello = serde_json::to_string(&TerminalHello { token }).unwrap_or_default();
        let init = serde_json::to_string(&ExecStreamRequest::Init(init)).unwrap_or_default();
        let opened = socket.clone();
        let on_open = Closure::once_into_js(move || {
            let _ = opened.send_with_str(&hello);
            let _ = opened.send_with_str(&init);
        });
        socket.set_onopen(Some(on_open.unchecked_ref()));
        Ok(socket)
    }

    pub async fn get_sandbox(&self, id: &str) -> Result<GetSandboxResponse, ApiError> {
        let id = js_sys::encode_uri_component(id);
        self.get(Request::get(&self.data_plane(&format!("sandboxes/{id}"))))
            .await
    }

    /// Asks the sandbox to stop: it gets `grace_seconds` between the signal and a kill.
    pub async fn stop_sandbox(&self, id: &str, grace_seconds: i32) -> Result<(), ApiError> {
        let body = StopSandboxRequest {
            graceful_shutdown_seconds: grace_seconds,
            ..StopSandboxRequest::default()
        };
        let body = serde_json::to_string(&body).unwrap_or_default();
        let path = format!("sandboxes/{}/stop", js_sys::encode_uri_component(id));
        self.send::<serde::de::IgnoredAny>(Request::post(&self.data_plane(&path)), body)
            .await
            .map(drop)
    }

    pub async fn delete_sandbox(&self, id: &str) -> Result<(), ApiError> {
        let path = format!("sandboxes/{}", js_sys::encode_uri_component(id));
        self.authorized(Request::delete(&self.data_plane(&path)), None)
            .await?
            .decode::<serde::de::IgnoredAny>()
            .map(drop)
    }

    /// Reads the sandbox's log as `read` says: `on_open` once the server has
    /// accepted, then every data frame to `on_data` as it arrives, until the log ends
    /// or `on_data` breaks. Returns how the stream ended; the caller reconnects after
    /// `Cut` with the last cursor it saw. Dropping the future closes the connection.
    pub async fn read_logs(
        &self,
        id: &str,
        read: LogRead<'_>,
        on_open: impl FnOnce(),
        mut on_data: impl FnMut(sandbox_api::logs::LogStreamData) -> ControlFlow<()>,
    ) -> Result<LogEnd, ApiError> {
        let token = self.session.token_untracked().ok_or(ApiError::SignedOut)?;
        let path = format!("sandboxes/{}/logs", js_sys::encode_uri_component(id));
        let mut query = vec![
            ("follow", read.follow.to_string()),
            ("timestamps", "true".to_owned()),
        ];
        if let Some(cursor) = read.from {
            query.push(("resumeSessionId", cursor.session_id.clone()));
            query.push(("resumeOffset", cursor.offset.to_string()));
        } else if let Some(lines) = read.tail_lines {
            query.push(("tailLines", lines.to_string()));
        }
        let request = Request::get(&self.data_plane(&path))
            .query(query)
            .header("Authorization", &format!("Bearer {token}"));
        let opened = open(request, None).await;
        self.connectivity
            .record(!matches!(opened, Err(ApiError::Unreachable(_))));
        let (response, _abort) = opened?;
        if !response.ok() {
            let text = response.text().await.unwrap_or_default();
            let answer = Answer {
                http_status: response.status(),
                ok: false,
                text,
            };
            return answer
                .decode::<serde::de::IgnoredAny>()
                .map(|_| LogEnd::Cut);
        }
        let Some(body) = response.body() else {
            return Ok(LogEnd::Cut);
        };
        on_open();
        let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
        let mut pending: Vec<u8> = Vec::new();
        let mut busy_since = js_sys::Date::now();
        loop {
            let Ok(chunk) = JsFuture::from(reader.read()).await else {
                return Ok(LogEnd::Cut);
            };
            let done = js_sys::Reflect::get(&chunk, &"done".into())
                .ok()
                .and_then(|d| d.as_bool());
            if done == Some(true) {
                return Ok(LogEnd::Cut);
            }
            let Ok(value) = js_sys::Reflect::get(&chunk, &"value".into()) else {
                return Ok(LogEnd::Cut);
            };
            pending.extend(js_sys::Uint8Array::new(&value).to_vec());
            // Frames are whole lines; a chunk may end in the middle of one.
            let mut start = 0;
            while let Some(length) = pending[start..].iter().position(|&b| b == b'\n') {
                let frame = parse_frame(&pending[start..start + length]);
                start += length + 1;
                match frame {
                    Ok(Some(LogStreamResponse::Data(data))) => {
                        if on_data(data).is_break() {
                            return Ok(LogEnd::Enough);
                        }
                    }
                    Ok(Some(LogStreamResponse::Complete(_))) => return Ok(LogEnd::Complete),
                    Ok(Some(LogStreamResponse::Error(error))) => {
                        return Ok(LogEnd::Refused {
                            code: error.code,
                            message: error.message,
                        });
                    }
                    Ok(None) => {}
                    Err(detail) => {
                        return Err(ApiError::Unexpected {
                            http_status: 200,
                            detail,
                        });
                    }
                }
                // A burst of output (a long log read from its start arrives megabytes
                // at a time) is taken a slice at a time, so the page keeps painting.
                if js_sys::Date::now() - busy_since > BUSY_SLICE_MS {
                    pending.drain(..start);
                    start = 0;
                    crate::sleep::sleep(std::time::Duration::ZERO).await;
                    busy_since = js_sys::Date::now();
                }
            }
            pending.drain(..start);
        }
    }
}

/// The longest a log reader works before letting the browser paint and handle input.
const BUSY_SLICE_MS: f64 = 10.0;

fn parse_frame(line: &[u8]) -> Result<Option<LogStreamResponse>, String> {
    let line = std::str::from_utf8(line).map_err(|e| format!("a log frame is not UTF-8: {e}"))?;
    parse_line(line).map_err(|e| format!("a log frame did not parse: {e}"))
}

impl Api {
    /// Runs `command` in the sandbox and waits (at most `timeout_seconds`) for its
    /// output and exit code.
    pub async fn exec(
        &self,
        id: &str,
        command: Vec<String>,
        timeout_seconds: i32,
    ) -> Result<sandbox_api::sandbox::ExecResponse, ApiError> {
        let body = sandbox_api::sandbox::ExecSandboxRequest {
            command,
            max_timeout_seconds: timeout_seconds,
            ..Default::default()
        };
        let body = serde_json::to_string(&body).unwrap_or_default();
        let path = format!("sandboxes/{}/exec", js_sys::encode_uri_component(id));
        let answer: sandbox_api::sandbox::ExecSandboxResponse = self
            .send(Request::post(&self.data_plane(&path)), body)
            .await?;
        Ok(answer.result.unwrap_or_default())
    }
}

impl Api {
    /// Starts a sandbox; placement happens on the gateway, with the same code the
    /// console's "will it fit" runs.
    pub async fn start_sandbox(
        &self,
        request: &sandbox_api::sandbox::StartSandboxRequest,
    ) -> Result<sandbox_api::sandbox::StartSandboxResponse, ApiError> {
        let body = serde_json::to_string(request).unwrap_or_default();
        self.send(Request::post(&self.data_plane("sandboxes")), body)
            .await
    }
}

/// `http(s)://…` as the WebSocket URL of the same place (`ws(s)://…`).
fn websocket_url(http_url: &str) -> String {
    match http_url.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some((_, rest)) => format!("ws://{rest}"),
        None => http_url.to_owned(),
    }
}
