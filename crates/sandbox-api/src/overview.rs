//! The overview's figures, from what discovery, the control plane and the sandbox list
//! say: the fleet's health and capacity in use, the sandboxes by state, and the
//! runners that need someone (install failed, disconnected, an update waiting).

use crate::discovery::AvailableRunner;
use crate::runner::{Runner, RunnerConnectionStatus, RunnerInstallStatus};
use crate::sandbox::{SandboxInfo, SandboxStatus};

/// The fleet as discovery sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetFigures {
    pub runners: usize,
    pub healthy: usize,
    /// Capacity in use and in all, over every runner.
    pub cpu_in_use: i64,
    pub cpu_total: i64,
    pub memory_in_use: i64,
    pub memory_total: i64,
    pub gpus_in_use: i64,
    pub gpus_total: i64,
}

pub fn fleet_figures(runners: &[AvailableRunner]) -> FleetFigures {
    runners
        .iter()
        .fold(FleetFigures::default(), |mut f, runner| {
            let (max, free) = (
                runner.capabilities.clone().unwrap_or_default(),
                runner.resources.clone().unwrap_or_default(),
            );
            f.runners += 1;
            f.healthy += usize::from(runner.healthy);
            f.cpu_total += max.max_cpu_millicores;
            f.cpu_in_use += (max.max_cpu_millicores - free.available_cpu_millicores).max(0);
            f.memory_total += max.max_memory_bytes;
            f.memory_in_use += (max.max_memory_bytes - free.available_memory_bytes).max(0);
            f.gpus_total += max.max_gpu_count;
            f.gpus_in_use += (max.max_gpu_count - free.available_gpu_count).max(0);
            f
        })
}

/// How many sandboxes are in each state that matters on the overview.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SandboxFigures {
    pub running: usize,
    /// Pending, creating or terminating: on their way.
    pub starting_or_stopping: usize,
    pub failed: usize,
    pub ended: usize,
}

pub fn sandbox_figures(sandboxes: &[SandboxInfo]) -> SandboxFigures {
    sandboxes
        .iter()
        .fold(SandboxFigures::default(), |mut f, s| {
            match s.sandbox_status {
                SandboxStatus::Running => f.running += 1,
                SandboxStatus::Failed => f.failed += 1,
                status if status.is_terminal() => f.ended += 1,
                _ => f.starting_or_stopping += 1,
            }
            f
        })
}

/// A runner someone should look at, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attention {
    pub runner_id: String,
    pub why: &'static str,
}

/// The runners that need someone, the most pressing first: failed installs, then
/// disconnected runners, then waiting updates.
pub fn needing_attention(runners: &[Runner]) -> Vec<Attention> {
    let mut found: Vec<(u8, Attention)> = runners
        .iter()
        .filter_map(|runner| {
            let runner_id = runner
                .identity
                .as_ref()
                .map(|i| i.runner_id.clone())
                .unwrap_or_default();
            let (rank, why) = if runner.install_status == RunnerInstallStatus::Failed {
                (0, "install failed")
            } else if runner.install_status == RunnerInstallStatus::Ready
                && runner.connection_status == RunnerConnectionStatus::Disconnected
            {
                (1, "disconnected")
            } else if runner.update_available {
                (2, "update available")
            } else {
                return None;
            };
            Some((rank, Attention { runner_id, why }))
        })
        .collect();
    found.sort_by(|a, b| (a.0, &a.1.runner_id).cmp(&(b.0, &b.1.runner_id)));
    found.into_iter().map(|(_, a)| a).collect()
}

/// Per cent of `total` that `part` is, rounded down (0 without a total).
pub fn percent(part: i64, total: i64) -> i64 {
    if total <= 0 {
        0
    } else {
        (part.max(0) as i128 * 100 / total as i128) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::{RunnerCapabilitySummary, RunnerResourceSummary};
    use crate::runner::RunnerIdentity;

    fn available(healthy: bool, cpu: (i64, i64), memory: (i64, i64)) -> AvailableRunner {
        AvailableRunner {
            healthy,
            capabilities: Some(RunnerCapabilitySummary {
                max_cpu_millicores: cpu.0,
                max_memory_bytes: memory.0,
                ..Default::default()
            }),
            resources: Some(RunnerResourceSummary {
                available_cpu_millicores: cpu.1,
                available_memory_bytes: memory.1,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_fleet_adds_up_its_runners() {
        let figures = fleet_figures(&[
            available(true, (4000, 1000), (100, 40)),
            available(false, (2000, 2000), (50, 50)),
        ]);
        assert_eq!((figures.runners, figures.healthy), (2, 1));
        assert_eq!((figures.cpu_in_use, figures.cpu_total), (3000, 6000));
        assert_eq!((figures.memory_in_use, figures.memory_total), (60, 150));
        assert_eq!(percent(figures.cpu_in_use, figures.cpu_total), 50);
        assert_eq!(percent(1, 0), 0);
    }

    #[test]
    fn sandboxes_are_counted_by_what_they_are_doing() {
        let with = |status| SandboxInfo {
            sandbox_status: status,
            ..Default::default()
        };
        let figures = sandbox_figures(&[
            with(SandboxStatus::Running),
            with(SandboxStatus::Running),
            with(SandboxStatus::Creating),
            with(SandboxStatus::Failed),
            with(SandboxStatus::Completed),
        ]);
        assert_eq!(
            figures,
            SandboxFigures {
                running: 2,
                starting_or_stopping: 1,
                failed: 1,
                ended: 1
            }
        );
    }

    #[test]
    fn failed_installs_come_before_disconnected_runners_and_waiting_updates() {
        let runner = |id: &str, install, connection, update| Runner {
            identity: Some(RunnerIdentity {
                runner_id: id.into(),
                ..Default::default()
            }),
            install_status: install,
            connection_status: connection,
            update_available: update,
            ..Default::default()
        };
        use RunnerConnectionStatus::{Connected, Disconnected};
        use RunnerInstallStatus::{Failed, Pending, Ready};
        let found = needing_attention(&[
            runner("b-update", Ready, Connected, true),
            runner("fine", Ready, Connected, false),
            runner("c-gone", Ready, Disconnected, false),
            runner("installing", Pending, Disconnected, false),
            runner("a-failed", Failed, Disconnected, true),
        ]);
        let said: Vec<(&str, &str)> = found
            .iter()
            .map(|a| (a.runner_id.as_str(), a.why))
            .collect();
        assert_eq!(
            said,
            [
                ("a-failed", "install failed"),
                ("c-gone", "disconnected"),
                ("b-update", "update available")
            ]
        );
    }
}
