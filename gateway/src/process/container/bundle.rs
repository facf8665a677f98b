//! A sandbox's OCI bundle: `config.json` (the runtime spec, built with `oci-spec`) and
//! an empty root filesystem directory that the mounts fill in.
//!
//! What a sandbox sees (local decision: the local runner has no container images, so
//! the host's system directories stand in for one):
//! - the host's `/usr`, `/bin`, `/sbin`, `/lib*` and `/etc` read-only (symlinks such as
//!   Debian's `/bin → usr/bin` recreated as symlinks), with `/etc`'s secrets and the
//!   gateway's data directory (if it lies under one of them) masked;
//! - its own working directory read-write at `/work` (its HOME and cwd), a private `/tmp`
//!   and `/dev/shm`, its own `/proc` with the runtime's masked and read-only paths, and a
//!   minimal `/dev`;
//! - new pid, mount, ipc, uts and cgroup namespaces, and a network namespace of its own
//!   unless it keeps the host network: only loopback for egress `none`, user-mode
//!   networking (slirp4netns, started by a hook before the sandbox's process) for
//!   outbound egress, which cannot reach this machine's own services, and with an
//!   allowlist, firewall rules in that namespace letting only its CIDRs (and DNS)
//!   through; a non-root user, no capabilities,
//!   `no_new_privs`; memory, CPU and process limits in a cgroup nested under the
//!   gateway's own.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    HookBuilder, HooksBuilder, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxCpuBuilder,
    LinuxDeviceCgroupBuilder, LinuxMemoryBuilder, LinuxNamespaceBuilder, LinuxNamespaceType,
    LinuxPidsBuilder, LinuxResourcesBuilder, Mount, MountBuilder, PosixRlimitBuilder,
    PosixRlimitType, ProcessBuilder, RootBuilder, Spec, SpecBuilder, UserBuilder,
    get_default_maskedpaths, get_default_readonly_paths,
};

use super::ResourceLimits;
use crate::process::NetworkIsolation;

/// The host directories a sandbox sees read-only, when the host has them.
pub const SYSTEM_DIRS: &[&str] = &["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc"];

/// Where the sandbox's working directory appears inside it.
pub const WORK_DIR: &str = "/work";

/// Files of the host's `/etc` a sandbox must not read even though they are root-only
/// (defence in depth: the sandbox user is never root, but a kernel bug should not be
/// enough).
const ETC_SECRETS: &[&str] = &["/etc/shadow", "/etc/gshadow", "/etc/ssh", "/etc/sudoers.d"];

/// The CFS period CPU quotas are expressed in (the kernel's default), in microseconds.
const CPU_PERIOD_US: u64 = 100_000;

/// The smallest CPU quota the kernel accepts, in microseconds.
const MIN_CPU_QUOTA_US: i64 = 1_000;

/// Size of the private `/tmp` and `/dev/shm` (local decision). Their pages count
/// against the sandbox's memory limit too.
const TMPFS_SIZE: &str = "size=256m";

/// The tools user-mode networking needs, found at start (see `ContainerRuntime`).
#[derive(Clone, Debug)]
pub struct NetworkTools {
    pub slirp4netns: PathBuf,
    pub nsenter: PathBuf,
    pub iptables: PathBuf,
}

/// How long the network hook may take (seconds) before runc gives up on the sandbox.
const NETWORK_HOOK_TIMEOUT_S: i64 = 10;

/// The `createRuntime` hook of an outbound sandbox, run by runc as root in the host's
/// namespaces once the sandbox's namespaces exist and before its process starts: it
/// starts slirp4netns on the sandbox's network namespace (its pid, read from the
/// container state runc gives on stdin, goes to `$1`), waits until the namespace has its
/// default route, and with an allowlist adds the firewall rules. Arguments: the
/// slirp4netns pid file, slirp4netns, nsenter, iptables, `internet` or `allowlist`,
/// then the allowed CIDRs.
const NETWORK_HOOK: &str = r#"set -eu
pidfile=$1 slirp=$2 nsenter=$3 iptables=$4 mode=$5
shift 5
pid=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p')
[ -n "$pid" ]
if [ "$mode" = internet ]; then loopback=--disable-host-loopback; else loopback=; fi
setsid "$slirp" --configure --mtu=65520 $loopback "$pid" tap0 </dev/null >/dev/null 2>&1 &
slirp_pid=$!
echo "$slirp_pid" > "$pidfile"
tries=0
until grep -q '^tap0[[:space:]]*00000000' "/proc/$pid/net/route" 2>/dev/null; do
  kill -0 "$slirp_pid" 2>/dev/null || { echo "slirp4netns ended" >&2; exit 1; }
  tries=$((tries + 1))
  [ "$tries" -lt 2500 ] || { echo "the sandbox's network did not come up" >&2; exit 1; }
  sleep 0.002
