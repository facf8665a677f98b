//! The one-click fixes for a launch request that fits nowhere: ask for no more of a
//! resource than some runner has free (`sandbox_api::placement_fixes`), or pick a
//! profile that offers the egress mode asked for.

use std::collections::BTreeMap;

use sandbox_api::format::{format_bytes, format_cpu};
use sandbox_api::placement::{
    CandidateRunner, PlacementRejection, RejectionReason, SandboxCeiling, place,
};
use sandbox_api::placement_fixes::{Fix, resource_fixes};
use sandbox_api::sandbox::StartSandboxRequest;

use super::draft::Draft;
use super::offer::Offer;

/// A change to the draft that would make the request fit.
#[derive(Clone, Debug, PartialEq)]
pub enum DraftFix {
    /// Ask for what a runner has free (`placement_fixes::Fix`).
    Resource(Fix),
    /// Use another profile, which offers the egress mode asked for.
    Profile { name: String, egress: String },
}

impl DraftFix {
    /// The fix as its button says it.
    pub fn label(&self) -> String {
        // The amount is what a runner has free, or the ceiling when that is lower.
        let ceiling = SandboxCeiling::default();
        let why = |at_ceiling: bool| {
            if at_ceiling {
                "the most one sandbox may have"
            } else {
                "the most a runner has free"
            }
        };
        match self {
            DraftFix::Resource(Fix::CpuMillicores(m)) => format!(
                "Ask for {} ({})",
                format_cpu(*m),
                why(*m == ceiling.cpu_millicores)
            ),
            DraftFix::Resource(Fix::MemoryBytes(b)) => format!(
                "Ask for {} of memory ({})",
                format_bytes(*b),
                why(*b == ceiling.memory_bytes)
            ),
            DraftFix::Resource(Fix::Gpus(n)) => {
                format!("Ask for {n} GPUs ({})", why(*n == ceiling.gpus))
            }
            DraftFix::Profile { name, egress } => {
                format!("Use profile {name}, which offers egress {egress}")
            }
        }
    }

    pub fn apply(&self, draft: &mut Draft) {
        match self {
            DraftFix::Resource(Fix::CpuMillicores(m)) => draft.cpu = cpu_quantity(*m),
            DraftFix::Resource(Fix::MemoryBytes(b)) => draft.memory = memory_quantity(*b),
            DraftFix::Resource(Fix::Gpus(n)) => draft.gpus = n.to_string(),
            // The runner chosen may not bind that profile.
            DraftFix::Profile { name, .. } => {
                draft.profile = name.clone();
                draft.runner.clear();
            }
        }
    }
}

/// Millicores as a person would type them: whole cores as `2`, else `1500m`.
fn cpu_quantity(millicores: i64) -> String {
    if millicores % 1000 == 0 {
        (millicores / 1000).to_string()
    } else {
        format!("{millicores}m")
    }
}

/// Bytes in the largest binary unit that holds them whole (`64Gi`, not `65536Mi`),
/// rounded down to whole MiB, so the amount asked for is never more than the fix.
fn memory_quantity(bytes: i64) -> String {
    const MI: i64 = 1 << 20;
    let mebibytes = bytes / MI;
    [("Ti", 1 << 20), ("Gi", 1 << 10)]
        .into_iter()
        .find(|(_, per)| mebibytes % per == 0 && mebibytes >= *per)
        .map_or_else(
            || format!("{mebibytes}Mi"),
            |(unit, per)| format!("{}{unit}", mebibytes / per),
        )
}

/// The fixes for `request` on `candidates`: none when it fits.
pub fn fixes(
    request: &StartSandboxRequest,
    candidates: &[CandidateRunner],
    offers: &BTreeMap<String, Offer>,
    current_profile: &str,
) -> Vec<DraftFix> {
    match place(request, candidates, &SandboxCeiling::default()) {
        Ok(_) => Vec::new(),
        Err(failure) => fixes_for(&failure.rejections, offers, current_profile),
    }
}

