//! Discovery on the data plane (SPEC §4, `discovery.proto`): which runners a caller can
//! place sandboxes on, what they can do, and which profiles they expose.
//!
//! Requests travel as query parameters and are not modelled here; these are the answers.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::json::{is_zero, proto_enum};

proto_enum! {
    /// How much of a runner a discovery answer includes (the `view` query parameter).
    pub enum RunnerView {
        Unspecified = "RUNNER_VIEW_UNSPECIFIED",
        /// Everything but `resources`.
        Basic = "RUNNER_VIEW_BASIC",
        /// With `resources`, the live free capacity. Getting one runner always answers
        /// in this view.
        Full = "RUNNER_VIEW_FULL",
    }
}

/// A runner the caller may place sandboxes on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AvailableRunner {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runner_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runner_group_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub healthy: bool,
    /// What the runner could offer at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<RunnerCapabilitySummary>,
    /// What it has free now; only with [`RunnerView::Full`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<RunnerResourceSummary>,
    /// The names of the profiles bound to it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profile_names: Vec<String>,
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub connected_at: Option<OffsetDateTime>,
    /// Not owned by the caller's organization; shared runners do not disclose capacity.
    #[serde(skip_serializing_if = "is_zero")]
    pub is_shared: bool,
}

/// A runner's total capacity and features. A `max_*` of 0 means "not reported" (shared
/// runners report none), not "none available".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunnerCapabilitySummary {
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub max_cpu_millicores: i64,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub max_memory_bytes: i64,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub max_gpu_count: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supported_gpu_types: Vec<String>,
    /// CPU architectures, e.g. `amd64`, `arm64`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supported_architectures: Vec<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub supports_privileged: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub available_storage_classes: Vec<String>,
}

/// A runner's free capacity at the time of the answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunnerResourceSummary {
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub available_cpu_millicores: i64,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub available_memory_bytes: i64,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub available_gpu_count: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub running_sandboxes: i32,
}

/// An ingress level a profile offers (a key of its network object's `ingress` map).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceExposureMode {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// An egress mode a profile offers (a key of its network object's `egress.modes` map).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EgressMode {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// One binding of a profile to a runner: a profile bound to three runners is three
/// summaries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProfileSummary {
    /// The binding's name for the profile on this runner.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub profile_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runner_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supported_gpu_types: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supported_architectures: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_exposure_modes: Vec<ServiceExposureMode>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub egress_modes: Vec<EgressMode>,
}

/// Answer of `GET /v1beta2/runners`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListAvailableRunnersResponse {
    pub runners: Vec<AvailableRunner>,
    /// Empty on the last page.
    pub next_page_token: String,
}

/// Answer of `GET /v1beta2/profiles`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListProfilesResponse {
    pub profiles: Vec<ProfileSummary>,
    /// Empty on the last page.
    pub next_page_token: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    /// An answer in the form a grpc-gateway server writes it: int64 as strings, unset
    /// messages as `null`, plus a field this client does not know.
    const RUNNERS_PAGE: &str = r#"{
        "runners": [{
            "runnerId": "gpu-east",
            "runnerGroupId": "research",
            "tags": ["gpu"],
            "healthy": true,
            "capabilities": {
                "maxCpuMillicores": "64000",
                "maxMemoryBytes": "549755813888",
                "maxGpuCount": "8",
                "supportedGpuTypes": ["H100"],
                "supportedArchitectures": ["amd64"],
                "supportsPrivileged": false,
                "availableStorageClasses": ["shared-vast"]
            },
            "resources": {
                "availableCpuMillicores": "32000",
                "availableMemoryBytes": "17179869184",
                "availableGpuCount": "2",
                "runningSandboxes": 5
            },
            "profileNames": ["agent", "gpu"],
            "connectedAt": "2026-03-01T08:00:00.250Z",
            "isShared": false,
            "region": "us-east"
        }, {
            "runnerId": "cpu-west",
            "capabilities": null,
            "resources": null,
            "connectedAt": null
        }],
        "nextPageToken": "page-2"
    }"#;

    #[test]
    fn a_full_view_page_reads_with_capacities_as_integers() {
        let page: ListAvailableRunnersResponse = serde_json::from_str(RUNNERS_PAGE).unwrap();
        let gpu = &page.runners[0];
        assert_eq!(
            gpu.capabilities.as_ref().unwrap().max_memory_bytes,
            549_755_813_888
        );
        let resources = gpu.resources.as_ref().unwrap();
        assert_eq!(resources.available_memory_bytes, 17_179_869_184);
        assert_eq!(resources.running_sandboxes, 5);
        assert_eq!(
            gpu.connected_at,
            Some(datetime!(2026-03-01 08:00:00.25 UTC))
        );
        assert_eq!(page.next_page_token, "page-2");
    }

    #[test]
    fn null_messages_read_as_absent() {
        let page: ListAvailableRunnersResponse = serde_json::from_str(RUNNERS_PAGE).unwrap();
        let cpu = &page.runners[1];
        assert_eq!(cpu.capabilities, None);
        assert_eq!(cpu.resources, None);
        assert_eq!(cpu.connected_at, None);
    }

    #[test]
    fn capacities_are_written_as_strings() {
        let capabilities = RunnerCapabilitySummary {
            max_cpu_millicores: 4000,
            max_gpu_count: 1,
            ..RunnerCapabilitySummary::default()
        };
        assert_eq!(
            serde_json::to_value(capabilities).unwrap(),
            json!({"maxCpuMillicores": "4000", "maxGpuCount": "1"})
        );
    }

    #[test]
    fn profile_summaries_carry_mode_names_as_objects() {
        let page: ListProfilesResponse = serde_json::from_str(
            r#"{"profiles": [{"profileName": "agent", "runnerId": "gpu-east",
                "serviceExposureModes": [{"name": "internal"}],
                "egressModes": [{"name": "allowlist"}, {"name": "deny-all"}]}]}"#,
        )
        .unwrap();
        let summary = &page.profiles[0];
        assert_eq!(summary.service_exposure_modes[0].name, "internal");
        let egress: Vec<_> = summary.egress_modes.iter().map(|m| &m.name).collect();
        assert_eq!(egress, ["allowlist", "deny-all"]);
        assert_eq!(page.next_page_token, "");
    }

    #[test]
    fn runner_view_travels_by_name() {
        assert_eq!(RunnerView::from_name("RUNNER_VIEW_FULL"), RunnerView::Full);
        assert_eq!(RunnerView::from_name("FULL"), RunnerView::Unspecified);
        assert_eq!(
            serde_json::to_value(RunnerView::Basic).unwrap(),
            json!("RUNNER_VIEW_BASIC")
        );
    }
}
