//! What a profile offers a sandbox, gathered from discovery's (profile, runner) pairs:
//! the runners that bind it and the egress modes, ingress modes and GPU types it
//! offers on any of them.

use std::collections::{BTreeMap, BTreeSet};

use sandbox_api::discovery::ProfileSummary;

/// What one profile offers across the runners that bind it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Offer {
    pub runners: BTreeSet<String>,
    pub egress: BTreeSet<String>,
    pub ingress: BTreeSet<String>,
    pub gpu_types: BTreeSet<String>,
}

impl Offer {
    /// The offer in a sentence, for the hint under the profile.
    pub fn summary(&self) -> String {
        let join = |set: &BTreeSet<String>| {
            if set.is_empty() {
                "none".to_owned()
            } else {
                set.iter().cloned().collect::<Vec<_>>().join(", ")
            }
        };
        format!(
            "Offers egress {}; ingress {}; GPU types {}; on {} runner(s).",
            join(&self.egress),
            join(&self.ingress),
            join(&self.gpu_types),
            self.runners.len()
        )
    }
}

/// Every profile's offer, by profile name.
pub fn offers(profiles: &[ProfileSummary]) -> BTreeMap<String, Offer> {
    let mut offers: BTreeMap<String, Offer> = BTreeMap::new();
    for p in profiles {
        let offer = offers.entry(p.profile_name.clone()).or_default();
        offer.runners.insert(p.runner_id.clone());
        offer
            .egress
            .extend(p.egress_modes.iter().map(|m| m.name.clone()));
        offer
            .ingress
            .extend(p.service_exposure_modes.iter().map(|m| m.name.clone()));
        offer
            .gpu_types
            .extend(p.supported_gpu_types.iter().cloned());
    }
    offers
}

/// The modes (`pick`: egress or ingress) a sandbox may ask for: with a profile chosen,
/// only what it offers; otherwise what any profile offers (each runner's default
/// profile may or may not, which the placement preview then says). Sorted, each once.
pub fn modes_on_offer(
    offers: &BTreeMap<String, Offer>,
    profile: &str,
    pick: fn(&Offer) -> &BTreeSet<String>,
) -> Vec<String> {
    if !profile.is_empty() {
        return offers
            .get(profile)
            .map(|offer| pick(offer).iter().cloned().collect())
            .unwrap_or_default();
    }
    offers
        .values()
        .flat_map(|offer| pick(offer).iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use sandbox_api::discovery::{EgressMode, ServiceExposureMode};

    use super::*;

    fn binding(profile: &str, runner: &str, egress: &[&str], ingress: &[&str]) -> ProfileSummary {
        ProfileSummary {
            profile_name: profile.into(),
            runner_id: runner.into(),
            egress_modes: egress
                .iter()
                .map(|name| EgressMode {
                    name: (*name).into(),
                })
                .collect(),
            service_exposure_modes: ingress
                .iter()
                .map(|name| ServiceExposureMode {
                    name: (*name).into(),
                })
                .collect(),
            supported_gpu_types: if runner == "gpu" {
                vec!["H100".into()]
            } else {
                Vec::new()
            },
            ..ProfileSummary::default()
        }
    }

    fn fleet() -> BTreeMap<String, Offer> {
        offers(&[
            binding("ci", "r1", &["none"], &[]),
            binding("ci", "gpu", &["allowlist"], &["public"]),
            binding("web", "r1", &["internet", "none"], &["private"]),
        ])
    }

    #[test]
    fn a_profile_offers_the_union_of_its_bindings() {
        let offers = fleet();
        let ci = &offers["ci"];
        assert_eq!(ci.runners, BTreeSet::from(["gpu".into(), "r1".into()]));
        assert_eq!(
            ci.egress,
            BTreeSet::from(["allowlist".into(), "none".into()])
        );
        assert_eq!(ci.ingress, BTreeSet::from(["public".into()]));
        assert_eq!(ci.gpu_types, BTreeSet::from(["H100".into()]));
        assert_eq!(offers.keys().collect::<Vec<_>>(), ["ci", "web"]);
    }

    #[test]
    fn the_summary_names_every_mode_or_none() {
        assert_eq!(
            fleet()["web"].summary(),
            "Offers egress internet, none; ingress private; GPU types none; on 1 runner(s)."
        );
    }

    #[test]
    fn modes_are_the_chosen_profiles_or_else_any_profiles() {
        let offers = fleet();
        assert_eq!(
            modes_on_offer(&offers, "web", |o| &o.egress),
            ["internet", "none"]
        );
        assert_eq!(
            modes_on_offer(&offers, "", |o| &o.egress),
            ["allowlist", "internet", "none"]
        );
        assert_eq!(
            modes_on_offer(&offers, "", |o| &o.ingress),
            ["private", "public"]
        );
        assert!(modes_on_offer(&offers, "unknown", |o| &o.egress).is_empty());
    }
}
