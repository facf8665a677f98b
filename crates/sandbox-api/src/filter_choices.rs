//! The discovery filters offered as choices: the values the data holds, each with how
//! many rows it would leave given the other filters (so a choice never promises rows
//! that another filter then hides), and each active filter described in the unit its
//! input takes.

use crate::discovery::{AvailableRunner, ProfileSummary};
use crate::filters::DiscoveryFilter;
use crate::format::format_scaled;

/// A filter whose values come from the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Facet {
    RunnerGroup,
    Runner,
    Profile,
    GpuType,
    Architecture,
    IngressMode,
    EgressMode,
}

/// One value a facet can take, and how many rows it leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub count: usize,
}

impl Facet {
    /// The facet's current value in `filter` (empty: any).
    pub fn value(self, filter: &DiscoveryFilter) -> &str {
        match self {
            Facet::RunnerGroup => &filter.runner_group_id,
            Facet::Runner => &filter.runner_id,
            Facet::Profile => &filter.profile_name,
            Facet::GpuType => &filter.gpu_type,
            Facet::Architecture => &filter.architecture,
            Facet::IngressMode => &filter.ingress_mode,
            Facet::EgressMode => &filter.egress_mode,
        }
    }

    pub fn set(self, filter: &mut DiscoveryFilter, value: String) {
        *match self {
            Facet::RunnerGroup => &mut filter.runner_group_id,
            Facet::Runner => &mut filter.runner_id,
            Facet::Profile => &mut filter.profile_name,
            Facet::GpuType => &mut filter.gpu_type,
            Facet::Architecture => &mut filter.architecture,
            Facet::IngressMode => &mut filter.ingress_mode,
            Facet::EgressMode => &mut filter.egress_mode,
        } = value;
    }

    /// `filter` without this facet: what its counts are taken under.
    fn others(self, filter: &DiscoveryFilter) -> DiscoveryFilter {
        let mut others = filter.clone();
        self.set(&mut others, String::new());
        others
    }

    fn profile_values(self, profile: &ProfileSummary) -> Vec<&str> {
        fn names(list: &[String]) -> Vec<&str> {
            list.iter().map(String::as_str).collect()
        }
        match self {
            Facet::RunnerGroup => Vec::new(),
            Facet::Runner => vec![&profile.runner_id],
            Facet::Profile => vec![&profile.profile_name],
            Facet::GpuType => names(&profile.supported_gpu_types),
            Facet::Architecture => names(&profile.supported_architectures),
            Facet::IngressMode => profile
                .service_exposure_modes
                .iter()
                .map(|m| m.name.as_str())
                .collect(),
            Facet::EgressMode => profile
                .egress_modes
                .iter()
                .map(|m| m.name.as_str())
                .collect(),
        }
    }

    fn runner_values<'a>(
        self,
        runner: &'a AvailableRunner,
        profiles: &'a [ProfileSummary],
    ) -> Vec<&'a str> {
        let capabilities = runner.capabilities.as_ref();
        let names = |list: Option<&'a Vec<String>>| {
            list.into_iter()
                .flatten()
                .map(String::as_str)
                .collect::<Vec<_>>()
        };
        match self {
            Facet::RunnerGroup => vec![&runner.runner_group_id],
            Facet::Runner => vec![&runner.runner_id],
            Facet::Profile => names(Some(&runner.profile_names)),
            Facet::GpuType => names(capabilities.map(|c| &c.supported_gpu_types)),
            Facet::Architecture => names(capabilities.map(|c| &c.supported_architectures)),
            Facet::IngressMode | Facet::EgressMode => profiles
                .iter()
                .filter(|p| p.runner_id == runner.runner_id)
                .flat_map(|p| self.profile_values(p))
                .collect(),
        }
    }
}

/// The choices of `facet` among `runners` (each with its profile summaries, needed for
/// the mode facets): a value counts the runners that pass every other filter and have it.
pub fn runner_choices<'a>(
    filter: &DiscoveryFilter,
    facet: Facet,
    runners: impl IntoIterator<Item = (&'a AvailableRunner, &'a [ProfileSummary])>,
) -> Vec<Choice> {
    let others = facet.others(filter);
    let mut tally = Tally::default();
    for (runner, profiles) in runners {
        if others.matches_runner(runner, profiles) {
            tally.row(facet.runner_values(runner, profiles));
        }
    }
    tally.choices(facet.value(filter))
}

