//! Where a sandbox's memory cgroup lives on this machine, and what it says about the
//! out-of-memory killer. Containers' cgroups are nested under the gateway's own (their
//! cgroup path is relative), in whichever hierarchy holds the memory controller: cgroup
//! v1 (also on hybrid machines) or the v2 unified one.

use std::path::{Path, PathBuf};

/// The memory controller's directory for `relative` (a container's cgroup path, relative
/// to this process's own cgroup), or `None` if this machine has no memory controller.
pub fn memory_dir(relative: &str) -> Option<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    memory_dir_from(&own, &mounts, relative)
}

fn memory_dir_from(own_cgroups: &str, mountinfo: &str, relative: &str) -> Option<PathBuf> {
    // `ID:controllers:path` per hierarchy; `0::path` is the unified (v2) one.
    let v1 = own_cgroups.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        controllers
            .split(',')
            .any(|c| c == "memory")
            .then_some(path)
    });
    let (path, is_v1) = match v1 {
        Some(path) => (path, true),
        None => (
            own_cgroups
                .lines()
                .find_map(|line| line.strip_prefix("0::"))?,
            false,
        ),
    };
    let mount = mountinfo.lines().find_map(|line| {
        let (before, after) = line.split_once(" - ")?;
        let fields: Vec<&str> = before.split(' ').collect();
        let mut after = after.split(' ');
        let (fstype, _source, options) = (after.next()?, after.next()?, after.next()?);
        let matches = if is_v1 {
            fstype == "cgroup" && options.split(',').any(|o| o == "memory")
        } else {
            fstype == "cgroup2"
        };
        matches.then(|| (fields.get(3).copied(), fields.get(4).copied()))
    })?;
    let (root, mount_point) = (mount.0?, mount.1?);
    let inside = path.strip_prefix(root).unwrap_or(path);
    Some(
        Path::new(mount_point)
            .join(inside.trim_start_matches('/'))
            .join(relative),
    )
}

/// How many processes of the cgroup at `dir` the out-of-memory killer has killed.
pub fn oom_kills(dir: &Path) -> u64 {
    // v1 reports it in memory.oom_control, v2 in memory.events, as `oom_kill N`.
    ["memory.oom_control", "memory.events"]
        .iter()
        .filter_map(|file| std::fs::read_to_string(dir.join(file)).ok())
        .find_map(|text| oom_kill_count(&text))
        .unwrap_or(0)
}

fn oom_kill_count(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID_CGROUPS: &str =
        "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/7d18\n1:cpu:/\n0::/\n";
    const HYBRID_MOUNTS: &str = "\
30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 30 0:36 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw";

    #[test]
    fn on_a_hybrid_machine_the_v1_memory_hierarchy_is_used() {
        assert_eq!(
            memory_dir_from(HYBRID_CGROUPS, HYBRID_MOUNTS, "sandbox-gateway/abc"),
            Some(PathBuf::from(
                "/sys/fs/cgroup/memory/process_api/7d18/sandbox-gateway/abc"
            ))
        );
    }

    #[test]
    fn on_a_v2_machine_the_unified_hierarchy_is_used() {
        let cgroups = "0::/system.slice/gateway.service\n";
        let mounts = "25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate";
        assert_eq!(
            memory_dir_from(cgroups, mounts, "sandbox-gateway/abc"),
            Some(PathBuf::from(
                "/sys/fs/cgroup/system.slice/gateway.service/sandbox-gateway/abc"
            ))
        );
    }

    #[test]
    fn oom_kills_are_read_from_either_version() {
        assert_eq!(
            oom_kill_count("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"),
            Some(2)
        );
        assert_eq!(
            oom_kill_count("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n"),
            Some(1)
        );
        assert_eq!(oom_kill_count("oom_kill_disable 0\n"), None);
    }
}
