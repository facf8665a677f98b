//! Managed runners as the control plane stores and returns them (SPEC §3.2): the
//! deployment inside one Kubernetes cluster that runs sandboxes, the profiles it exposes,
//! and its install, connection and rollout state.
//!
//! Plain wire types; the rules a create or update must follow live elsewhere.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::json::{is_zero, proto_enum};

/// A managed runner. Fields marked output only are set by the platform and ignored (or
/// rejected) when a client sends them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Runner {
    /// Output only: the UUID. The client-chosen name is `identity.runnerId`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<RunnerIdentity>,
    #[serde(skip_serializing_if = "is_zero")]
    pub management_mode: ManagementMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_spec: Option<ManagedSpec>,
    /// The profiles this runner exposes; exactly one is the default.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profile_bindings: Vec<ProfileBinding>,
    /// Output only.
    #[serde(skip_serializing_if = "is_zero")]
    pub install_status: RunnerInstallStatus,
    /// Output only: set only while `install_status` is FAILED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_error: Option<InstallError>,
    /// Output only.
    #[serde(skip_serializing_if = "is_zero")]
    pub connection_status: RunnerConnectionStatus,
    /// Output only: the configuration revision the runner runs.
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub active_revision: i64,
    /// Output only: the revision it should run; a binding change bumps it.
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub target_revision: i64,
    /// Output only: a newer runner release is available on the release channel.
    #[serde(skip_serializing_if = "is_zero")]
    pub update_available: bool,
    /// Output only: `target_revision` is ahead of `active_revision`.
    #[serde(skip_serializing_if = "is_zero")]
    pub rollout_in_progress: bool,
    /// Output only.
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    /// Output only.
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<OffsetDateTime>,
    /// Output only: the runner counts as DISCONNECTED 30 s after this.
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_heartbeat_at: Option<OffsetDateTime>,
    /// Output only: changes on every write; an update may send it back (SPEC §6).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub etag: String,
}

/// Where the runner lives and how it is addressed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunnerIdentity {
    /// Client-chosen, unique in the organization (a DNS-1123 label).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runner_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub zone: String,
    /// The cluster is named by exactly one of `cluster_id` and `cluster_name`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runner_group_id: String,
}

/// How a runner's identity names its cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterRef<'a> {
    Id(&'a str),
    Name(&'a str),
}

impl ClusterRef<'_> {
    /// The ID or the name, as the user typed it.
    pub fn as_str(&self) -> &str {
        match self {
            ClusterRef::Id(text) | ClusterRef::Name(text) => text,
        }
    }
}

impl RunnerIdentity {
    /// The cluster this runner is in: by its ID, else by its name. (A valid identity sets
    /// exactly one; one that sets both is named by its ID.)
    pub fn cluster(&self) -> ClusterRef<'_> {
        if self.cluster_id.is_empty() {
            ClusterRef::Name(&self.cluster_name)
        } else {
            ClusterRef::Id(&self.cluster_id)
        }
    }
}

proto_enum! {
    /// Who operates the runner's deployment.
    pub enum ManagementMode {
        Unspecified = "MANAGEMENT_MODE_UNSPECIFIED",
        /// The platform installs, upgrades and removes the runner.
        Managed = "MANAGEMENT_MODE_MANAGED",
    }
}

/// How the platform operates a managed runner.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ManagedSpec {
    #[serde(skip_serializing_if = "is_zero")]
    pub release_channel: ReleaseChannel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance_policy: Option<MaintenancePolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrides: Option<RunnerOverrides>,
}

proto_enum! {
    /// Which runner releases the platform rolls out to this runner.
    pub enum ReleaseChannel {
        Unspecified = "RELEASE_CHANNEL_UNSPECIFIED",
        Stable = "RELEASE_CHANNEL_STABLE",
        Rapid = "RELEASE_CHANNEL_RAPID",
    }
}

/// When the platform may upgrade the runner.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MaintenancePolicy {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<MaintenanceWindow>,
    /// Periods in which no upgrade starts, even inside a window.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<MaintenanceExclusion>,
}

/// A recurring period in which upgrades may start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MaintenanceWindow {
    /// A cron expression for the start of each window, e.g. `0 2 * * 6`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cron: String,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub duration_seconds: i64,
}

/// A one-off period in which no upgrade starts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MaintenanceExclusion {
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<OffsetDateTime>,
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Changes to the runner's own pods (not to the sandboxes it runs; those follow the
/// bound profiles).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunnerOverrides {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Environment variables of the runner's container.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Extra command-line arguments of the runner's container.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

/// A Kubernetes toleration, with its usual string values (`operator`: `Exists` or
/// `Equal`; `effect`: `NoSchedule`, `PreferNoSchedule`, `NoExecute` or empty for all).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Toleration {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub operator: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub effect: String,
}

