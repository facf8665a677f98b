//! `google.rpc.Status`, the error body of every failed request (SPEC §2).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::violation::Violation;

/// The domain named in every `ErrorInfo` this platform produces.
pub const ERROR_DOMAIN: &str = "cwsandbox.com";

/// gRPC status codes, written as their numbers on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    Ok = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

impl Code {
    const ALL: [Code; 17] = [
        Code::Ok,
        Code::Cancelled,
        Code::Unknown,
        Code::InvalidArgument,
        Code::DeadlineExceeded,
        Code::NotFound,
        Code::AlreadyExists,
        Code::PermissionDenied,
        Code::ResourceExhausted,
        Code::FailedPrecondition,
        Code::Aborted,
        Code::OutOfRange,
        Code::Unimplemented,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
        Code::Unauthenticated,
    ];

    pub fn from_number(n: i64) -> Code {
        Code::ALL
            .into_iter()
            .find(|c| *c as i64 == n)
            .unwrap_or(Code::Unknown)
    }

    /// The code's canonical name, as gRPC spells it (`NOT_FOUND`).
    pub fn name(self) -> &'static str {
        match self {
            Code::Ok => "OK",
            Code::Cancelled => "CANCELLED",
            Code::Unknown => "UNKNOWN",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::PermissionDenied => "PERMISSION_DENIED",
            Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Code::FailedPrecondition => "FAILED_PRECONDITION",
            Code::Aborted => "ABORTED",
            Code::OutOfRange => "OUT_OF_RANGE",
            Code::Unimplemented => "UNIMPLEMENTED",
            Code::Internal => "INTERNAL",
            Code::Unavailable => "UNAVAILABLE",
            Code::DataLoss => "DATA_LOSS",
            Code::Unauthenticated => "UNAUTHENTICATED",
        }
    }

    /// The HTTP status that usually carries this code; see `Status::http_status` for
    /// the one exception.
    pub fn http_status(self) -> u16 {
        match self {
            Code::Ok => 200,
            Code::InvalidArgument | Code::OutOfRange | Code::FailedPrecondition => 400,
            Code::Unauthenticated => 401,
            Code::PermissionDenied => 403,
            Code::NotFound => 404,
            Code::AlreadyExists | Code::Aborted => 409,
            Code::ResourceExhausted => 429,
            Code::Cancelled => 499,
            Code::Unimplemented => 501,
            Code::Unavailable => 503,
            Code::DeadlineExceeded => 504,
            Code::Unknown | Code::Internal | Code::DataLoss => 500,
        }
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*self as i64)
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i64::deserialize(d).map(Code::from_number)
    }
}