/// The fixes for a request every runner rejected, as `rejections` say why: first the
/// resources, then every other profile that offers the egress mode asked for.
pub fn fixes_for(
    rejections: &[PlacementRejection],
    offers: &BTreeMap<String, Offer>,
    current_profile: &str,
) -> Vec<DraftFix> {
    let mut fixes: Vec<DraftFix> = resource_fixes(rejections, &SandboxCeiling::default())
        .into_iter()
        .map(DraftFix::Resource)
        .collect();
    let wanted_egress =
        rejections
            .iter()
            .flat_map(|r| &r.reasons)
            .find_map(|reason| match reason {
                RejectionReason::EgressModeNotOffered { requested, .. } => Some(requested),
                _ => None,
            });
    if let Some(egress) = wanted_egress {
        for (name, offer) in offers {
            if name != current_profile && offer.egress.contains(egress) {
                fixes.push(DraftFix::Profile {
                    name: name.clone(),
                    egress: egress.clone(),
                });
            }
        }
    }
    fixes
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn rejected(reasons: Vec<RejectionReason>) -> PlacementRejection {
        PlacementRejection {
            runner_id: "r1".into(),
            profile_name: "ci".into(),
            reasons,
        }
    }

    fn offering(egress: &[&str]) -> Offer {
        Offer {
            egress: egress
                .iter()
                .map(|e| (*e).to_owned())
                .collect::<BTreeSet<_>>(),
            ..Offer::default()
        }
    }

    #[test]
    fn resources_come_first_then_profiles_offering_the_egress_asked_for() {
        let rejections = [rejected(vec![
            RejectionReason::NotEnoughMemory {
                needed: 8 << 30,
                available: 2 << 30,
            },
            RejectionReason::EgressModeNotOffered {
                requested: "internet".into(),
                offered: vec!["none".into()],
            },
        ])];
        let offers = BTreeMap::from([
            ("ci".to_owned(), offering(&["internet"])),
            ("open".to_owned(), offering(&["internet", "none"])),
            ("closed".to_owned(), offering(&["none"])),
        ]);
        // Short of two things on that runner: no resource alone is the obstacle.
        assert_eq!(
            fixes_for(&rejections, &offers, "ci"),
            [DraftFix::Profile {
                name: "open".into(),
                egress: "internet".into()
            }]
        );
        let memory_only = [rejected(vec![RejectionReason::NotEnoughMemory {
            needed: 8 << 30,
            available: 2 << 30,
        }])];
        assert_eq!(
            fixes_for(&memory_only, &offers, "ci"),
            [DraftFix::Resource(Fix::MemoryBytes(2 << 30))]
        );
    }

    #[test]
    fn each_fix_says_what_it_does_and_does_it() {
        let mut draft = Draft {
            profile: "ci".into(),
            runner: "r1".into(),
            ..Draft::default()
        };
        let cpu = DraftFix::Resource(Fix::CpuMillicores(1500));
        assert_eq!(cpu.label(), "Ask for 1.5 vCPU (the most a runner has free)");
        cpu.apply(&mut draft);
        assert_eq!(draft.cpu, "1500m");
        DraftFix::Resource(Fix::CpuMillicores(16_000)).apply(&mut draft);
        assert_eq!(draft.cpu, "16");
        assert_eq!(
            DraftFix::Resource(Fix::CpuMillicores(16_000)).label(),
            "Ask for 16.0 vCPU (the most one sandbox may have)"
        );
        let memory = DraftFix::Resource(Fix::MemoryBytes(3 << 30));
        assert_eq!(
            memory.label(),
            "Ask for 3.0 GiB of memory (the most a runner has free)"
        );
        memory.apply(&mut draft);
        assert_eq!(draft.memory, "3Gi");
        DraftFix::Resource(Fix::MemoryBytes(64 << 30)).apply(&mut draft);
        assert_eq!(draft.memory, "64Gi");
        DraftFix::Resource(Fix::MemoryBytes(1536 << 20)).apply(&mut draft);
        assert_eq!(draft.memory, "1536Mi");
        let gpus = DraftFix::Resource(Fix::Gpus(2));
        assert_eq!(gpus.label(), "Ask for 2 GPUs (the most a runner has free)");
        gpus.apply(&mut draft);
        assert_eq!(draft.gpus, "2");
        let profile = DraftFix::Profile {
            name: "open".into(),
            egress: "internet".into(),
        };
        assert_eq!(
            profile.label(),
            "Use profile open, which offers egress internet"
        );
        profile.apply(&mut draft);
        assert_eq!(
            (draft.profile.as_str(), draft.runner.as_str()),
            ("open", "")
        );
    }
}
