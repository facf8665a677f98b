//! What the machine an agent runs on can offer, measured.

use super::host::HostIsolation;
use crate::capacity::Capacity;
use crate::process;

/// This machine's real CPU and memory, and whether it can run sandboxes without network.
/// Blocks the first time for the network probe (see `process::no_network_available`).
pub fn machine_capacity(isolation: &HostIsolation) -> Capacity {
    let outbound_networking = isolation.user_mode_networking();
    let (isolation, isolation_problem) = isolation.report();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let memory_bytes = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<i64>()
                        .ok()
                })
        })
        .map_or(0, |kib| kib * 1024);
    Capacity {
        cpu_millicores: i64::try_from(cpus).unwrap_or(1) * 1000,
        memory_bytes,
        gpus: 0,
        gpu_types: Vec::new(),
        architectures: vec![architecture().to_owned()],
        declared: false,
        healthy: true,
        network_isolation: process::no_network_available(),
        isolation,
        isolation_problem,
        outbound_networking,
    }
}

/// The machine's CPU architecture as Kubernetes names it.
pub fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
