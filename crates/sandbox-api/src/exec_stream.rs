//! An interactive exec's messages (`GatewayStreamingService.StreamExec`) in their proto3
//! JSON form, which the browser terminal's WebSocket carries (SPEC §4, local decision:
//! `GET /v1beta2/sandboxes/{id}/terminal`, the token in a first [`TerminalHello`],
//! never in the URL).

use serde::{Deserialize, Serialize};

use crate::json::proto_enum;

/// The terminal socket's first message: who is asking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalHello {
    pub token: String,
}

/// What the client sends: `init` first, then input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExecStreamRequest {
    Init(ExecStreamInit),
    Stdin(ExecStreamData),
    Resize(ExecStreamResize),
    /// No more input: the command's stdin closes (on a terminal, end-of-file is typed).
    Close(Empty),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecStreamInit {
    pub sandbox_id: String,
    pub command: Vec<String>,
    pub tty: bool,
    pub tty_width: u32,
    pub tty_height: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecStreamData {
    /// Raw bytes; base64 on the wire.
    #[serde(with = "crate::json::base64_bytes")]
    pub data: Vec<u8>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecStreamResize {
    pub width: u32,
    pub height: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// What the gateway sends: `ready`, then output, then `exit` or `error` (the last).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExecStreamResponse {
    Ready(Empty),
    Output(ExecStreamOutput),
    Exit(ExecStreamExit),
    Error(ExecStreamError),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecStreamOutput {
    pub stream_type: StreamType,
    /// Raw bytes; base64 on the wire.
    #[serde(with = "crate::json::base64_bytes")]
    pub data: Vec<u8>,
}

proto_enum! {
    pub enum StreamType {
        Unspecified = "STREAM_TYPE_UNSPECIFIED",
        Stdout = "STREAM_TYPE_STDOUT",
        Stderr = "STREAM_TYPE_STDERR",
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecStreamExit {
    pub exit_code: i32,
}

/// Why the stream ends without an exit: `code` is an `ErrorInfo` reason or a gRPC code
/// name (`UNAVAILABLE`, `DEADLINE_EXCEEDED`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecStreamError {
    pub message: String,
    pub code: String,
}

impl ExecStreamResponse {
    /// Whether nothing follows this message.
    pub fn is_last(&self) -> bool {
        matches!(
            self,
            ExecStreamResponse::Exit(_) | ExecStreamResponse::Error(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_and_write_as_the_proto3_json_of_streaming_proto() {
        let init: ExecStreamRequest = serde_json::from_str(
            r#"{"init": {"sandboxId": "s", "command": ["sh"], "tty": true, "ttyWidth": 80, "ttyHeight": 24}}"#,
        )
        .unwrap();
        assert_eq!(
            init,
            ExecStreamRequest::Init(ExecStreamInit {
                sandbox_id: "s".into(),
                command: vec!["sh".into()],
                tty: true,
                tty_width: 80,
                tty_height: 24,
            })
        );
        let stdin: ExecStreamRequest =
            serde_json::from_str(r#"{"stdin": {"data": "aGk="}}"#).unwrap();
        assert_eq!(
            stdin,
            ExecStreamRequest::Stdin(ExecStreamData {
                data: b"hi".to_vec()
            })
        );
        let close: ExecStreamRequest = serde_json::from_str(r#"{"close": {}}"#).unwrap();
        assert_eq!(close, ExecStreamRequest::Close(Empty {}));
        let output = ExecStreamResponse::Output(ExecStreamOutput {
            stream_type: StreamType::Stdout,
            data: b"hi".to_vec(),
        });
        assert_eq!(
            serde_json::to_value(&output).unwrap(),
            serde_json::json!({"output": {"streamType": "STREAM_TYPE_STDOUT", "data": "aGk="}})
        );
        assert!(!output.is_last());
        assert!(ExecStreamResponse::Exit(ExecStreamExit { exit_code: 0 }).is_last());
    }
}