/// One profile a runner exposes, and how.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProfileBinding {
    /// The bound template's UUID; at most once per runner.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub profile_template_id: String,
    /// The name sandboxes ask for on this runner; defaults to the template's display name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub profile_name: String,
    /// The binding used when a sandbox names no profile.
    #[serde(skip_serializing_if = "is_zero")]
    pub is_default: bool,
    /// A string holding JSON: a partial `ProfileSpec` in API form that overrides the
    /// template on this runner only.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub overrides_json: String,
}

proto_enum! {
    /// Where the platform is in installing (or removing) the runner.
    pub enum RunnerInstallStatus {
        Unspecified = "RUNNER_INSTALL_STATUS_UNSPECIFIED",
        Pending = "RUNNER_INSTALL_STATUS_PENDING",
        Provisioning = "RUNNER_INSTALL_STATUS_PROVISIONING",
        Ready = "RUNNER_INSTALL_STATUS_READY",
        /// See `Runner::install_error`.
        Failed = "RUNNER_INSTALL_STATUS_FAILED",
        /// Its sandboxes are being stopped; then the runner is gone.
        Deleting = "RUNNER_INSTALL_STATUS_DELETING",
    }
}

/// Why an install failed, and what the administrator can do about it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InstallError {
    /// A machine-readable cause.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diagnostic_detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remediation_hints: Vec<String>,
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub occurred_at: Option<OffsetDateTime>,
}

proto_enum! {
    /// Whether the runner is heard from.
    pub enum RunnerConnectionStatus {
        Unspecified = "RUNNER_CONNECTION_STATUS_UNSPECIFIED",
        Connected = "RUNNER_CONNECTION_STATUS_CONNECTED",
        /// No heartbeat for 30 s.
        Disconnected = "RUNNER_CONNECTION_STATUS_DISCONNECTED",
    }
}

/// Body of `POST /v1beta2/sandbox/managed-runners`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CreateRunnerRequest {
    /// The client-chosen runner ID.
    pub runner_id: String,
    pub runner: Runner,
}

/// Answer of `GET /v1beta2/sandbox/managed-runners`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListRunnersResponse {
    pub runners: Vec<Runner>,
    /// Empty on the last page.
    pub next_page_token: String,
}

