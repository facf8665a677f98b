//! What a sandbox's container uses now, read from its cgroup: CPU time so far and
//! memory in use (its working set: what the kernel cannot simply drop, as `kubectl top`
//! counts it). Works with cgroup v2 and with v1's `cpuacct` and `memory` hierarchies,
//! found from the container's own `/proc/PID/cgroup` and this process's mount table, so
//! wherever runc put the cgroup. A plain host process (`--isolation none`) has no
//! cgroup of its own, so nothing is read for it.

use std::io;
use std::path::PathBuf;

/// A sandbox's usage at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// CPU time used since the container started, in nanoseconds.
    pub cpu_nanoseconds: u64,
    /// Memory in use now, in bytes (page cache that can be dropped left out).
    pub memory_bytes: u64,
}

/// The usage of the container whose init has host pid `pid`.
pub fn container_usage(pid: u32) -> io::Result<Usage> {
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")?;
    let dirs = cgroup_dirs(&own, &mounts).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "the container's cgroup is not mounted here",
        )
    })?;
    let read = |path: PathBuf| std::fs::read_to_string(path);
    match dirs {
        CgroupDirs::V2(dir) => Ok(Usage {
            cpu_nanoseconds: stat_value(&read(dir.join("cpu.stat"))?, "usage_usec")
                .unwrap_or(0)
                .saturating_mul(1000),
            memory_bytes: working_set(
                number(&read(dir.join("memory.current"))?),
                &read(dir.join("memory.stat"))?,
                "inactive_file",
            ),
        }),
        CgroupDirs::V1 { cpuacct, memory } => Ok(Usage {
            cpu_nanoseconds: number(&read(cpuacct.join("cpuacct.usage"))?),
            memory_bytes: working_set(
                number(&read(memory.join("memory.usage_in_bytes"))?),
                &read(memory.join("memory.stat"))?,
                "total_inactive_file",
            ),
        }),
    }
}

/// Where a process's cgroup files are.
#[derive(Debug, PartialEq)]
enum CgroupDirs {
    V2(PathBuf),
    V1 { cpuacct: PathBuf, memory: PathBuf },
}

/// The directories of the cgroup that `proc_cgroup` (a `/proc/PID/cgroup`) names, in
/// the hierarchies `mountinfo` (a `/proc/self/mountinfo`) mounts: v1's `cpuacct` and
/// `memory` when both are there, else v2's.
fn cgroup_dirs(proc_cgroup: &str, mountinfo: &str) -> Option<CgroupDirs> {
    let path_of = |wanted: &str| {
        proc_cgroup.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let found = if wanted.is_empty() {
                controllers.is_empty()
            } else {
                controllers.split(',').any(|c| c == wanted)
            };
            found.then_some(path)
        })
    };
    let mounts: Vec<Mount> = mountinfo.lines().filter_map(Mount::parse).collect();
    let v1 = |controller: &str| {
        let path = path_of(controller)?;
        mounts
            .iter()
            .find(|m| m.fs_type == "cgroup" && m.options.split(',').any(|o| o == controller))?
            .dir_of(path)
    };
    if let (Some(cpuacct), Some(memory)) = (v1("cpuacct"), v1("memory")) {
        return Some(CgroupDirs::V1 { cpuacct, memory });
    }
    let path = path_of("")?;
    mounts
        .iter()
        .find(|m| m.fs_type == "cgroup2")?
        .dir_of(path)
        .map(CgroupDirs::V2)
}

/// One line of `/proc/self/mountinfo`, the parts that matter here.
struct Mount<'a> {
    /// The part of the hierarchy mounted (`/` for all of it).
    root: &'a str,
    mount_point: &'a str,
    fs_type: &'a str,
    /// The super options: a v1 hierarchy's controllers.
    options: &'a str,
}

impl<'a> Mount<'a> {
    fn parse(line: &'a str) -> Option<Mount<'a>> {
        let (before, after) = line.split_once(" - ")?;
        let fields: Vec<&str> = before.split(' ').collect();
        let mut rest = after.split(' ');
        let fs_type = rest.next()?;
        let _source = rest.next()?;
        Some(Mount {
            root: fields.get(3)?,
            mount_point: fields.get(4)?,
            fs_type,
            options: rest.next().unwrap_or_default(),
        })
    }

    /// Where the cgroup `path` of this hierarchy is, if this mount shows it.
    fn dir_of(&self, path: &str) -> Option<PathBuf> {
        let inside = if self.root == "/" {
            path
        } else {
            path.strip_prefix(self.root)?
        };
        Some(PathBuf::from(self.mount_point).join(inside.trim_start_matches('/')))
    }
}

fn number(text: &str) -> u64 {
    text.trim().parse().unwrap_or(0)
}

/// The value of `key` in a `key value` per line file (`cpu.stat`, `memory.stat`).
fn stat_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        (name == key).then(|| number(value))
    })
}

/// Memory in use without the inactive page cache (`inactive_key` in `stat`).
fn working_set(usage: u64, stat: &str, inactive_key: &str) -> u64 {
    usage.saturating_sub(stat_value(stat, inactive_key).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID_MOUNTS: &str = "\
29 23 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755
30 29 0:27 / /sys/fs/cgroup/unified rw,relatime shared:10 - cgroup2 cgroup2 rw
33 29 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
35 29 0:32 / /sys/fs/cgroup/memory rw,relatime shared:16 - cgroup cgroup rw,memory";

    #[test]
    fn v1_hierarchies_are_found_by_controller_and_joined_with_the_cgroup_path() {
        let own = "12:memory:/process_api/abc/sandbox-gateway/sb-1\n\
                   4:cpu,cpuacct:/sandbox-gateway/sb-1\n\
                   0::/sandbox-gateway/sb-1\n";
        assert_eq!(
            cgroup_dirs(own, HYBRID_MOUNTS),
            Some(CgroupDirs::V1 {
                cpuacct: "/sys/fs/cgroup/cpu,cpuacct/sandbox-gateway/sb-1".into(),
                memory: "/sys/fs/cgroup/memory/process_api/abc/sandbox-gateway/sb-1".into(),
            })
        );
    }

    #[test]
    fn a_unified_hierarchy_is_v2_and_a_mounted_subtree_is_allowed_for() {
        let mounts = "31 23 0:27 /kubepods/pod1 /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw";
        assert_eq!(
            cgroup_dirs("0::/kubepods/pod1/sandbox-gateway/sb-1\n", mounts),
            Some(CgroupDirs::V2("/sys/fs/cgroup/sandbox-gateway/sb-1".into()))
        );
        assert_eq!(
            cgroup_dirs("0::/elsewhere/sb-1\n", mounts),
            None,
            "a cgroup outside the mounted subtree cannot be read"
        );
        assert_eq!(cgroup_dirs("0::/x\n", ""), None);
    }

    #[test]
    fn memory_leaves_out_inactive_page_cache_and_cpu_reads_stat_lines() {
        let stat = "cache 10\ntotal_inactive_file 4096\nrss 1\n";
        assert_eq!(working_set(10_000, stat, "total_inactive_file"), 5904);
        assert_eq!(working_set(100, stat, "total_inactive_file"), 0);
        assert_eq!(
            stat_value("usage_usec 1500\nuser_usec 1000\n", "usage_usec"),
            Some(1500)
        );
        assert_eq!(stat_value("", "usage_usec"), None);
    }
}
