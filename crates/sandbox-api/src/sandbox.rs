//! Sandboxes on the data plane (SPEC §4, `gateway.proto`): start, get, list, stop,
//! delete and exec, named as in the schema.
//!
//! Requests whose every field travels in the path or the query string (get, list,
//! delete) are not modelled here; bodies and answers are. The schema's file-system
//! snapshot, file transfer, pause/resume, raw and object-storage configuration calls are
//! not part of this platform's API (SPEC §4) and are left out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::json::{is_zero, proto_enum};

proto_enum! {
    /// Where a sandbox is in its lifecycle:
    /// PENDING → CREATING → RUNNING → TERMINATING → COMPLETED | FAILED | TERMINATED.
    pub enum SandboxStatus {
        Unspecified = "SANDBOX_STATUS_UNSPECIFIED",
        Pending = "SANDBOX_STATUS_PENDING",
        Creating = "SANDBOX_STATUS_CREATING",
        Running = "SANDBOX_STATUS_RUNNING",
        Paused = "SANDBOX_STATUS_PAUSED",
        /// Stopping; not yet terminal.
        Terminating = "SANDBOX_STATUS_TERMINATING",
        Completed = "SANDBOX_STATUS_COMPLETED",
        Failed = "SANDBOX_STATUS_FAILED",
        Terminated = "SANDBOX_STATUS_TERMINATED",
    }
}

impl SandboxStatus {
    /// Every status a sandbox can be in, in lifecycle order (not `Unspecified`).
    pub const LIFECYCLE: [SandboxStatus; 8] = [
        SandboxStatus::Pending,
        SandboxStatus::Creating,
        SandboxStatus::Running,
        SandboxStatus::Paused,
        SandboxStatus::Terminating,
        SandboxStatus::Completed,
        SandboxStatus::Failed,
        SandboxStatus::Terminated,
    ];

    /// The sandbox has ended and will not change again. Lists leave terminal sandboxes
    /// out unless asked to include stopped ones.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SandboxStatus::Completed | SandboxStatus::Failed | SandboxStatus::Terminated
        )
    }
}

/// Body of `POST /v1beta2/sandboxes`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StartSandboxRequest {
    /// Required: the executable the container runs.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub command: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Free-form labels to find the sandbox by later (`GET /v1beta2/sandboxes?tags=`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequest>,
    /// Required unless the chosen profile sets one (local decision: placement rejects
    /// a candidate whose layers name no image, `placement::RejectionReason::NoImage`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub container_image: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment_variables: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounted_files: Vec<MountedFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_mount: Option<S3Mount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_system: Option<SandboxFileSystemMount>,
    /// Restrict placement to bindings of these profile template UUIDs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profile_ids: Vec<String>,
    /// Restrict placement to these runners.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runner_ids: Vec<String>,
    /// Restrict placement to bindings with these profile names; with neither these nor
    /// `profile_ids`, each runner's default binding is used.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profile_names: Vec<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub max_lifetime_seconds: i32,
    /// How long the start call itself may take.
    #[serde(skip_serializing_if = "is_zero")]
    pub max_timeout_seconds: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runner_cluster_secrets: Vec<RunnerClusterSecretReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_storage_access: Option<ObjectStorageAccess>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secret_stores: Vec<SecretStoreReference>,
    /// Kubernetes limits, set apart from the requests (a Burstable pod).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_limits: Option<ResourceRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_requests: Option<ResourceRequest>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumeAttachment>,
}

/// CPU and memory as Kubernetes quantity strings (`500m`, `2Gi`), and GPUs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceRequest {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cpu: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub memory: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuRequest>,
}

/// Whole GPUs, chosen by type or by memory size: the schema makes `gpu_type` and
/// `gpu_memory_gb` a oneof, so at most one of them is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GpuRequest {
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub gpu_count: i64,
    /// As in a runner's `supportedGpuTypes` (case-sensitive, e.g. `H100`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gpu_type: String,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub gpu_memory_gb: i64,
}

