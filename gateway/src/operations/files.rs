//! Files in a sandbox's own tree (SPEC §4 "Files"): `AddFile` and `RetrieveFile`, over
//! JSON and gRPC.
//!
//! Each is a small script run as an interactive exec in the sandbox (local decision):
//! it runs as the sandbox's user in the sandbox's own view of the filesystem, so a path
//! can never reach outside the sandbox, whatever `..` or symbolic links it holds, and
//! it works alike wherever the sandbox runs (in the gateway or an agent process). The
//! bytes travel on the command's stdin or stdout, never on its command line.

use std::collections::BTreeMap;

use sandbox_api::error::{Code, Reason, Status};
use sandbox_api::sandbox::{
    AddFileSandboxRequest, AddFileSandboxResponse, RetrieveFileSandboxResponse,
};
use sandbox_api::violation::Violation;

use super::Platform;
use super::execs::{self, RunningSession};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::process::{SessionInput, SessionOutput, SessionRequest};

/// The most bytes one call writes or reads (as the client's own cap), SPEC §4.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// How long a file operation may take when the request names no limit, and at most.
const DEFAULT_TIMEOUT_SECONDS: u64 = 60;
const MAX_TIMEOUT_SECONDS: u64 = 600;

/// The longest path taken (Linux's PATH_MAX).
const MAX_PATH_BYTES: usize = 4096;

/// How much of the script's stderr is kept for a message.
const MESSAGE_BYTES: usize = 4096;

/// The script's exit codes (local decision), shared by both scripts.
const EXIT_NOT_FOUND: i32 = 2;
const EXIT_IS_DIRECTORY: i32 = 3;
const EXIT_TOO_LARGE: i32 = 4;
const EXIT_PERMISSION_DENIED: i32 = 5;

/// `$1` the path: its directories are made, then stdin becomes the file.
const WRITE_SCRIPT: &str = r#"p=$1
if [ -d "$p" ]; then exit 3; fi
d=$(dirname -- "$p")
mkdir -p -- "$d" || exit 6
if [ -e "$p" ] && [ ! -w "$p" ]; then exit 5; fi
if [ ! -e "$p" ] && [ ! -w "$d" ]; then exit 5; fi
cat > "$p" || exit 6
"#;

/// `$1` the path, `$2` the most bytes: the file on stdout, or its size on stderr when
/// it is larger.
const READ_SCRIPT: &str = r#"p=$1
if [ -d "$p" ]; then exit 3; fi
if [ ! -e "$p" ]; then exit 2; fi
if [ ! -r "$p" ]; then exit 5; fi
size=$(wc -c < "$p") || exit 6
if [ "$size" -gt "$2" ]; then echo "$size" >&2; exit 4; fi
exec cat -- "$p"
"#;

pub async fn add_file(
    platform: &Platform,
    caller: &Caller,
    id: &str,
    request: AddFileSandboxRequest,
) -> Result<AddFileSandboxResponse, ApiError> {
    check_path(&request.filepath)?;
    if request.file_contents.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(&request.filepath, None));
    }
    let script = session_request(
        WRITE_SCRIPT,
        &[&request.filepath],
        request.max_timeout_seconds,
    );
    let running = execs::exec_session(platform, caller, id, &script).await?;
    let ran = run(running, request.file_contents, 0).await?;
    ran.into_result(&request.filepath)?;
    Ok(AddFileSandboxResponse {
        success: true,
        error_message: String::new(),
    })
}

pub async fn retrieve_file(
    platform: &Platform,
    caller: &Caller,
    id: &str,
    filepath: &str,
    max_timeout_seconds: i32,
) -> Result<RetrieveFileSandboxResponse, ApiError> {
    check_path(filepath)?;
    let script = session_request(
        READ_SCRIPT,
        &[filepath, &MAX_FILE_BYTES.to_string()],
        max_timeout_seconds,
    );
    let running = execs::exec_session(platform, caller, id, &script).await?;
    let ran = run(running, Vec::new(), MAX_FILE_BYTES).await?;
    let contents = ran.into_result(filepath)?;
    Ok(RetrieveFileSandboxResponse {
        file_contents: contents,
        success: true,
        error_message: String::new(),
    })
}

fn check_path(path: &str) -> Result<(), ApiError> {
    let problem = if path.is_empty() {
        "is required"
    } else if path.contains('\0') {
        "must not contain a NUL character"
    } else if path.len() > MAX_PATH_BYTES {
        "is longer than 4096 bytes"
    } else {
        return Ok(());
    };
    Err(ApiError::invalid(&[Violation::error("filepath", problem)]))
}

fn session_request(script: &str, args: &[&str], timeout_seconds: i32) -> SessionRequest {
    let mut command = vec![
        "/bin/sh".to_owned(),
        "-c".to_owned(),
        script.to_owned(),
        "cwsandbox-file".to_owned(),
    ];
    command.extend(args.iter().map(|arg| (*arg).to_owned()));
    let timeout = u64::try_from(timeout_seconds)
        .ok()
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS)
        .min(MAX_TIMEOUT_SECONDS);
    SessionRequest {
        command,
        env: BTreeMap::new(),
        terminal: None,
        timeout_seconds: Some(timeout),
    }
}