/// The `ErrorInfo.reason` values the console recognises (SPEC §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    SandboxNotFound,
    RunnerNotFound,
    ProfileNotFound,
    NoSuitableRunner,
    ProfileMismatch,
    RunnerCapacityExhausted,
    RunnerUnavailable,
    InvalidRequest,
    CommandTimeout,
    /// Local: a profile template cannot be deleted while runners bind it.
    ProfileInUse,
    /// Local: an update named an etag that is no longer current (SPEC §6).
    StaleEtag,
    /// Local: a request body over the gateway's limit (HTTP 413).
    BodyTooLarge,
    /// Local: a request for a host name the gateway does not serve (HTTP 421), which is
    /// how it refuses DNS rebinding.
    MisdirectedRequest,
    /// Local: one of the gateway's quotas is used up; `metadata.quota` names its flag and
    /// `metadata.limit` its value (RESOURCE_EXHAUSTED, HTTP 429).
    QuotaExceeded,
    /// A file operation's path names nothing (NOT_FOUND).
    FileNotFound,
    /// A file operation's path names a directory.
    FileIsDirectory,
    /// A file over the per-call limit: `metadata.max_size_bytes`, and for a read the
    /// file's `metadata.size_bytes` (the client then falls back to a streamed exec).
    FileTooLarge,
    /// The sandbox's user may not read or write the path.
    FilePermissionDenied,
    /// Reading or writing the file failed in the sandbox; the message says why.
    FileIoFailed,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SandboxNotFound => "CWSANDBOX_SANDBOX_NOT_FOUND",
            Reason::RunnerNotFound => "CWSANDBOX_RUNNER_NOT_FOUND",
            Reason::ProfileNotFound => "CWSANDBOX_PROFILE_NOT_FOUND",
            Reason::NoSuitableRunner => "CWSANDBOX_NO_SUITABLE_RUNNER",
            Reason::ProfileMismatch => "CWSANDBOX_PROFILE_MISMATCH",
            Reason::RunnerCapacityExhausted => "CWSANDBOX_RUNNER_CAPACITY_EXHAUSTED",
            Reason::RunnerUnavailable => "CWSANDBOX_RUNNER_UNAVAILABLE",
            Reason::InvalidRequest => "CWSANDBOX_INVALID_REQUEST",
            Reason::CommandTimeout => "CWSANDBOX_COMMAND_TIMEOUT",
            Reason::ProfileInUse => "CWSANDBOX_PROFILE_IN_USE",
            Reason::StaleEtag => "CWSANDBOX_STALE_ETAG",
            Reason::BodyTooLarge => "CWSANDBOX_BODY_TOO_LARGE",
            Reason::MisdirectedRequest => "CWSANDBOX_MISDIRECTED_REQUEST",
            Reason::QuotaExceeded => "CWSANDBOX_QUOTA_EXCEEDED",
            Reason::FileNotFound => "CWSANDBOX_FILE_NOT_FOUND",
            Reason::FileIsDirectory => "CWSANDBOX_FILE_IS_DIRECTORY",
            Reason::FileTooLarge => "CWSANDBOX_FILE_TOO_LARGE",
            Reason::FilePermissionDenied => "CWSANDBOX_FILE_PERMISSION_DENIED",
            Reason::FileIoFailed => "CWSANDBOX_FILE_IO_FAILED",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ErrorInfo {
    pub reason: String,
    pub domain: String,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BadRequest {
    pub field_violations: Vec<FieldViolation>,
}

const ERROR_INFO_TYPE: &str = "type.googleapis.com/google.rpc.ErrorInfo";
const BAD_REQUEST_TYPE: &str = "type.googleapis.com/google.rpc.BadRequest";

/// One entry of `Status.details`, told apart by its `@type`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "@type")]
pub enum Detail {
    #[serde(rename = "type.googleapis.com/google.rpc.ErrorInfo")]
    ErrorInfo(ErrorInfo),
    #[serde(rename = "type.googleapis.com/google.rpc.BadRequest")]
    BadRequest(BadRequest),
    /// A detail type this client does not know; read so that parsing does not fail on
    /// it. (Its fields that share a name with ErrorInfo's or BadRequest's must have
    /// their types, as in every `google.rpc` detail type.)
    Unrecognized,
}

impl<'de> Deserialize<'de> for Detail {
    /// Read in one pass as the union of the known details' fields. serde's derive for
    /// an internally tagged enum would buffer every detail first, and that buffering
    /// code is a sizeable part of the console's download, which decodes errors on
    /// every page.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Default, Deserialize)]
        #[serde(rename_all = "camelCase", default)]
        struct AnyDetail {
            #[serde(rename = "@type")]
            type_url: String,
            reason: String,
            domain: String,
            metadata: BTreeMap<String, String>,
            field_violations: Vec<FieldViolation>,
        }
        let any = AnyDetail::deserialize(d)?;
        Ok(match any.type_url.as_str() {
            ERROR_INFO_TYPE => Detail::ErrorInfo(ErrorInfo {
                reason: any.reason,
                domain: any.domain,
                metadata: any.metadata,
            }),
            BAD_REQUEST_TYPE => Detail::BadRequest(BadRequest {
                field_violations: any.field_violations,
            }),
            _ => Detail::Unrecognized,
        })
    }
}

/// The body of every error answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub code: Code,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub details: Vec<Detail>,
}