/// The choices of `facet` among profile bindings, counted as [`runner_choices`] does.
pub fn profile_choices(
    filter: &DiscoveryFilter,
    facet: Facet,
    profiles: &[ProfileSummary],
) -> Vec<Choice> {
    let others = facet.others(filter);
    let mut tally = Tally::default();
    for profile in profiles.iter().filter(|p| others.matches_profile(p)) {
        tally.row(facet.profile_values(profile));
    }
    tally.choices(facet.value(filter))
}

/// The choices among rows that each have one value (a sandbox's runner, say), counted
/// and kept as the facets above do.
pub fn single_value_choices<'a>(
    values: impl IntoIterator<Item = &'a str>,
    current: &str,
) -> Vec<Choice> {
    let mut tally = Tally::default();
    for value in values {
        tally.row(vec![value]);
    }
    tally.choices(current)
}

/// Counts rows per value, values told apart without regard to ASCII case (as the
/// filters match), each spelled as it was first seen.
#[derive(Default)]
struct Tally {
    /// One entry per (row, value): the value folded to lower case, as written, and
    /// whether a row has it (the current value is added without one), sorted once at
    /// the end.
    seen: Vec<(String, String, bool)>,
}

impl Tally {
    fn row(&mut self, values: Vec<&str>) {
        let start = self.seen.len();
        for value in values.into_iter().filter(|v| !v.is_empty()) {
            let key = value.to_ascii_lowercase();
            if !self.seen[start..].iter().any(|(k, _, _)| *k == key) {
                self.seen.push((key, value.to_owned(), true));
            }
        }
    }

    /// The choices in order of value, each spelled as first seen; the current value is
    /// kept (with no rows) when no row has it, so a filter from an old link still shows
    /// what it asks for.
    fn choices(mut self, current: &str) -> Vec<Choice> {
        if !current.is_empty() {
            self.seen
                .push((current.to_ascii_lowercase(), current.to_owned(), false));
        }
        // By value, then in the order seen, so the first spelling seen comes first among
        // equals.
        let mut order: Vec<usize> = (0..self.seen.len()).collect();
        order.sort_unstable_by(|&a, &b| self.seen[a].0.cmp(&self.seen[b].0).then(a.cmp(&b)));
        let mut choices: Vec<Choice> = Vec::new();
        let mut last_key: Option<&str> = None;
        for (key, value, counted) in order.into_iter().map(|i| &self.seen[i]) {
            if last_key != Some(key.as_str()) {
                choices.push(Choice {
                    value: value.clone(),
                    count: 0,
                });
                last_key = Some(key);
            }
            if let Some(choice) = choices.last_mut() {
                choice.count += usize::from(*counted);
            }
        }
        choices
    }
}

