//! The log stream for browsers (SPEC §4, local decision: gRPC `StreamLogs` is not
//! callable from a browser). `GET /v1beta2/sandboxes/{id}/logs` answers
//! `application/x-ndjson`: one [`LogStreamResponse`] per line, in the proto3 JSON form of
//! the `StreamLogs` frames of `streaming.proto`.
//!
//! A reader that loses the connection reconnects with the last frame's `sessionId` and
//! `offset` (`resumeSessionId`, `resumeOffset`) and gets exactly the bytes it has not
//! seen, or an error frame saying why it cannot.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::json::is_zero;

/// One frame of the stream: exactly one of the schema's oneof `response` members,
/// written as a JSON object with that single key (`{"data": {...}}`, `{"error": {...}}`,
/// `{"complete": {}}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "LogStreamFrame")]
pub enum LogStreamResponse {
    Data(LogStreamData),
    Error(LogStreamError),
    /// The stream ended normally: no more frames follow.
    Complete(LogStreamComplete),
}

/// A chunk of the sandbox's output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogStreamData {
    /// Raw bytes, not necessarily UTF-8 nor cut at line ends; base64 on the wire.
    #[serde(
        with = "crate::json::base64_bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub data: Vec<u8>,
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<OffsetDateTime>,
    /// Names this stream for a later resume.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub session_id: String,
    /// The byte offset just past this chunk within the session: what a resume sends
    /// as `resumeOffset` to continue right after it.
    #[serde(with = "crate::json::uint64", skip_serializing_if = "is_zero")]
    pub offset: u64,
}

/// Why the stream cannot go on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogStreamError {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// A machine-readable cause, such as [`LogStreamError::SESSION_NOT_FOUND`].
    #[serde(skip_serializing_if = "String::is_empty")]
    pub code: String,
}

/// The codes a resume can fail with (local decision, SPEC §4).
impl LogStreamError {
    /// `resumeSessionId` names no session the server knows.
    pub const SESSION_NOT_FOUND: &'static str = "SESSION_NOT_FOUND";
    /// The server cannot replay from `resumeOffset`; going on would skip output.
    pub const REPLAY_GAP: &'static str = "REPLAY_GAP";
}

/// The end of a stream; it carries nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogStreamComplete {}

/// Reads one line of the NDJSON stream. `Ok(None)` means "skip this line": it is blank,
/// or its frame has none of the three members, which is how a kind of frame added by a
/// newer server looks to this client (proto3 readers ignore unknown fields).
pub fn parse_line(line: &str) -> Result<Option<LogStreamResponse>, serde_json::Error> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let frame: LogStreamFrame = serde_json::from_str(line)?;
    if frame.is_empty() {
        return Ok(None);
    }
    LogStreamResponse::try_from(frame)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// A frame as proto3 JSON reads it: an object whose oneof members are optional fields,
/// beside any fields this client does not know.
#[derive(Deserialize)]
struct LogStreamFrame {
    data: Option<LogStreamData>,
    error: Option<LogStreamError>,
    complete: Option<LogStreamComplete>,
}

impl LogStreamFrame {
    fn is_empty(&self) -> bool {
        self.data.is_none() && self.error.is_none() && self.complete.is_none()
    }
}

impl TryFrom<LogStreamFrame> for LogStreamResponse {
    type Error = &'static str;