/// A container port.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Port {
    /// Required.
    #[serde(skip_serializing_if = "is_zero")]
    pub container_port: i32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `TCP` when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub protocol: String,
}

/// A file placed in the container before the command starts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MountedFile {
    /// Required.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mount_path: String,
    /// Required; base64 on the wire.
    #[serde(
        with = "crate::json::base64_bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub file_content: Vec<u8>,
}

/// A directory of an S3 bucket mounted into the container; all fields required.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct S3Mount {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bucket: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub directory: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mount_path: String,
}

/// Which of the profile's network modes the sandbox asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkOptions {
    /// A level of the profile's `network.ingress` map.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ingress_mode: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<i32>,
    /// A mode of the profile's `network.egress.modes` map.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub egress_mode: String,
}

/// A writable file system for the sandbox, optionally restored from a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SandboxFileSystemMount {
    /// Required.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mount_path: String,
    /// A Kubernetes quantity string.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub size: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_system_snapshot: Option<FileSystemSnapshotSource>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FileSystemSnapshotSource {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub file_system_snapshot_id: String,
}

/// A secret that already exists in the runner's cluster, exposed as an environment
/// variable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunnerClusterSecretReference {
    /// Where the value comes from (the schema's oneof `source`, with this one member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<KubernetesSecretSource>,
    /// Required.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub env_var: String,
}

/// One key of a Kubernetes Secret; both fields required.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KubernetesSecretSource {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub secret_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub secret_key: String,
}

/// Object-storage buckets the sandbox may use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectStorageAccess {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub permission: ObjectStoragePermission,
    /// Limits access to keys under this prefix.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub object_prefix: String,
}

proto_enum! {
    pub enum ObjectStoragePermission {
        Unspecified = "OBJECT_STORAGE_PERMISSION_UNSPECIFIED",
        Read = "OBJECT_STORAGE_PERMISSION_READ",
        ReadWrite = "OBJECT_STORAGE_PERMISSION_READ_WRITE",
    }
}

/// Secrets taken from a named secret store (`secrets.proto`) into environment variables.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecretStoreReference {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub store_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretMapping>,
}

/// One secret of a store, and the environment variable it becomes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecretMapping {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub field: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub env_var: String,
}

/// A persistent volume mounted into the container.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VolumeAttachment {
    /// Required.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub volume_id: String,
    /// Required.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mount_path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sub_path: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub read_only: bool,
}

/// Answer of `POST /v1beta2/sandboxes`: where the sandbox was placed and what it got.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StartSandboxResponse {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sandbox_id: String,
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub started_at_time: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service_address: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<Port>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_resources: Option<ResourceRequest>,
    /// The profile template of the binding the sandbox was placed under.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub profile_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runner_id: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub sandbox_status: SandboxStatus,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub applied_ingress_mode: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub applied_egress_mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_resource_limits: Option<ResourceRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_resource_requests: Option<ResourceRequest>,
}

/// What a running sandbox uses now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceUsage {
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub cpu_millicores_used: i64,
    /// In MB, not bytes.
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub memory_mb_used: i64,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub gpu_count_used: i64,
}

/// A sandbox as lists show it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SandboxInfo {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sandbox_id: String,
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub started_at_time: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "is_zero")]
    pub sandbox_status: SandboxStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_resource_usage: Option<ResourceUsage>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runner_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runner_group_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub profile_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service_address: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<Port>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub applied_ingress_mode: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub applied_egress_mode: String,
    /// Local gateway extension (not in the platform schema): the egress mode could not
    /// be enforced by a local process, so the sandbox ran on the host network
    /// (`--allow-unenforced-egress`). Clients that do not know it ignore it.
    #[serde(skip_serializing_if = "is_zero")]
    pub unenforced_egress: bool,
    /// Local decision, like `unenforced_egress`: the sandbox runs as a plain process of
    /// the runner's machine, not in a container (`--isolation none`), so it can read
    /// that machine's files and reach its network. Clients that do not know it ignore it.
    #[serde(skip_serializing_if = "is_zero")]
    pub unisolated: bool,
}

