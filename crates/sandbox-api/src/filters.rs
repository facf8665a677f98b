//! Discovery filters (SPEC §4): every filter the platform and the Python client apply,
//! combined with AND. The gateway answers with them and the console's views filter
//! with them, from the same query parameters.

use crate::discovery::{
    AvailableRunner, ProfileSummary, RunnerCapabilitySummary, RunnerResourceSummary,
};
use crate::violation::Violation;

/// Every discovery filter; an empty field filters nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiscoveryFilter {
    pub runner_group_id: String,
    pub runner_id: String,
    pub profile_name: String,
    pub gpu_type: String,
    pub architecture: String,
    pub exclude_shared: bool,
    pub healthy_only: bool,
    pub min_available_cpu_millicores: i64,
    pub min_available_memory_bytes: i64,
    pub min_available_gpu_count: i64,
    pub ingress_mode: String,
    pub egress_mode: String,
}

/// Query parameter names, in the order they are written.
const PARAMETERS: [&str; 12] = [
    "runnerGroupId",
    "runnerId",
    "profileName",
    "gpuType",
    "architecture",
    "excludeShared",
    "healthyOnly",
    "minAvailableCpuMillicores",
    "minAvailableMemoryBytes",
    "minAvailableGpuCount",
    "ingressMode",
    "egressMode",
];

impl DiscoveryFilter {
    /// Reads the filter from query parameters, ignoring parameters it does not know
    /// (paging, `view`); a malformed value is a violation naming the parameter.
    pub fn from_query<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<DiscoveryFilter, Vec<Violation>> {
        let mut filter = DiscoveryFilter::default();
        let mut violations = Vec::new();
        for (key, value) in pairs {
            let mut number = |target: &mut i64| match value.parse::<i64>() {
                Ok(n) if n >= 0 => *target = n,
                _ => violations.push(Violation::error(
                    key,
                    format!("must be a whole number of at least 0, not {value:?}"),
                )),
            };
            match key {
                "runnerGroupId" => filter.runner_group_id = value.to_owned(),
                "runnerId" => filter.runner_id = value.to_owned(),
                "profileName" => filter.profile_name = value.to_owned(),
                "gpuType" => filter.gpu_type = value.to_owned(),
                "architecture" => filter.architecture = value.to_owned(),
                "ingressMode" => filter.ingress_mode = value.to_owned(),
                "egressMode" => filter.egress_mode = value.to_owned(),
                "minAvailableCpuMillicores" => number(&mut filter.min_available_cpu_millicores),
                "minAvailableMemoryBytes" => number(&mut filter.min_available_memory_bytes),
                "minAvailableGpuCount" => number(&mut filter.min_available_gpu_count),
                "excludeShared" | "healthyOnly" => {
                    let flag = match value {
                        "true" | "1" => true,
                        "false" | "0" | "" => false,
                        _ => {
                            violations.push(Violation::error(
                                key,
                                format!("must be true or false, not {value:?}"),
                            ));
                            continue;
                        }
                    };
                    if key == "excludeShared" {
                        filter.exclude_shared = flag;
                    } else {
                        filter.healthy_only = flag;
                    }
                }
                _ => {}
            }
        }
        if violations.is_empty() {
            Ok(filter)
        } else {
            Err(violations)
        }
    }

    /// The filter as query parameters (only those that filter something), the inverse
    /// of `from_query`.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let values = [
            self.runner_group_id.clone(),
            self.runner_id.clone(),
            self.profile_name.clone(),
            self.gpu_type.clone(),
            self.architecture.clone(),
            flag(self.exclude_shared),
            flag(self.healthy_only),
            number(self.min_available_cpu_millicores),
            number(self.min_available_memory_bytes),
            number(self.min_available_gpu_count),
            self.ingress_mode.clone(),
            self.egress_mode.clone(),
        ];
        PARAMETERS
            .into_iter()
            .zip(values)
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// Whether `runner` passes. `profiles` are the runner's profile summaries, needed
    /// for the ingress and egress mode filters (a runner passes when one of its
    /// profiles offers the mode).
    pub fn matches_runner(&self, runner: &AvailableRunner, profiles: &[ProfileSummary]) -> bool {
        // Borrowed, not cloned: the console runs this for every runner on each keystroke.
        let no_capabilities = RunnerCapabilitySummary::default();
        let capabilities = runner.capabilities.as_ref().unwrap_or(&no_capabilities);
        let no_resources = RunnerResourceSummary::default();
        let resources = runner.resources.as_ref().unwrap_or(&no_resources);
        names_match(&self.runner_group_id, &runner.runner_group_id)
            && names_match(&self.runner_id, &runner.runner_id)
            && matches_any(&self.profile_name, &runner.profile_names)
            && matches_any(&self.gpu_type, &capabilities.supported_gpu_types)
            && matches_any(&self.architecture, &capabilities.supported_architectures)
            && !(self.exclude_shared && runner.is_shared)
            && (!self.healthy_only || runner.healthy)
            && resources.available_cpu_millicores >= self.min_available_cpu_millicores
            && resources.available_memory_bytes >= self.min_available_memory_bytes
            && resources.available_gpu_count >= self.min_available_gpu_count
            && (self.ingress_mode.is_empty() && self.egress_mode.is_empty()
                || profiles
                    .iter()
                    .filter(|p| p.runner_id == runner.runner_id)
                    .any(|p| self.modes_match(p)))
    }

    /// Whether `profile` (one binding) passes the filters that apply to profiles.
    pub fn matches_profile(&self, profile: &ProfileSummary) -> bool {
        names_match(&self.runner_id, &profile.runner_id)
            && names_match(&self.profile_name, &profile.profile_name)
            && matches_any(&self.gpu_type, &profile.supported_gpu_types)
            && matches_any(&self.architecture, &profile.supported_architectures)
            && self.modes_match(profile)
    }

    fn modes_match(&self, profile: &ProfileSummary) -> bool {
        (self.ingress_mode.is_empty()
            || profile
                .service_exposure_modes
                .iter()
                .any(|m| m.name.eq_ignore_ascii_case(&self.ingress_mode)))
            && (self.egress_mode.is_empty()
                || profile
                    .egress_modes
                    .iter()
                    .any(|m| m.name.eq_ignore_ascii_case(&self.egress_mode)))
    }
}

