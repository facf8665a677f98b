//! When a request fits nowhere, the changes that would make it fit somewhere, where
//! the fix is clear: a runner held back by one resource alone (too little of it free,
//! or more asked than the per-sandbox ceiling allows) takes the request if it asks for
//! no more than that runner has free and the ceiling allows.

use crate::placement::{PlacementRejection, RejectionReason, SandboxCeiling};

/// A change to the request, with the amount that would fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    CpuMillicores(i64),
    MemoryBytes(i64),
    Gpus(i64),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Resource {
    Cpu,
    Memory,
    Gpus,
}

/// The resource a reason is about, and what the runner has free of it (`None` when
/// the reason is the ceiling, which says nothing about the runner).
fn resource_of(reason: &RejectionReason) -> Option<(Resource, Option<i64>)> {
    match reason {
        RejectionReason::NotEnoughCpu { available, .. } => Some((Resource::Cpu, Some(*available))),
        RejectionReason::NotEnoughMemory { available, .. } => {
            Some((Resource::Memory, Some(*available)))
        }
        RejectionReason::NotEnoughGpus { available, .. } => {
            Some((Resource::Gpus, Some(*available)))
        }
        RejectionReason::AboveCeiling { resource, .. } => match *resource {
            "CPU" => Some((Resource::Cpu, None)),
            "memory" => Some((Resource::Memory, None)),
            _ => Some((Resource::Gpus, None)),
        },
        _ => None,
    }
}

/// For each resource that alone keeps some runner from taking the request, the most
/// such a runner could be given: what it has free, capped by the ceiling.
pub fn resource_fixes(rejections: &[PlacementRejection], ceiling: &SandboxCeiling) -> Vec<Fix> {
    let mut best: [Option<i64>; 3] = [None; 3];
    for rejection in rejections {
        let about: Option<Vec<(Resource, Option<i64>)>> =
            rejection.reasons.iter().map(resource_of).collect();
        let Some(about) = about.filter(|a| !a.is_empty()) else {
            continue;
        };
        let resource = about[0].0;
        if about.iter().any(|(r, _)| *r != resource) {
            continue;
        }
        let limit = match resource {
            Resource::Cpu => ceiling.cpu_millicores,
            Resource::Memory => ceiling.memory_bytes,
            Resource::Gpus => ceiling.gpus,
        };
        let free = about.iter().find_map(|(_, free)| *free).unwrap_or(limit);
        let amount = free.min(limit);
        let slot = &mut best[resource as usize];
        if amount > 0 {
            *slot = Some(slot.map_or(amount, |b| b.max(amount)));
        }
    }
    let [cpu, memory, gpus] = best;
    cpu.map(Fix::CpuMillicores)
        .into_iter()
        .chain(memory.map(Fix::MemoryBytes))
        .chain(gpus.map(Fix::Gpus))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(runner: &str, reasons: Vec<RejectionReason>) -> PlacementRejection {
        PlacementRejection {
            runner_id: runner.into(),
            profile_name: "p".into(),
            reasons,
        }
    }

    fn short_of_memory(available: i64) -> RejectionReason {
        RejectionReason::NotEnoughMemory {
            needed: 1 << 40,
            available,
        }
    }

    fn above_memory_ceiling() -> RejectionReason {
        RejectionReason::AboveCeiling {
            resource: "memory",
            needed: "1.0 TiB".into(),
            ceiling: "100 B".into(),
        }
    }

    const CEILING: SandboxCeiling = SandboxCeiling {
        cpu_millicores: 16_000,
        memory_bytes: 100,
        gpus: 8,
    };

    #[test]
    fn the_most_free_among_runners_held_back_by_that_resource_alone() {
        let rejections = [
            rejected("a", vec![short_of_memory(40)]),
            rejected("b", vec![short_of_memory(60)]),
            // Short of two things: no single change makes it fit.
            rejected(
                "c",
                vec![
                    short_of_memory(90),
                    RejectionReason::NotEnoughCpu {
                        needed: 9,
                        available: 1,
                    },
                ],
            ),
            rejected(
                "d",
                vec![RejectionReason::NotEnoughGpus {
                    needed: 4,
                    available: 2,
                }],
            ),
            rejected("e", vec![RejectionReason::Unhealthy]),
            // Nothing free: asking for zero is not a fix.
            rejected(
                "f",
                vec![RejectionReason::NotEnoughCpu {
                    needed: 9,
                    available: 0,
                }],
            ),
        ];
        assert_eq!(
            resource_fixes(&rejections, &CEILING),
            [Fix::MemoryBytes(60), Fix::Gpus(2)]
        );
    }

    #[test]
    fn the_ceiling_caps_the_fix() {
        let rejections = [rejected(
            "a",
            vec![short_of_memory(500), above_memory_ceiling()],
        )];
        assert_eq!(
            resource_fixes(&rejections, &CEILING),
            [Fix::MemoryBytes(100)]
        );
        let only_ceiling = [rejected("a", vec![above_memory_ceiling()])];
        assert_eq!(
            resource_fixes(&only_ceiling, &CEILING),
            [Fix::MemoryBytes(100)]
        );
    }

    #[test]
    fn nothing_to_suggest_when_no_runner_is_held_back_by_resources() {
        let rejections = [
            rejected("a", vec![RejectionReason::Disconnected]),
            rejected("b", vec![]),
        ];
        assert!(resource_fixes(&rejections, &CEILING).is_empty());
    }
}