/// Answer of `GET /v1beta2/sandboxes/{id}`: the list fields plus why the sandbox is in
/// its status and how it exited. The schema repeats the list fields; here they are
/// shared, flattened into the same JSON object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetSandboxResponse {
    #[serde(flatten)]
    pub info: SandboxInfo,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status_reason: String,
    /// Set once the command has exited; `Some(0)` is a clean exit, `None` not yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Local gateway extension (not in the platform schema), like `unenforced_egress`:
    /// what the sandbox was started with and what placement reserved for it, so that a
    /// sandbox's page can show them. Clients that do not know it ignore it; the gRPC
    /// transport does not carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<SandboxDetails>,
}

/// What a sandbox was started with and what it holds (`GetSandboxResponse.details`, a
/// local gateway extension). Never its environment variables or mounted files, which
/// may hold secrets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SandboxDetails {
    /// The image it runs: the request's, or else the one layering gave it (its profile's,
    /// a binding override's or the runner zone's default).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub container_image: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub command: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// As requested: the request's `resource_requests`, or its `resources` when that is
    /// what it gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_requests: Option<ResourceRequest>,
    /// As requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_limits: Option<ResourceRequest>,
    /// What placement reserved on the runner for it.
    pub reserved: ReservedResources,
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_time: Option<OffsetDateTime>,
    /// Set once the sandbox has ended.
    #[serde(
        with = "crate::json::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub ended_at_time: Option<OffsetDateTime>,
}

/// What placement reserved on a sandbox's runner, taken from its free capacity while the
/// sandbox is active.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReservedResources {
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub cpu_millicores: i64,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub memory_bytes: i64,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub gpu_count: i64,
}

/// Answer of `GET /v1beta2/sandboxes`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListSandboxesResponse {
    pub sandboxes: Vec<SandboxInfo>,
    /// Empty on the last page.
    pub next_page_token: String,
}

/// Body of `POST /v1beta2/sandboxes/{id}/stop`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StopSandboxRequest {
    /// Taken from the path; a body need not repeat it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sandbox_id: String,
    /// How long the container gets between the stop signal and being killed.
    #[serde(skip_serializing_if = "is_zero")]
    pub graceful_shutdown_seconds: i32,
    #[serde(skip_serializing_if = "is_zero")]
    pub file_system_snapshot_on_stop: bool,
    #[serde(skip_serializing_if = "is_zero")]
    pub max_timeout_seconds: i32,
    /// Repeating a stop with the same key does not stop (or snapshot) twice.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub idempotency_key: String,
    /// The schema marks it `optional`: unset (the server's choice) and `false` differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_for_ready: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StopSandboxResponse {
    #[serde(skip_serializing_if = "is_zero")]
    pub success: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error_message: String,
    /// Set when the stop took a snapshot.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub file_system_snapshot_id: String,
}

/// Answer of `DELETE /v1beta2/sandboxes/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeleteSandboxResponse {
    #[serde(skip_serializing_if = "is_zero")]
    pub success: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error_message: String,
}

/// Body of `POST /v1beta2/sandboxes/{id}/exec`: run a command in the sandbox and wait for
/// it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecSandboxRequest {
    /// Taken from the path; a body need not repeat it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sandbox_id: String,
    /// Required: the argv of the process to run (no shell).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// How long the command may run; past it the call fails with
    /// `CWSANDBOX_COMMAND_TIMEOUT`.
    #[serde(skip_serializing_if = "is_zero")]
    pub max_timeout_seconds: i32,
    #[serde(skip_serializing_if = "is_zero")]
    pub output_handling: OutputPolicy,
    /// With [`OutputPolicy::Buffered`]: how much of each stream to keep, in KiB.
    #[serde(skip_serializing_if = "is_zero")]
    pub buffered_max_kib: u32,
}