/// How an active filter reads on its chip: its input's label and its value in that
/// input's unit (`Min free memory: 200 GiB`, not bytes).
pub fn describe_filter(parameter: &str, value: &str) -> String {
    const GIB: i64 = 1024 * 1024 * 1024;
    let scaled = |unit: i64, suffix: &str| {
        value
            .parse::<i64>()
            .map(|n| format!("{}{suffix}", format_scaled(n, unit)))
            .unwrap_or_else(|_| value.to_owned())
    };
    match parameter {
        "runnerGroupId" => format!("Runner group: {value}"),
        "runnerId" => format!("Runner: {value}"),
        "profileName" => format!("Profile: {value}"),
        "gpuType" => format!("GPU type: {value}"),
        "architecture" => format!("Architecture: {value}"),
        "ingressMode" => format!("Ingress mode: {value}"),
        "egressMode" => format!("Egress mode: {value}"),
        "excludeShared" => "Owned runners only".to_owned(),
        "healthyOnly" => "Healthy only".to_owned(),
        "minAvailableCpuMillicores" => format!("Min free vCPU: {}", scaled(1000, "")),
        "minAvailableMemoryBytes" => format!("Min free memory: {}", scaled(GIB, " GiB")),
        "minAvailableGpuCount" => format!("Min free GPUs: {value}"),
        _ => format!("{parameter}: {value}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn runner(id: &str, group: &str, gpus: &[&str], profiles: &[&str]) -> AvailableRunner {
        serde_json::from_value(json!({
            "runnerId": id, "runnerGroupId": group, "healthy": true, "profileNames": profiles,
            "capabilities": {"supportedGpuTypes": gpus, "supportedArchitectures": ["amd64"]},
            "resources": {"availableCpuMillicores": "8000"}
        }))
        .unwrap()
    }

    fn profile(name: &str, runner: &str, egress: &[&str]) -> ProfileSummary {
        let modes: Vec<_> = egress.iter().map(|m| json!({"name": m})).collect();
        serde_json::from_value(
            json!({"profileName": name, "runnerId": runner, "egressModes": modes}),
        )
        .unwrap()
    }

    fn choices(list: &[Choice]) -> Vec<(&str, usize)> {
        list.iter().map(|c| (c.value.as_str(), c.count)).collect()
    }

    #[test]
    fn counts_are_taken_under_the_other_filters_and_ignore_case() {
        let runners = [
            runner("a", "gpu", &["H100"], &["train"]),
            runner("b", "GPU", &["h100", "A100"], &["train", "serve"]),
            runner("c", "cpu", &[], &["serve"]),
        ];
        let rows: Vec<(&AvailableRunner, &[ProfileSummary])> =
            runners.iter().map(|r| (r, &[][..])).collect();
        let any = DiscoveryFilter::default();
        assert_eq!(
            choices(&runner_choices(&any, Facet::RunnerGroup, rows.clone())),
            [("cpu", 1), ("gpu", 2)]
        );
        assert_eq!(
            choices(&runner_choices(&any, Facet::GpuType, rows.clone())),
            [("A100", 1), ("H100", 2)]
        );
        // A chosen group narrows the other facets' counts but not its own.
        let gpu = DiscoveryFilter {
            runner_group_id: "Gpu".into(),
            ..DiscoveryFilter::default()
        };
        assert_eq!(
            choices(&runner_choices(&gpu, Facet::Profile, rows.clone())),
            [("serve", 1), ("train", 2)]
        );
        assert_eq!(
            choices(&runner_choices(&gpu, Facet::RunnerGroup, rows.clone())),
            [("cpu", 1), ("gpu", 2)]
        );
    }

    #[test]
    fn a_current_value_no_row_has_is_still_offered() {
        let runners = [runner("a", "gpu", &[], &[])];
        let filter = DiscoveryFilter {
            runner_group_id: "west".into(),
            ..DiscoveryFilter::default()
        };
        let list = runner_choices(
            &filter,
            Facet::RunnerGroup,
            runners.iter().map(|r| (r, &[][..])),
        );
        assert_eq!(choices(&list), [("gpu", 1), ("west", 0)]);
    }

    #[test]
    fn mode_facets_read_the_runners_profiles() {
        let runners = [runner("a", "g", &[], &["p"]), runner("b", "g", &[], &["p"])];
        let profiles = [
            profile("p", "a", &["internet", "none"]),
            profile("q", "a", &["internet"]),
            profile("p", "b", &["none"]),
        ];
        let rows = runners.iter().map(|r| (r, &profiles[..]));
        let list = runner_choices(&DiscoveryFilter::default(), Facet::EgressMode, rows);
        // Runner a offers internet through two profiles: it counts once.
        assert_eq!(choices(&list), [("internet", 1), ("none", 2)]);
        let bindings = profile_choices(&DiscoveryFilter::default(), Facet::Runner, &profiles);
        assert_eq!(choices(&bindings), [("a", 2), ("b", 1)]);
    }

    #[test]
    fn single_values_are_counted_without_regard_to_case() {
        let list = single_value_choices(["a", "B", "b", ""], "c");
        assert_eq!(choices(&list), [("a", 1), ("B", 2), ("c", 0)]);
    }

    #[test]
    fn chips_speak_in_their_inputs_units() {
        assert_eq!(
            describe_filter("minAvailableMemoryBytes", "214748364800"),
            "Min free memory: 200 GiB"
        );
        assert_eq!(
            describe_filter("minAvailableCpuMillicores", "2500"),
            "Min free vCPU: 2.5"
        );
        assert_eq!(describe_filter("gpuType", "h100"), "GPU type: h100");
    }
}