/// Body of `PATCH /v1beta2/sandbox/managed-runners/{runnerId}`; the fields to change are
/// named by the `updateMask` query parameter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UpdateRunnerRequest {
    pub runner: Runner,
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    /// A runner as the control plane answers it, with every field set.
    const FAILED_RUNNER: &str = r#"{
        "id": "7b0c6f1e-3f5e-4c55-9a55-0a3f4e0c1d2e",
        "displayName": "Engineering development",
        "identity": {
            "runnerId": "development",
            "zone": "us-east-04a",
            "clusterId": "c0ffee00-0000-4000-8000-000000000001",
            "runnerGroupId": "engineering"
        },
        "managementMode": "MANAGEMENT_MODE_MANAGED",
        "managedSpec": {
            "releaseChannel": "RELEASE_CHANNEL_STABLE",
            "maintenancePolicy": {
                "windows": [{"cron": "0 2 * * 6", "durationSeconds": "14400"}],
                "exclusions": [{
                    "startTime": "2026-12-20T00:00:00Z",
                    "endTime": "2027-01-04T00:00:00Z",
                    "reason": "holiday freeze"
                }]
            },
            "overrides": {
                "nodeSelector": {"pool": "system"},
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "sandbox", "effect": "NoSchedule"}],
                "annotations": {"team": "platform"},
                "labels": {"tier": "runner"},
                "env": {"LOG_LEVEL": "debug"},
                "args": ["--verbose"]
            }
        },
        "profileBindings": [
            {"profileTemplateId": "a1", "profileName": "agent", "isDefault": true},
            {"profileTemplateId": "b2", "profileName": "gpu", "overridesJson": "{\"instanceTypes\":[\"h100\"]}"}
        ],
        "installStatus": "RUNNER_INSTALL_STATUS_FAILED",
        "installError": {
            "reason": "CLUSTER_UNREACHABLE",
            "message": "the cluster did not answer",
            "diagnosticDetail": "dial tcp 10.0.0.1:443: i/o timeout",
            "remediationHints": ["check the cluster's API server"],
            "occurredAt": "2026-03-01T10:00:05Z"
        },
        "connectionStatus": "RUNNER_CONNECTION_STATUS_DISCONNECTED",
        "activeRevision": "3",
        "targetRevision": "4",
        "updateAvailable": true,
        "rolloutInProgress": true,
        "createdAt": "2026-03-01T10:00:00Z",
        "updatedAt": "2026-03-01T10:00:05Z",
        "lastHeartbeatAt": "2026-03-01T09:59:30Z",
        "etag": "\"r4\""
    }"#;

    fn parse(json: &str) -> Runner {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_full_runner_reads_with_typed_enums_integers_and_times() {
        let runner = parse(FAILED_RUNNER);
        assert_eq!(runner.management_mode, ManagementMode::Managed);
        assert_eq!(runner.install_status, RunnerInstallStatus::Failed);
        assert_eq!(
            runner.connection_status,
            RunnerConnectionStatus::Disconnected
        );
        assert_eq!((runner.active_revision, runner.target_revision), (3, 4));
        assert_eq!(
            runner.last_heartbeat_at,
            Some(datetime!(2026-03-01 09:59:30 UTC))
        );
        let spec = runner.managed_spec.unwrap();
        assert_eq!(spec.release_channel, ReleaseChannel::Stable);
        let policy = spec.maintenance_policy.unwrap();
        assert_eq!(policy.windows[0].duration_seconds, 14_400);
        assert_eq!(policy.exclusions[0].reason, "holiday freeze");
        assert_eq!(spec.overrides.unwrap().tolerations[0].effect, "NoSchedule");
        assert_eq!(runner.profile_bindings[1].profile_name, "gpu");
        assert!(!runner.profile_bindings[1].is_default);
        assert_eq!(runner.install_error.unwrap().remediation_hints.len(), 1);
    }

    #[test]
    fn a_full_runner_writes_back_the_same_json() {
        let written = serde_json::to_value(parse(FAILED_RUNNER)).unwrap();
        let original: serde_json::Value = serde_json::from_str(FAILED_RUNNER).unwrap();
        assert_eq!(written, original);
    }

    #[test]
    fn revisions_are_written_as_strings_and_read_from_numbers() {
        let runner = parse(r#"{"activeRevision": 12, "targetRevision": "13"}"#);
        let written = serde_json::to_value(&runner).unwrap();
        assert_eq!(
            written,
            json!({"activeRevision": "12", "targetRevision": "13"})
        );
    }

    #[test]
    fn unknown_enum_names_read_as_unspecified() {
        let runner = parse(
            r#"{"installStatus": "RUNNER_INSTALL_STATUS_HIBERNATING",
                "connectionStatus": "RUNNER_CONNECTION_STATUS_FLAKY",
                "managedSpec": {"releaseChannel": "RELEASE_CHANNEL_NIGHTLY"}}"#,
        );
        assert_eq!(runner.install_status, RunnerInstallStatus::Unspecified);
        assert_eq!(
            runner.connection_status,
            RunnerConnectionStatus::Unspecified
        );
        assert_eq!(
            runner.managed_spec.unwrap().release_channel,
            ReleaseChannel::Unspecified
        );
    }

    #[test]
    fn unknown_fields_are_ignored_at_every_level() {
        let runner = parse(
            r#"{"displayName": "dev", "futureTopLevel": {"a": 1},
                "identity": {"zone": "us-east-04a", "futureIdentity": true},
                "profileBindings": [{"profileTemplateId": "a1", "priority": 5}]}"#,
        );
        assert_eq!(
            serde_json::to_value(&runner).unwrap(),
            json!({"displayName": "dev", "identity": {"zone": "us-east-04a"},
                   "profileBindings": [{"profileTemplateId": "a1"}]})
        );
    }

    #[test]
    fn an_empty_runner_is_written_as_an_empty_object() {
        assert_eq!(serde_json::to_string(&Runner::default()).unwrap(), "{}");
        assert_eq!(parse("{}"), Runner::default());
    }

    #[test]
    fn create_request_carries_the_runner_id_beside_the_runner() {
        let request: CreateRunnerRequest = serde_json::from_str(
            r#"{"runnerId": "development", "runner": {"identity": {"zone": "us-east-04a"}}}"#,
        )
        .unwrap();
        assert_eq!(request.runner_id, "development");
        assert_eq!(request.runner.identity.unwrap().zone, "us-east-04a");
    }

    #[test]
    fn a_cluster_is_named_by_its_id_else_by_its_name() {
        let by_id = RunnerIdentity {
            cluster_id: "c-1".into(),
            cluster_name: "ignored".into(),
            ..RunnerIdentity::default()
        };
        assert_eq!(by_id.cluster(), ClusterRef::Id("c-1"));
        let by_name = RunnerIdentity {
            cluster_name: "east".into(),
            ..RunnerIdentity::default()
        };
        assert_eq!(by_name.cluster(), ClusterRef::Name("east"));
        assert_eq!(by_name.cluster().as_str(), "east");
        assert_eq!(RunnerIdentity::default().cluster(), ClusterRef::Name(""));
    }

    #[test]
    fn list_response_always_writes_the_page_token() {
        let written = serde_json::to_value(ListRunnersResponse::default()).unwrap();
        assert_eq!(written, json!({"runners": [], "nextPageToken": ""}));
    }
}