proto_enum! {
    /// What exec does with the command's output.
    pub enum OutputPolicy {
        Unspecified = "OUTPUT_POLICY_UNSPECIFIED",
        /// Kept and returned in the answer, cut at `buffered_max_kib`.
        Buffered = "OUTPUT_POLICY_BUFFERED",
        Stream = "OUTPUT_POLICY_STREAM",
        /// Dropped; only the exit code is returned.
        Discard = "OUTPUT_POLICY_DISCARD",
    }
}

/// Answer of `POST /v1beta2/sandboxes/{id}/exec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecSandboxResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<ExecResponse>,
}

/// How an exec ended and what it printed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecResponse {
    /// Raw bytes (not necessarily UTF-8); base64 on the wire.
    #[serde(
        with = "crate::json::base64_bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub stdout: Vec<u8>,
    /// Raw bytes (not necessarily UTF-8); base64 on the wire.
    #[serde(
        with = "crate::json::base64_bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub stderr: Vec<u8>,
    #[serde(skip_serializing_if = "is_zero")]
    pub exit_code: i32,
    /// `stdout` holds less than the command wrote.
    #[serde(skip_serializing_if = "is_zero")]
    pub stdout_truncated: bool,
    #[serde(skip_serializing_if = "is_zero")]
    pub stderr_truncated: bool,
    /// How much the command wrote, kept or not.
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub stdout_bytes_produced: i64,
    #[serde(with = "crate::json::int64", skip_serializing_if = "is_zero")]
    pub stderr_bytes_produced: i64,
}

/// Body of `POST /v1beta2/sandboxes/{id}/files`: write a file in the sandbox's own tree
/// (SPEC §4 "Files"). A relative path is under the sandbox's working directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AddFileSandboxRequest {
    /// Taken from the path; a body need not repeat it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sandbox_id: String,
    /// Raw bytes; base64 on the wire.
    #[serde(
        with = "crate::json::base64_bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub file_contents: Vec<u8>,
    pub filepath: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub max_timeout_seconds: i32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AddFileSandboxResponse {
    pub success: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error_message: String,
}