done
if [ "$mode" = allowlist ]; then
  rule() { "$nsenter" --target "$pid" --net "$iptables" -w -A OUTPUT "$@"; }
  rule -o lo -j ACCEPT
  rule -d 10.0.2.3 -p udp --dport 53 -j ACCEPT
  rule -d 10.0.2.3 -p tcp --dport 53 -j ACCEPT
  for cidr in "$@"; do rule -d "$cidr" -j ACCEPT; done
  rule -j REJECT
fi
"#;

/// A sandbox's user-mode network: the tools, where slirp4netns's pid goes, and the
/// allowlist if its egress has one.
pub struct UserModeNetwork<'a> {
    pub tools: &'a NetworkTools,
    pub slirp_pid_file: PathBuf,
    pub allowlist: Option<&'a [String]>,
}

/// What one sandbox's container runs, as who, with what.
pub struct ContainerProcess<'a> {
    /// The program and its arguments, as paths inside the sandbox.
    pub argv: Vec<String>,
    /// `KEY=value` pairs.
    pub env: Vec<String>,
    pub uid: u32,
    pub network: NetworkIsolation,
    pub limits: ResourceLimits,
    /// The host directory mounted at [`WORK_DIR`].
    pub work_dir: &'a Path,
    /// Masked if a sandbox could otherwise see it (under a system directory).
    pub data_dir: &'a Path,
    /// The cgroup path, relative to the gateway's own cgroup.
    pub cgroup: String,
    /// Set exactly when `network` is [`NetworkIsolation::Outbound`].
    pub user_mode_network: Option<UserModeNetwork<'a>>,
    /// The sandbox's limit on open files (`open_files::for_a_sandbox`).
    pub open_files: u64,
}

