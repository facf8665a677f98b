//! Pseudo-terminals for interactive execs that ask for one (`tty`): the gateway holds
//! the leader side; the command gets the follower side as its stdin, stdout and stderr.

use std::io;
use std::os::fd::OwnedFd;

use rustix::fs::{Mode, OFlags};
use rustix::pty::OpenptFlags;
use rustix::termios::Winsize;
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::child::CHUNK_LIMIT;

/// A terminal's size in character cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TerminalSize {
    pub columns: u16,
    pub rows: u16,
}

impl TerminalSize {
    /// What a terminal is when its client does not say (local decision: the classic
    /// VT100's 80 × 24).
    pub const DEFAULT: TerminalSize = TerminalSize {
        columns: 80,
        rows: 24,
    };

    /// `columns` × `rows` as a client gave them: 0 (not given) takes the default, and
    /// what does not fit a terminal's 16 bits is cut to the largest size.
    pub fn from_client(columns: u32, rows: u32) -> TerminalSize {
        let cells = |given: u32, default: u16| match given {
            0 => default,
            n => u16::try_from(n).unwrap_or(u16::MAX),
        };
        TerminalSize {
            columns: cells(columns, TerminalSize::DEFAULT.columns),
            rows: cells(rows, TerminalSize::DEFAULT.rows),
        }
    }

    fn winsize(self) -> Winsize {
        Winsize {
            ws_row: self.rows,
            ws_col: self.columns,
            ws_xpixel: 0,
            ws_ypixel: 0,
        }
    }
}

/// A new pseudo-terminal of `size`: its leader side split into what reads the
/// command's output and what types its input, and its follower side for the command.
/// All three are close-on-exec, so no other child of the gateway inherits them.
///
/// The leader side is read and written as blocking files on tokio's blocking threads
/// (a terminal is no socket or pipe, and registering it with tokio's reactor would take
/// unsafe code): sessions are few, and each holds at most one such thread at a time.
///
/// `raw`: the follower side in raw mode, for a command that is itself a terminal's
/// copier (`runc exec --tty` makes the sandbox's own terminal, which echoes and edits
/// lines; ours must pass bytes through untouched, even before runc sets it raw).
pub fn open(size: TerminalSize, raw: bool) -> io::Result<(TerminalOutput, TerminalInput, OwnedFd)> {
    let leader =
        rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    rustix::pty::grantpt(&leader)?;
    rustix::pty::unlockpt(&leader)?;
    let name = rustix::pty::ptsname(&leader, Vec::new())?;
    let follower = rustix::fs::open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    rustix::termios::tcsetwinsize(&leader, size.winsize())?;
    if raw {
        let mut modes = rustix::termios::tcgetattr(&follower)?;
        modes.make_raw();
        rustix::termios::tcsetattr(&follower, rustix::termios::OptionalActions::Now, &modes)?;
    }
    let output = TerminalOutput {
        reader: File::from_std(std::fs::File::from(leader.try_clone()?)),
    };
    let input = TerminalInput {
        writer: File::from_std(std::fs::File::from(leader.try_clone()?)),
        leader,
    };
    Ok((output, input, follower))
}

/// Reads what the command writes to its terminal.
#[derive(Debug)]
pub struct TerminalOutput {
    reader: File,
}

impl TerminalOutput {
    /// The next bytes the command wrote, at most [`CHUNK_LIMIT`], or `None` once every
    /// follower side is closed (the command and whatever it started have ended).
    ///
    /// Cancel-safe: tokio's file keeps a read in flight for the next call.
    pub async fn next_chunk(&mut self) -> Option<Vec<u8>> {
        let mut buffer = vec![0; CHUNK_LIMIT];
        match self.reader.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some(buffer)
            }
            // Linux answers EIO once no follower side is open: the end.
            Err(_) => None,
        }
    }
}

/// Types input into the terminal and sets its size.
#[derive(Debug)]
pub struct TerminalInput {
    writer: File,
    leader: OwnedFd,
}

impl TerminalInput {
    /// Writes all of `data` as typed input.
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.writer.write_all(data).await?;
        self.writer.flush().await
    }

    /// Gives the terminal a new size; the command's session gets SIGWINCH.
    pub fn resize(&self, size: TerminalSize) -> io::Result<()> {
        Ok(rustix::termios::tcsetwinsize(&self.leader, size.winsize())?)
    }
}