/// Answer of `GET /v1beta2/sandboxes/{id}/files/{filepath}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RetrieveFileSandboxResponse {
    /// Raw bytes; base64 on the wire.
    #[serde(
        with = "crate::json::base64_bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub file_contents: Vec<u8>,
    pub success: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error_message: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn only_completed_failed_and_terminated_are_terminal() {
        let terminal: Vec<_> = std::iter::once(SandboxStatus::Unspecified)
            .chain(SandboxStatus::LIFECYCLE)
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [
                SandboxStatus::Completed,
                SandboxStatus::Failed,
                SandboxStatus::Terminated
            ]
        );
    }

    #[test]
    fn a_start_request_reads_nested_resources_network_and_files() {
        let request: StartSandboxRequest = serde_json::from_str(
            r#"{
                "command": "python",
                "args": ["-m", "http.server"],
                "containerImage": "python:3.12",
                "resourceRequests": {"cpu": "500m", "memory": "1Gi",
                                     "gpu": {"gpuCount": "1", "gpuType": "H100"}},
                "resourceLimits": {"cpu": "2", "memory": "4Gi"},
                "environmentVariables": {"MODE": "dev"},
                "ports": [{"containerPort": 8000, "name": "http"}],
                "mountedFiles": [{"mountPath": "/etc/app.conf", "fileContent": "a2V5PXZhbHVl"}],
                "network": {"ingressMode": "internal", "exposedPorts": [8000], "egressMode": "allowlist"},
                "profileNames": ["agent"],
                "runnerIds": ["gpu-east"],
                "maxLifetimeSeconds": 3600,
                "runnerClusterSecrets": [{"kubernetes": {"secretName": "hf", "secretKey": "token"},
                                          "envVar": "HF_TOKEN"}],
                "podAnnotations": {"team": "research"},
                "futureOption": {"enabled": true}
            }"#,
        )
        .unwrap();
        let gpu = request.resource_requests.unwrap().gpu.unwrap();
        assert_eq!((gpu.gpu_count, gpu.gpu_type.as_str()), (1, "H100"));
        assert_eq!(request.mounted_files[0].file_content, b"key=value");
        assert_eq!(request.network.unwrap().exposed_ports, [8000]);
        assert_eq!(request.ports[0].container_port, 8000);
        assert_eq!(
            request.runner_cluster_secrets[0]
                .kubernetes
                .as_ref()
                .unwrap()
                .secret_name,
            "hf"
        );
        assert_eq!(request.max_lifetime_seconds, 3600);
    }

    #[test]
    fn a_minimal_start_request_writes_only_what_is_set() {
        let request = StartSandboxRequest {
            command: "sleep".into(),
            args: vec!["infinity".into()],
            container_image: "busybox".into(),
            resources: Some(ResourceRequest {
                gpu: Some(GpuRequest {
                    gpu_count: 2,
                    ..GpuRequest::default()
                }),
                ..ResourceRequest::default()
            }),
            ..StartSandboxRequest::default()
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"command": "sleep", "args": ["infinity"], "containerImage": "busybox",
                   "resources": {"gpu": {"gpuCount": "2"}}})
        );
    }

    #[test]
    fn a_start_response_reads_status_by_name_and_time() {
        let response: StartSandboxResponse = serde_json::from_str(
            r#"{"sandboxId": "sb-1", "startedAtTime": "2026-03-01T12:00:00Z",
                "runnerId": "gpu-east", "sandboxStatus": "SANDBOX_STATUS_PENDING",
                "appliedEgressMode": "allowlist"}"#,
        )
        .unwrap();
        assert_eq!(response.sandbox_status, SandboxStatus::Pending);
        assert_eq!(
            response.started_at_time,
            Some(datetime!(2026-03-01 12:00 UTC))
        );
        assert_eq!(response.applied_egress_mode, "allowlist");
    }

    #[test]
    fn get_response_is_one_flat_object_with_list_fields_and_exit_code() {
        let text = r#"{"sandboxId": "sb-1", "sandboxStatus": "SANDBOX_STATUS_COMPLETED",
                       "currentResourceUsage": {"cpuMillicoresUsed": "250", "memoryMbUsed": 512},
                       "statusReason": "exited", "exitCode": 0, "nodeName": "n-1"}"#;
        let response: GetSandboxResponse = serde_json::from_str(text).unwrap();
        assert_eq!(response.info.sandbox_status, SandboxStatus::Completed);
        assert_eq!(
            response
                .info
                .current_resource_usage
                .as_ref()
                .unwrap()
                .memory_mb_used,
            512
        );
        assert_eq!(response.exit_code, Some(0));
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({"sandboxId": "sb-1", "sandboxStatus": "SANDBOX_STATUS_COMPLETED",
                   "currentResourceUsage": {"cpuMillicoresUsed": "250", "memoryMbUsed": "512"},
                   "statusReason": "exited", "exitCode": 0})
        );
    }

    #[test]
    fn details_round_trip_as_a_nested_object_and_stay_out_when_absent() {
        let response = GetSandboxResponse {
            info: SandboxInfo {
                sandbox_id: "sb-1".into(),
                sandbox_status: SandboxStatus::Terminated,
                ..SandboxInfo::default()
            },
            details: Some(SandboxDetails {
                container_image: "debian:12".into(),
                command: "sh".into(),
                args: vec!["-c".into(), "sleep 60".into()],
                tags: vec!["nightly".into()],
                resource_requests: Some(ResourceRequest {
                    cpu: "500m".into(),
                    memory: "64Mi".into(),
                    gpu: None,
                }),
                resource_limits: Some(ResourceRequest {
                    cpu: "1".into(),
                    ..ResourceRequest::default()
                }),
                reserved: ReservedResources {
                    cpu_millicores: 500,
                    memory_bytes: 67_108_864,
                    gpu_count: 0,
                },
                created_at_time: Some(datetime!(2026-03-01 12:00 UTC)),
                ended_at_time: Some(datetime!(2026-03-01 12:05:30.25 UTC)),
            }),
            ..GetSandboxResponse::default()
        };
        let value = serde_json::to_value(&response).unwrap();
        assert_eq!(
            value,
            json!({"sandboxId": "sb-1", "sandboxStatus": "SANDBOX_STATUS_TERMINATED",
                   "details": {
                       "containerImage": "debian:12", "command": "sh",
                       "args": ["-c", "sleep 60"], "tags": ["nightly"],
                       "resourceRequests": {"cpu": "500m", "memory": "64Mi"},
                       "resourceLimits": {"cpu": "1"},
                       "reserved": {"cpuMillicores": "500", "memoryBytes": "67108864"},
                       "createdAtTime": "2026-03-01T12:00:00Z",
                       "endedAtTime": "2026-03-01T12:05:30.25Z"}})
        );
        let read: GetSandboxResponse = serde_json::from_value(value).unwrap();
        assert_eq!(read, response);
        // Numbers are read as well as strings, and fields it does not know are ignored.
        let loose: SandboxDetails = serde_json::from_value(
            json!({"reserved": {"cpuMillicores": 250, "gpuCount": "1"}, "futureField": 1}),
        )
        .unwrap();
        assert_eq!(
            loose.reserved,
            ReservedResources {
                cpu_millicores: 250,
                memory_bytes: 0,
                gpu_count: 1
            }
        );
        let without = GetSandboxResponse::default();
        assert_eq!(serde_json::to_value(&without).unwrap(), json!({}));
    }

    #[test]
    fn an_exit_code_not_yet_known_is_absent_not_zero() {
        let response: GetSandboxResponse =
            serde_json::from_str(r#"{"sandboxStatus": "SANDBOX_STATUS_RUNNING"}"#).unwrap();
        assert_eq!(response.exit_code, None);
    }

    #[test]
    fn unknown_sandbox_status_names_read_as_unspecified() {
        let page: ListSandboxesResponse = serde_json::from_str(
            r#"{"sandboxes": [{"sandboxId": "sb-1", "sandboxStatus": "SANDBOX_STATUS_HIBERNATED"}]}"#,
        )
        .unwrap();
        assert_eq!(page.sandboxes[0].sandbox_status, SandboxStatus::Unspecified);
        assert!(!page.sandboxes[0].sandbox_status.is_terminal());
    }

    #[test]
    fn stop_request_tells_unset_wait_from_false() {
        let unset: StopSandboxRequest = serde_json::from_str("{}").unwrap();
        let no: StopSandboxRequest = serde_json::from_str(r#"{"waitForReady": false}"#).unwrap();
        assert_eq!(
            (unset.wait_for_ready, no.wait_for_ready),
            (None, Some(false))
        );
        assert_eq!(
            serde_json::to_value(&no).unwrap(),
            json!({"waitForReady": false})
        );
    }

    #[test]
    fn exec_request_writes_the_command_as_a_list_and_the_policy_by_name() {
        let request = ExecSandboxRequest {
            command: vec!["ls".into(), "-la".into()],
            max_timeout_seconds: 30,
            output_handling: OutputPolicy::Buffered,
            ..ExecSandboxRequest::default()
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"command": ["ls", "-la"], "maxTimeoutSeconds": 30,
                   "outputHandling": "OUTPUT_POLICY_BUFFERED"})
        );
    }

    #[test]
    fn exec_output_is_raw_bytes_from_base64() {
        let response: ExecSandboxResponse = serde_json::from_str(
            r#"{"result": {"stdout": "aGVsbG8K", "stderr": "/w==", "exitCode": 2,
                           "stdoutBytesProduced": "6", "stderrTruncated": true}}"#,
        )
        .unwrap();
        let result = response.result.unwrap();
        assert_eq!(result.stdout, b"hello\n");
        assert_eq!(result.stderr, [0xff]);
        assert_eq!(result.exit_code, 2);
        assert_eq!(result.stdout_bytes_produced, 6);
        assert!(result.stderr_truncated && !result.stdout_truncated);
    }
}
