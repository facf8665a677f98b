//! The gateway's and agents' files are private to their user: the data directory (the
//! database, tokens, sandbox logs and bundles) must not be readable by anyone else on
//! the machine, whatever umask the process was started with. Modes are set explicitly
//! rather than by narrowing the umask, which the container runtime would inherit for
//! the device nodes it makes inside sandboxes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::Context;

/// Files an earlier run may have left readable by others (made under a laxer umask).
const KNOWN_FILES: &[&str] = &[
    "gateway.db",
    "gateway.db-wal",
    "gateway.db-shm",
    "tokens.txt",
];

/// Creates the data directory if missing and makes it private (0700), and the files an
/// earlier run left in it private (0600).
pub fn make_private(data_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    restrict(data_dir, 0o700)?;
    for name in KNOWN_FILES {
        let file = data_dir.join(name);
        if file.exists() {
            restrict(&file, 0o600)?;
        }
    }
    Ok(())
}

/// Makes `path` readable by its owner only (`mode` 0700 for directories, 0600 for
/// files).
fn restrict(path: &Path, mode: u32) -> anyhow::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("making {} private", path.display()))
}