/// Every name filter compares without regard to case (`H100` = `h100`, `GPU` = `gpu`):
/// people type names as they remember them, and no two runners, groups, profiles or
/// modes differ only by case in practice (local decision).
pub fn names_match(wanted: &str, value: &str) -> bool {
    wanted.is_empty() || value.eq_ignore_ascii_case(wanted)
}

fn matches_any(wanted: &str, offered: &[String]) -> bool {
    wanted.is_empty() || offered.iter().any(|o| o.eq_ignore_ascii_case(wanted))
}

fn flag(value: bool) -> String {
    if value { "true".into() } else { String::new() }
}

fn number(value: i64) -> String {
    if value == 0 {
        String::new()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn runner() -> AvailableRunner {
        serde_json::from_value(json!({
            "runnerId": "gpu-east", "runnerGroupId": "east", "healthy": true, "profileNames": ["workbench"],
            "capabilities": {"maxCpuMillicores": "64000", "supportedGpuTypes": ["H100"], "supportedArchitectures": ["amd64"]},
            "resources": {"availableCpuMillicores": "8000", "availableMemoryBytes": "17179869184", "availableGpuCount": "2"}
        }))
        .unwrap()
    }

    fn profile() -> ProfileSummary {
        serde_json::from_value(json!({
            "profileName": "workbench", "runnerId": "gpu-east", "supportedGpuTypes": ["H100"],
            "supportedArchitectures": ["amd64"], "serviceExposureModes": [{"name": "internal"}],
            "egressModes": [{"name": "internet"}]
        }))
        .unwrap()
    }

    fn filter(query: &[(&str, &str)]) -> DiscoveryFilter {
        DiscoveryFilter::from_query(query.iter().copied()).unwrap()
    }

    #[test]
    fn each_filter_narrows_and_they_combine_with_and() {
        let (r, p) = (runner(), [profile()]);
        assert!(filter(&[]).matches_runner(&r, &p));
        for (key, passing, failing) in [
            ("runnerGroupId", "east", "west"),
            ("runnerGroupId", "EAST", "wes"),
            ("runnerId", "GPU-east", "gpu"),
            ("profileName", "workbench", "ci"),
            ("profileName", "Workbench", "work"),
            ("gpuType", "h100", "A100"),
            ("architecture", "amd64", "arm64"),
            ("minAvailableCpuMillicores", "8000", "8001"),
            ("minAvailableMemoryBytes", "17179869184", "17179869185"),
            ("minAvailableGpuCount", "2", "3"),
            ("ingressMode", "internal", "public"),
            ("ingressMode", "Internal", "intern"),
            ("egressMode", "internet", "none"),
            ("egressMode", "INTERNET", "inter"),
        ] {
            assert!(
                filter(&[(key, passing)]).matches_runner(&r, &p),
                "{key}={passing}"
            );
            assert!(
                !filter(&[(key, failing)]).matches_runner(&r, &p),
                "{key}={failing}"
            );
            assert!(
                !filter(&[(key, passing), ("runnerGroupId", "west")]).matches_runner(&r, &p),
                "AND"
            );
        }
        let mut unhealthy = r.clone();
        unhealthy.healthy = false;
        assert!(!filter(&[("healthyOnly", "true")]).matches_runner(&unhealthy, &p));
        let mut shared = r;
        shared.is_shared = true;
        assert!(!filter(&[("excludeShared", "true")]).matches_runner(&shared, &p));
    }

    #[test]
    fn profile_filters_apply_to_each_binding() {
        let p = profile();
        assert!(
            filter(&[("egressMode", "internet"), ("runnerId", "gpu-east")]).matches_profile(&p)
        );
        assert!(
            !filter(&[("egressMode", "internet"), ("runnerId", "cpu-west")]).matches_profile(&p)
        );
        assert!(!filter(&[("ingressMode", "public")]).matches_profile(&p));
    }

    #[test]
    fn malformed_values_name_their_parameter() {
        let violations = DiscoveryFilter::from_query([
            ("minAvailableGpuCount", "two"),
            ("healthyOnly", "yes"),
            ("minAvailableCpuMillicores", "-1"),
        ])
        .unwrap_err();
        let fields: Vec<_> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "minAvailableGpuCount",
                "healthyOnly",
                "minAvailableCpuMillicores"
            ]
        );
    }

    proptest! {
        #[test]
        fn query_round_trips(group in "[a-z]{0,5}", gpu in "[A-Z0-9]{0,4}", cpu in 0i64..100_000, healthy in any::<bool>(), egress in "[a-z-]{0,6}") {
            let original = DiscoveryFilter { runner_group_id: group, gpu_type: gpu, min_available_cpu_millicores: cpu, healthy_only: healthy, egress_mode: egress, ..DiscoveryFilter::default() };
            let query = original.to_query();
            let back = DiscoveryFilter::from_query(query.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
            prop_assert_eq!(back, original);
        }
    }
}