/// Writes `bundle/config.json` and the empty `bundle/rootfs` for `process`.
pub fn write(bundle: &Path, process: &ContainerProcess<'_>) -> std::io::Result<()> {
    let rootfs = bundle.join("rootfs");
    std::fs::create_dir_all(&rootfs)?;
    // The sandbox's `/`: its user must be able to look up what is mounted in it, even
    // though the gateway makes everything else private (umask 077).
    std::fs::set_permissions(&rootfs, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    for dir in SYSTEM_DIRS {
        let host = Path::new(dir);
        let inside = rootfs.join(dir.trim_start_matches('/'));
        match std::fs::read_link(host) {
            // A symlinked system directory (merged /usr) is the same symlink inside.
            Ok(target) => {
                if std::fs::symlink_metadata(&inside).is_err() {
                    std::os::unix::fs::symlink(target, &inside)?;
                }
            }
            Err(_) if host.is_dir() => std::fs::create_dir_all(&inside)?,
            Err(_) => {}
        }
    }
    for dir in ["work", "tmp", "proc", "dev"] {
        std::fs::create_dir_all(rootfs.join(dir))?;
    }
    spec(process)
        .map_err(std::io::Error::other)?
        .save(bundle.join("config.json"))
        .map_err(std::io::Error::other)
}

/// The runtime spec for `process`.
pub fn spec(process: &ContainerProcess<'_>) -> Result<Spec, oci_spec::OciSpecError> {
    let no_capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(HashSet::new())
        .effective(HashSet::new())
        .inheritable(HashSet::new())
        .permitted(HashSet::new())
        .ambient(HashSet::new())
        .build()?;
    let user = UserBuilder::default()
        .uid(process.uid)
        .gid(process.uid)
        .additional_gids(Vec::<u32>::new())
        .build()?;
    let container_process = ProcessBuilder::default()
        .terminal(false)
        .user(user)
        .args(process.argv.clone())
        .env(process.env.clone())
        .cwd(WORK_DIR)
        .capabilities(no_capabilities)
        .no_new_privileges(true)
        .rlimits(vec![
            PosixRlimitBuilder::default()
                .typ(PosixRlimitType::RlimitNofile)
                .soft(process.open_files)
                .hard(process.open_files)
                .build()?,
        ])
        .build()?;
    let mut namespaces = vec![
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Cgroup,
    ];
    if process.network != NetworkIsolation::Host {
        // A new network namespace: the runtime brings up its loopback; the network
        // hook, if any, the rest.
        namespaces.push(LinuxNamespaceType::Network);
    }
    let namespaces = namespaces
        .into_iter()
        .map(|typ| LinuxNamespaceBuilder::default().typ(typ).build())
        .collect::<Result<Vec<_>, _>>()?;
    let limits = &process.limits;
    let cpu_quota = (i64::try_from(limits.cpu_millicores)
        .unwrap_or(i64::MAX)
        .saturating_mul(CPU_PERIOD_US as i64)
        / 1000)
        .max(MIN_CPU_QUOTA_US);
    let resources = LinuxResourcesBuilder::default()
        .devices(vec![
            // Every device denied but the runtime's defaults (null, zero, random, tty…).
            LinuxDeviceCgroupBuilder::default()
                .allow(false)
                .access("rwm")
                .build()?,
        ])
        .memory(
            LinuxMemoryBuilder::default()
                .limit(i64::try_from(limits.memory_bytes).unwrap_or(i64::MAX))
                .build()?,
        )
        .cpu(
            LinuxCpuBuilder::default()
                .quota(cpu_quota)
                .period(CPU_PERIOD_US)
                .build()?,
        )
        .pids(
            LinuxPidsBuilder::default()
                .limit(i64::try_from(limits.processes).unwrap_or(i64::MAX))
                .build()?,
        )
        .build()?;
    let mut masked: Vec<String> = get_default_maskedpaths();
    masked.extend(ETC_SECRETS.iter().map(|p| p.to_string()));
    if let Some(visible) = visible_host_path(process.data_dir) {
        masked.push(visible);
    }
    let linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .resources(resources)
        .cgroups_path(PathBuf::from(&process.cgroup))
        .masked_paths(masked)
        .readonly_paths(get_default_readonly_paths())
        .build()?;
    let mut spec = SpecBuilder::default()
        .version("1.0.2")
        .hostname("sandbox")
        .root(
            RootBuilder::default()
                .path("rootfs")
                .readonly(true)
                .build()?,
        )
        .mounts(mounts(process.work_dir)?)
        .process(container_process)
        .linux(linux)
        .build()?;
    if let Some(network) = &process.user_mode_network {
        spec.set_hooks(Some(
            HooksBuilder::default()
                .create_runtime(vec![network_hook(network)?])
                .build()?,
        ));
    }
    Ok(spec)
}

fn network_hook(
    network: &UserModeNetwork<'_>,
) -> Result<oci_spec::runtime::Hook, oci_spec::OciSpecError> {
    let tools = network.tools;
    let mut args = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        NETWORK_HOOK.to_owned(),
        "network-hook".to_owned(),
        network.slirp_pid_file.display().to_string(),
        tools.slirp4netns.display().to_string(),
        tools.nsenter.display().to_string(),
        tools.iptables.display().to_string(),
    ];
    match network.allowlist {
        None => args.push("internet".to_owned()),
        Some(cidrs) => {
            args.push("allowlist".to_owned());
            args.extend(cidrs.iter().cloned());
        }
    }
    HookBuilder::default()
        .path("/bin/sh")
        .args(args)
        .env(vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".to_owned()])
        .timeout(NETWORK_HOOK_TIMEOUT_S)
        .build()
}

/// The host path a sandbox would see `path` at, if a system directory shows it.
fn visible_host_path(path: &Path) -> Option<String> {
    let path = std::path::absolute(path).ok()?;
    SYSTEM_DIRS
        .iter()
        .any(|dir| path.starts_with(dir))
        .then(|| path.display().to_string())
}

fn mounts(work_dir: &Path) -> Result<Vec<Mount>, oci_spec::OciSpecError> {
    let mount = |destination: &str, typ: &str, source: &Path, options: &[&str]| {
        MountBuilder::default()
            .destination(destination)
            .typ(typ)
            .source(source)
            .options(options.iter().map(|o| o.to_string()).collect::<Vec<_>>())
            .build()
    };
    let mut mounts = vec![
        mount(
            "/proc",
            "proc",
            Path::new("proc"),
            &["nosuid", "noexec", "nodev"],
        )?,
        mount(
            "/dev",
            "tmpfs",
            Path::new("tmpfs"),
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
        mount(
            "/dev/pts",
            "devpts",
            Path::new("devpts"),
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
            ],
        )?,
        mount(
            "/dev/shm",
            "tmpfs",
            Path::new("shm"),
            &["nosuid", "noexec", "nodev", "mode=1777", TMPFS_SIZE],
        )?,
        mount(
            "/dev/mqueue",
            "mqueue",
            Path::new("mqueue"),
            &["nosuid", "noexec", "nodev"],
        )?,
        mount(
            "/tmp",
            "tmpfs",
            Path::new("tmpfs"),
            &["nosuid", "nodev", "mode=1777", TMPFS_SIZE],
        )?,
        mount(
            WORK_DIR,
            "bind",
            work_dir,
            &["rbind", "rw", "nosuid", "nodev"],
        )?,
    ];
    for dir in SYSTEM_DIRS {
        let host = Path::new(dir);
        if host.is_dir() && std::fs::read_link(host).is_err() {
            mounts.push(mount(
                dir,
                "bind",
                host,
                &["rbind", "ro", "nosuid", "nodev"],
            )?);
        }
    }
    Ok(mounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(network: NetworkIsolation) -> ContainerProcess<'static> {
        ContainerProcess {
            argv: vec!["/usr/bin/tini".into(), "--".into(), "sh".into()],
            env: vec!["PATH=/usr/bin:/bin".into()],
            uid: 1_234_567,
            network,
            limits: ResourceLimits {
                memory_bytes: 64 << 20,
                cpu_millicores: 500,
                processes: 100,
                log_bytes: 1 << 20,
            },
            work_dir: Path::new("/srv/data/sandboxes/x/work"),
            data_dir: Path::new("/usr/local/lib/gateway-data"),
            cgroup: "sandbox-gateway/x".into(),
            user_mode_network: None,
            open_files: crate::process::open_files::for_a_sandbox(),
        }
    }

    #[test]
    fn the_spec_runs_as_a_user_without_capabilities_within_limits() {
        let spec = serde_json::to_value(spec(&process(NetworkIsolation::None)).unwrap()).unwrap();
        let p = &spec["process"];
        assert_eq!(p["user"]["uid"], 1_234_567);
        assert_eq!(p["noNewPrivileges"], true);
        assert_eq!(p["capabilities"]["bounding"], serde_json::json!([]));
        assert_eq!(p["cwd"], WORK_DIR);
        let resources = &spec["linux"]["resources"];
        assert_eq!(resources["memory"]["limit"], 64 << 20);
        assert_eq!(resources["cpu"]["quota"], 50_000);
        assert_eq!(resources["pids"]["limit"], 100);
        assert_eq!(spec["root"]["readonly"], true);
        let masked = spec["linux"]["maskedPaths"].as_array().unwrap();
        assert!(masked.contains(&"/etc/shadow".into()));
        // The data directory lies under /usr here, so it is masked.
        assert!(masked.contains(&"/usr/local/lib/gateway-data".into()));
    }

    #[test]
    fn only_egress_none_gets_a_network_namespace_of_its_own() {
        let kinds = |network| {
            let spec = serde_json::to_value(spec(&process(network)).unwrap()).unwrap();
            spec["linux"]["namespaces"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["type"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert!(kinds(NetworkIsolation::None).contains(&"network".to_owned()));
        assert!(!kinds(NetworkIsolation::Host).contains(&"network".to_owned()));
        assert!(kinds(NetworkIsolation::Host).contains(&"pid".to_owned()));
    }

    #[test]
    fn outbound_sandboxes_get_their_network_from_a_hook_with_their_allowlist() {
        let tools = NetworkTools {
            slirp4netns: "/usr/bin/slirp4netns".into(),
            nsenter: "/usr/bin/nsenter".into(),
            iptables: "/usr/sbin/iptables".into(),
        };
        let cidrs = vec!["140.82.112.0/20".to_owned()];
        let mut outbound = process(NetworkIsolation::Outbound);
        outbound.user_mode_network = Some(UserModeNetwork {
            tools: &tools,
            slirp_pid_file: "/data/sandboxes/x/bundle/slirp.pid".into(),
            allowlist: Some(&cidrs),
        });
        let spec = serde_json::to_value(spec(&outbound).unwrap()).unwrap();
        let hook = &spec["hooks"]["createRuntime"][0];
        assert_eq!(hook["path"], "/bin/sh");
        let args: Vec<&str> = hook["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            &args[4..],
            [
                "/data/sandboxes/x/bundle/slirp.pid",
                "/usr/bin/slirp4netns",
                "/usr/bin/nsenter",
                "/usr/sbin/iptables",
                "allowlist",
                "140.82.112.0/20"
            ]
        );
        let namespaces = spec["linux"]["namespaces"].to_string();
        assert!(namespaces.contains("network"), "{namespaces}");
    }
}