    fn try_from(frame: LogStreamFrame) -> Result<Self, &'static str> {
        match (frame.data, frame.error, frame.complete) {
            (Some(data), None, None) => Ok(LogStreamResponse::Data(data)),
            (None, Some(error), None) => Ok(LogStreamResponse::Error(error)),
            (None, None, Some(complete)) => Ok(LogStreamResponse::Complete(complete)),
            (None, None, None) => Err("a log frame needs one of `data`, `error`, `complete`"),
            _ => Err("a log frame carries only one of `data`, `error`, `complete`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn parse(line: &str) -> LogStreamResponse {
        parse_line(line).unwrap().unwrap()
    }

    fn write(frame: &LogStreamResponse) -> String {
        serde_json::to_string(frame).unwrap()
    }

    #[test]
    fn a_data_frame_reads_bytes_time_session_and_offset() {
        let frame = parse(
            r#"{"data": {"data": "aGVsbG8K", "timestamp": "2026-03-01T12:00:01Z",
                         "sessionId": "s-1", "offset": "6"}}"#,
        );
        assert_eq!(
            frame,
            LogStreamResponse::Data(LogStreamData {
                data: b"hello\n".to_vec(),
                timestamp: Some(datetime!(2026-03-01 12:00:01 UTC)),
                session_id: "s-1".into(),
                offset: 6,
            })
        );
    }

    #[test]
    fn a_data_frame_writes_base64_and_the_offset_as_a_string() {
        let frame = LogStreamResponse::Data(LogStreamData {
            data: vec![0xff, b'\n'],
            session_id: "s-1".into(),
            offset: 4_294_967_298,
            ..LogStreamData::default()
        });
        assert_eq!(
            write(&frame),
            r#"{"data":{"data":"/wo=","sessionId":"s-1","offset":"4294967298"}}"#
        );
        assert_eq!(parse(&write(&frame)), frame);
    }

    #[test]
    fn the_complete_frame_is_an_empty_object_under_its_key() {
        let frame = LogStreamResponse::Complete(LogStreamComplete {});
        assert_eq!(write(&frame), r#"{"complete":{}}"#);
        assert_eq!(parse(r#"{"complete":{}}"#), frame);
    }

    #[test]
    fn resume_errors_round_trip_with_their_codes() {
        for code in [
            LogStreamError::SESSION_NOT_FOUND,
            LogStreamError::REPLAY_GAP,
        ] {
            let frame = LogStreamResponse::Error(LogStreamError {
                message: "cannot resume".into(),
                code: code.into(),
            });
            let line = write(&frame);
            assert_eq!(
                line,
                format!(r#"{{"error":{{"message":"cannot resume","code":"{code}"}}}}"#)
            );
            assert_eq!(parse(&line), frame);
        }
    }

    #[test]
    fn unknown_fields_beside_a_member_are_ignored() {
        let frame = parse(r#"{"data": {"data": "", "offset": 3, "stream": "stdout"}, "seq": 9}"#);
        let LogStreamResponse::Data(data) = frame else {
            panic!("expected a data frame, got {frame:?}");
        };
        assert_eq!((data.data.len(), data.offset), (0, 3));
    }

    #[test]
    fn blank_lines_and_frames_of_unknown_kinds_are_skipped() {
        assert_eq!(parse_line("").unwrap(), None);
        assert_eq!(parse_line("  \r").unwrap(), None);
        assert_eq!(parse_line(r#"{"heartbeat": {}}"#).unwrap(), None);
    }

    #[test]
    fn a_frame_with_two_members_or_broken_json_is_an_error() {
        assert!(parse_line(r#"{"data": {}, "complete": {}}"#).is_err());
        assert!(parse_line(r#"{"data": {"data": "%%%"}}"#).is_err());
        assert!(parse_line(r#"{"data": "#).is_err());
    }

    #[test]
    fn deserializing_the_enum_directly_requires_exactly_one_member() {
        assert!(serde_json::from_str::<LogStreamResponse>(r#"{"heartbeat": {}}"#).is_err());
        assert!(
            serde_json::from_str::<LogStreamResponse>(r#"{"error": {}, "complete": {}}"#).is_err()
        );
    }

    #[test]
    fn a_whole_body_reads_line_by_line_in_order() {
        let body = "{\"data\":{\"data\":\"YQo=\",\"sessionId\":\"s\",\"offset\":\"2\"}}\n\
                    {\"data\":{\"data\":\"Ygo=\",\"sessionId\":\"s\",\"offset\":\"4\"}}\n\
                    {\"complete\":{}}\n";
        let frames: Vec<_> = body
            .lines()
            .filter_map(|line| parse_line(line).unwrap())
            .collect();
        let offsets: Vec<_> = frames
            .iter()
            .filter_map(|f| match f {
                LogStreamResponse::Data(d) => Some(d.offset),
                _ => None,
            })
            .collect();
        assert_eq!(offsets, [2, 4]);
        assert_eq!(
            frames.last(),
            Some(&LogStreamResponse::Complete(LogStreamComplete {}))
        );
    }
}