/// What a file script did.
struct Ran {
    stdout: Vec<u8>,
    /// Past the limit: more than the limit came on stdout (the file grew meanwhile).
    overflowed: bool,
    stderr: Vec<u8>,
    exit_code: Option<i32>,
    timed_out: bool,
}

/// Feeds `input` to the script and collects its output, keeping at most `keep` bytes
/// of stdout.
async fn run(running: RunningSession, input: Vec<u8>, keep: u64) -> Result<Ran, ApiError> {
    let RunningSession {
        session,
        slot: _slot,
    } = running;
    let (sender, mut output) = (session.input, session.output);
    let feeding = async move {
        for chunk in input.chunks(64 * 1024) {
            let data = chunk.to_vec();
            if sender.send(SessionInput::Stdin { data }).await.is_err() {
                return;
            }
        }
        // Dropping the sender closes the script's stdin.
    };
    let collecting = async {
        let mut ran = Ran {
            stdout: Vec::new(),
            overflowed: false,
            stderr: Vec::new(),
            exit_code: None,
            timed_out: false,
        };
        loop {
            match output.recv().await {
                Some(SessionOutput::Stdout { data }) => {
                    if ran.stdout.len() as u64 + data.len() as u64 > keep {
                        ran.overflowed = true;
                        // Dropping the output ends the script.
                        return Ok(ran);
                    }
                    ran.stdout.extend(data);
                }
                Some(SessionOutput::Stderr { data }) => {
                    let room = MESSAGE_BYTES.saturating_sub(ran.stderr.len());
                    ran.stderr.extend(&data[..room.min(data.len())]);
                }
                Some(SessionOutput::Ended {
                    exit_code,
                    timed_out,
                }) => {
                    ran.exit_code = exit_code;
                    ran.timed_out = timed_out;
                    return Ok(ran);
                }
                None => {
                    return Err(ApiError::new(
                        Code::Unavailable,
                        "lost contact with the sandbox's runner during the file operation",
                    ));
                }
            }
        }
    };
    let ((), ran) = tokio::join!(feeding, collecting);
    ran
}

impl Ran {
    /// The file's bytes (for a read), or the error the script's end means.
    fn into_result(self, path: &str) -> Result<Vec<u8>, ApiError> {
        let message = String::from_utf8_lossy(&self.stderr).trim().to_owned();
        if self.overflowed {
            return Err(too_large(path, None));
        }
        if self.timed_out {
            return Err(ApiError(
                Status::new(
                    Code::DeadlineExceeded,
                    format!("the file operation on {path:?} did not finish in time"),
                )
                .with_reason(Reason::CommandTimeout, BTreeMap::new()),
            ));
        }
        let (code, reason, what) = match self.exit_code {
            Some(0) => return Ok(self.stdout),
            Some(EXIT_NOT_FOUND) => (
                Code::NotFound,
                Reason::FileNotFound,
                "does not exist".to_owned(),
            ),
            Some(EXIT_IS_DIRECTORY) => (
                Code::FailedPrecondition,
                Reason::FileIsDirectory,
                "is a directory".to_owned(),
            ),
            Some(EXIT_TOO_LARGE) => return Err(too_large(path, message.parse().ok())),
            Some(EXIT_PERMISSION_DENIED) => (
                Code::PermissionDenied,
                Reason::FilePermissionDenied,
                "may not be accessed by the sandbox's user".to_owned(),
            ),
            _ if message.is_empty() => (
                Code::FailedPrecondition,
                Reason::FileIoFailed,
                "could not be accessed".to_owned(),
            ),
            _ => (
                Code::FailedPrecondition,
                Reason::FileIoFailed,
                format!("could not be accessed: {message}"),
            ),
        };
        Err(ApiError(
            Status::new(code, format!("{path:?} {what}")).with_reason(
                reason,
                BTreeMap::from([("filepath".to_owned(), path.to_owned())]),
            ),
        ))
    }
}

/// `CWSANDBOX_FILE_TOO_LARGE`, with the limit and, when known, the file's size.
fn too_large(path: &str, size: Option<u64>) -> ApiError {
    let mut metadata = BTreeMap::from([
        ("filepath".to_owned(), path.to_owned()),
        ("max_size_bytes".to_owned(), MAX_FILE_BYTES.to_string()),
    ]);
    if let Some(size) = size {
        metadata.insert("size_bytes".to_owned(), size.to_string());
    }
    ApiError(
        Status::new(
            Code::ResourceExhausted,
            format!(
                "{path:?} is larger than the {} MiB one call carries; stream it with an exec instead",
                MAX_FILE_BYTES / 1024 / 1024
            ),
        )
        .with_reason(Reason::FileTooLarge, metadata),
    )
}
