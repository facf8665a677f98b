//! How a sandbox command is attached to whoever runs it: piped, or on a terminal. A
//! leaf of `process`, used by the commands and the container runtime alike.

use std::ffi::OsString;

use tokio::process::Command;

/// How a command is attached to whoever runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Attach {
    /// Its output piped, in a process group of its own.
    Pipes,
    /// On a terminal: the caller gives it a pseudo-terminal's follower side as stdin,
    /// stdout and stderr, and it leads a session of its own with that terminal as its
    /// controlling terminal (util-linux `setsid --ctty`, so that the terminal's resizes
    /// and Ctrl-C reach it); its process group is that session's.
    Terminal,
}

/// The util-linux tool that starts a program in a new session.
pub(super) const SETSID: &str = "setsid";

impl Attach {
    /// A command running `argv` (not empty) attached this way.
    pub(super) fn command(self, argv: Vec<OsString>) -> Command {
        let argv = match self {
            Attach::Pipes => argv,
            // Spawned outside any group of its own, `setsid` is no group leader, so it
            // execs the program at once (same pid) rather than forking.
            Attach::Terminal => [SETSID.into(), "--ctty".into()]
                .into_iter()
                .chain(argv)
                .collect(),
        };
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        if self == Attach::Pipes {
            command.process_group(0);
        }
        command
    }
}