impl Status {
    pub fn new(code: Code, message: impl Into<String>) -> Status {
        Status {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// INVALID_ARGUMENT carrying every violation as a field violation.
    pub fn invalid(violations: &[Violation]) -> Status {
        let message = match violations {
            [only] => format!("{}: {}", only.field, only.message),
            many => format!("{} fields are invalid", many.len()),
        };
        Status::new(Code::InvalidArgument, message)
            .with_reason(Reason::InvalidRequest, BTreeMap::new())
            .with_detail(Detail::BadRequest(BadRequest {
                field_violations: violations
                    .iter()
                    .map(|v| FieldViolation {
                        field: v.field.clone(),
                        description: v.message.clone(),
                    })
                    .collect(),
            }))
    }

    pub fn with_reason(self, reason: Reason, metadata: BTreeMap<String, String>) -> Status {
        self.with_detail(Detail::ErrorInfo(ErrorInfo {
            reason: reason.as_str().to_owned(),
            domain: ERROR_DOMAIN.to_owned(),
            metadata,
        }))
    }

    pub fn with_detail(mut self, detail: Detail) -> Status {
        self.details.push(detail);
        self
    }

    /// The HTTP status of this error: its code's, except that FAILED_PRECONDITION is 409
    /// when it is a conflict (a stale etag, a profile still bound) and 400 otherwise, and
    /// anything too large is 413 (SPEC §2, local decision).
    pub fn http_status(&self) -> u16 {
        let has = |reason: Reason| self.reason() == Some(reason.as_str());
        if self.code == Code::FailedPrecondition
            && (has(Reason::StaleEtag) || has(Reason::ProfileInUse))
        {
            409
        } else if has(Reason::BodyTooLarge) || has(Reason::FileTooLarge) {
            413
        } else if has(Reason::MisdirectedRequest) {
            421
        } else {
            self.code.http_status()
        }
    }

    /// The `ErrorInfo.reason`, if the error carries one.
    pub fn reason(&self) -> Option<&str> {
        self.details.iter().find_map(|d| match d {
            Detail::ErrorInfo(info) => Some(info.reason.as_str()),
            _ => None,
        })
    }

    pub fn field_violations(&self) -> impl Iterator<Item = &FieldViolation> {
        self.details
            .iter()
            .filter_map(|d| match d {
                Detail::BadRequest(b) => Some(b.field_violations.iter()),
                _ => None,
            })
            .flatten()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for Status {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::violation::Violation;

    #[test]
    fn status_round_trips_with_known_and_unknown_details() {
        let text = r#"{"code":3,"message":"bad","details":[
            {"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"display_name","description":"is required"}]},
            {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1s"},
            {"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CWSANDBOX_INVALID_REQUEST","domain":"cwsandbox.com"}
        ],"extra":true}"#;
        let status: Status = serde_json::from_str(text).unwrap();
        assert_eq!(status.code, Code::InvalidArgument);
        assert_eq!(status.reason(), Some("CWSANDBOX_INVALID_REQUEST"));
        assert_eq!(status.field_violations().count(), 1);
        assert_eq!(status.details[1], Detail::Unrecognized);

        let with_metadata = Status::invalid(&[Violation::error("spec", "is wrong")]).with_reason(
            Reason::ProfileMismatch,
            BTreeMap::from([("runner-a".to_owned(), "no GPU".to_owned())]),
        );
        let again: Status =
            serde_json::from_value(serde_json::to_value(&with_metadata).unwrap()).unwrap();
        assert_eq!(again, with_metadata);
    }

    #[test]
    fn invalid_names_the_single_field_in_its_message() {
        let status = Status::invalid(&[Violation::error("display_name", "is required")]);
        assert_eq!(status.message, "display_name: is required");
        assert_eq!(status.http_status(), 400);
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(
            json["details"][1]["fieldViolations"][0]["field"],
            "display_name"
        );
    }

    #[test]
    fn failed_precondition_is_409_only_for_conflicts() {
        let stale = Status::new(Code::FailedPrecondition, "stale")
            .with_reason(Reason::StaleEtag, BTreeMap::new());
        let mismatch = Status::new(Code::FailedPrecondition, "no")
            .with_reason(Reason::ProfileMismatch, BTreeMap::new());
        assert_eq!((stale.http_status(), mismatch.http_status()), (409, 400));
    }

    #[test]
    fn unknown_code_numbers_read_as_unknown() {
        let status: Status = serde_json::from_str(r#"{"code":99}"#).unwrap();
        assert_eq!(status.code, Code::Unknown);
        assert_eq!(status.message, "");
    }
}
