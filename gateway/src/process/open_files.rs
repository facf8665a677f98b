//! Open files are the resource a machine full of sandboxes runs out of first: each
//! sandbox holds its pipes, log files, a pidfd and the container runtime's files, and
//! the default limit of 1,024 a process gets is reached at a few dozen sandboxes. Past
//! it, accepting connections and opening the database fail too, so the gateway would
//! stop answering everyone. So the limit is raised as far as the machine allows at
//! start, and a sandbox is only launched while enough stay free for it and for serving.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// What one sandbox may need at most while it starts and runs (a running container
/// sandbox holds 5: two pipes, the log and its index, a pidfd; the rest is room for
/// starting, execs and log readers).
const PER_SANDBOX: u64 = 24;
/// Kept free for everything else: connections, the database, log streams.
const RESERVE: u64 = 256;

/// Raises this process's soft limit on open files to its hard limit; the limit now.
pub fn raise_limit() -> u64 {
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(error) => {
                tracing::warn!(%error, soft, hard, "could not raise the open-file limit");
                soft
            }
        },
        Ok((soft, _)) => soft,
        Err(error) => {
            tracing::warn!(%error, "could not read the open-file limit");
            0
        }
    }
}

/// The open-file limit a sandbox gets: the kernel's default of 1,024, or this
/// process's own hard limit if that is lower (the runtime could not raise it).
pub fn for_a_sandbox() -> u64 {
    const SANDBOX_OPEN_FILES: u64 = 1024;
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((_, hard)) => hard.min(SANDBOX_OPEN_FILES),
        Err(_) => SANDBOX_OPEN_FILES,
    }
}

/// Whether another sandbox may start: `Err` says why not, for the user.
pub fn room_for_a_sandbox() -> Result<(), String> {
    let Ok((limit, _)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return Ok(());
    };
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return Ok(());
    };
    let open = entries.count() as u64;
    check_room(open, limit)
}

fn check_room(open: u64, limit: u64) -> Result<(), String> {
    if open + PER_SANDBOX + RESERVE > limit {
        Err(format!(
            "this runner is out of open files for another sandbox ({open} of its limit of \
             {limit} in use); stop a sandbox or raise the limit (ulimit -n) of its agent"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandbox_starts_only_while_its_files_and_the_reserve_stay_free() {
        assert!(check_room(100, 1024).is_ok());
        assert!(check_room(1024 - RESERVE - PER_SANDBOX, 1024).is_ok());
        let refused = check_room(1024 - RESERVE - PER_SANDBOX + 1, 1024).unwrap_err();
        assert!(refused.contains("of its limit of 1024"), "{refused}");
    }

    #[test]
    fn the_limit_is_raised_to_the_hard_limit() {
        let limit = raise_limit();
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        assert_eq!((limit, soft), (hard, hard));
    }
}
