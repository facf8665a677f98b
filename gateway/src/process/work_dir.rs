//! A sandbox's private directory and the files mounted into it.

use std::path::{Component, Path, PathBuf};

use super::LaunchError;

/// Creates `work_dir` if missing and writes the mounted files into it, each at its mount
/// path with the leading `/` dropped. Every path is checked before anything is written,
/// so a refused file leaves nothing behind.
pub(super) async fn prepare(
    work_dir: &Path,
    mounted_files: &[(String, Vec<u8>)],
) -> Result<(), LaunchError> {
    let targets = mounted_files
        .iter()
        .map(|(mount_path, _)| Ok(work_dir.join(relative_mount_path(mount_path)?)))
        .collect::<Result<Vec<_>, LaunchError>>()?;
    create_dir(work_dir).await?;
    for (target, (_, content)) in targets.iter().zip(mounted_files) {
        if let Some(parent) = target.parent() {
            create_dir(parent).await?;
        }
        tokio::fs::write(target, content)
            .await
            .map_err(LaunchError::io(format!(
                "could not write the mounted file {}",
                target.display()
            )))?;
    }
    Ok(())
}

async fn create_dir(dir: &Path) -> Result<(), LaunchError> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(LaunchError::io(format!(
            "could not create the directory {}",
            dir.display()
        )))
}

/// Where a mounted file goes, relative to the sandbox's directory. A path that climbs
/// with `..` is refused, so that no file lands outside the directory, and so is one that
/// names no file at all (`/`).
fn relative_mount_path(mount_path: &str) -> Result<PathBuf, LaunchError> {
    let refuse = |reason| LaunchError::InvalidMountPath {
        mount_path: mount_path.to_owned(),
        reason,
    };
    let mut relative = PathBuf::new();
    for component in Path::new(mount_path).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => return Err(refuse("the path must not contain `..`")),
            Component::Prefix(_) => return Err(refuse("the path must be a Unix path")),
        }
    }
    if relative.as_os_str().is_empty() {
        return Err(refuse("the path names no file"));
    }
    Ok(relative)
}
