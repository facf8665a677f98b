//! The rules a managed runner obeys on create and on each update (SPEC §3.2), with the
//! platform's exact messages where SPEC gives them.

use crate::binding::validate_bindings;
use crate::field_path::FieldPath;
use crate::maintenance::cron_problem;
use crate::names::{dns1123_label_problem, label_key_problem, label_value_problem};
use crate::runner::{CreateRunnerRequest, ManagementMode, Runner, RunnerIdentity};
use crate::violation::Violation;

pub const ZONE_REQUIRED: &str = "runner.identity.zone is required";
pub const CLUSTER_REQUIRED: &str = "runner.identity.cluster_id or cluster_name is required";
pub const CLUSTER_BOTH: &str =
    "runner.identity.cluster_id and cluster_name are mutually exclusive; set exactly one";

/// Every rule a create request breaks.
pub fn validate_new_runner(
    request: &CreateRunnerRequest,
    template_name: impl Fn(&str) -> Option<String>,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    if request.runner_id.is_empty() {
        violations.push(Violation::error("runner_id", "is required"));
    } else if let Some(problem) = dns1123_label_problem(&request.runner_id) {
        violations.push(Violation::error(
            "runner_id",
            format!("must be a DNS-1123 label: it {problem}"),
        ));
    }
    let runner = &request.runner;
    if let Some(identity_id) = runner
        .identity
        .as_ref()
        .map(|i| &i.runner_id)
        .filter(|id| !id.is_empty())
        && *identity_id != request.runner_id
    {
        violations.push(Violation::error(
            "runner.identity.runner_id",
            "must be empty or equal runner_id",
        ));
    }
    for (field, set) in output_only(runner) {
        if set {
            violations.push(Violation::error(
                format!("runner.{field}"),
                "is output only and must not be set",
            ));
        }
    }
    violations.extend(validate_runner_state(runner, template_name));
    violations
}

/// The rules every runner obeys, whether new or updated.
pub fn validate_runner_state(
    runner: &Runner,
    template_name: impl Fn(&str) -> Option<String>,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    let identity = runner.identity.clone().unwrap_or_default();
    if identity.zone.is_empty() {
        violations.push(Violation::error("runner.identity.zone", ZONE_REQUIRED));
    }
    match (
        identity.cluster_id.is_empty(),
        identity.cluster_name.is_empty(),
    ) {
        (true, true) => violations.push(Violation::error("runner.identity", CLUSTER_REQUIRED)),
        (false, false) => violations.push(Violation::error("runner.identity", CLUSTER_BOTH)),
        _ => {}
    }
    if !matches!(
        runner.management_mode,
        ManagementMode::Unspecified | ManagementMode::Managed
    ) {
        violations.push(Violation::error(
            "runner.management_mode",
            "only MANAGEMENT_MODE_MANAGED is supported",
        ));
    }
    let spec = runner.managed_spec.clone().unwrap_or_default();
    let policy = spec.maintenance_policy.unwrap_or_default();
    for (i, window) in policy.windows.iter().enumerate() {
        let path = format!("runner.managed_spec.maintenance_policy.windows[{i}]");
        if let Some(problem) = cron_problem(&window.cron) {
            violations.push(Violation::error(format!("{path}.cron"), problem));
        }
        if window.duration_seconds <= 0 {
            violations.push(Violation::error(
                format!("{path}.duration_seconds"),
                "must be more than 0",
            ));
        }
    }
    for (i, exclusion) in policy.exclusions.iter().enumerate() {
        let path = format!("runner.managed_spec.maintenance_policy.exclusions[{i}]");
        match (exclusion.start_time, exclusion.end_time) {
            (Some(start), Some(end)) if start >= end => {
                violations.push(Violation::error(
                    format!("{path}.end_time"),
                    "must be after start_time",
                ));
            }
            (Some(_), Some(_)) => {}
            (None, _) => violations.push(Violation::error(
                format!("{path}.start_time"),
                "is required",
            )),
            (_, None) => {
                violations.push(Violation::error(format!("{path}.end_time"), "is required"))
            }
        }
    }
    let overrides = spec.overrides.unwrap_or_default();
    let overrides_path = FieldPath::root()
        .key("runner")
        .key("managed_spec")
        .key("overrides");
    for (map, values_are_labels, name) in [
        (&overrides.node_selector, true, "node_selector"),
        (&overrides.labels, true, "labels"),
        (&overrides.annotations, false, "annotations"),
    ] {
        for (key, value) in map {
            let field = overrides_path.key(name).key(key).to_string();
            if let Some(problem) = label_key_problem(key) {
                violations.push(Violation::error(
                    &field,
                    format!("is not a valid key: {problem}"),
                ));
            }
            if values_are_labels && let Some(problem) = label_value_problem(value) {
                violations.push(Violation::error(
                    &field,
                    format!("has an invalid value: it {problem}"),
                ));
            }
        }
    }
    for key in overrides.env.keys() {
        let valid = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            violations.push(Violation::error(
                overrides_path.key("env").key(key).to_string(),
                "is not an environment variable name (letters, digits and '_', not starting with a digit)",
            ));
        }
    }
    for (i, toleration) in overrides.tolerations.iter().enumerate() {
        let path = overrides_path.key("tolerations").index(i);
        let field = |name: &str| path.key(name).to_string();
        if !matches!(toleration.operator.as_str(), "" | "Equal" | "Exists") {
            violations.push(Violation::error(
                field("operator"),
                "must be Equal or Exists",
            ));
        }
        if !matches!(
            toleration.effect.as_str(),
            "" | "NoSchedule" | "PreferNoSchedule" | "NoExecute"
        ) {
            violations.push(Violation::error(
                field("effect"),
                "must be NoSchedule, PreferNoSchedule or NoExecute",
            ));
        }
        if toleration.operator == "Exists" && !toleration.value.is_empty() {
            violations.push(Violation::error(
                field("value"),
                "must be empty when operator is Exists",
            ));
        }
    }
    violations.extend(validate_bindings(
        &runner.profile_bindings,
        template_name,
        &FieldPath::root().key("runner").key("profile_bindings"),
    ));
    violations
}

fn output_only(runner: &Runner) -> [(&'static str, bool); 12] {
    [
        ("id", !runner.id.is_empty()),
        (
            "install_status",
            runner.install_status != Default::default(),
        ),
        ("install_error", runner.install_error.is_some()),
        (
            "connection_status",
            runner.connection_status != Default::default(),
        ),
        ("active_revision", runner.active_revision != 0),
        ("target_revision", runner.target_revision != 0),
        ("update_available", runner.update_available),
        ("rollout_in_progress", runner.rollout_in_progress),
        ("created_at", runner.created_at.is_some()),
        ("updated_at", runner.updated_at.is_some()),
        ("last_heartbeat_at", runner.last_heartbeat_at.is_some()),
        ("etag", !runner.etag.is_empty()),
    ]
}

/// A part of a runner an update may change (the mutable `updateMask` paths).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunnerField {
    Zone,
    RunnerGroupId,
    DisplayName,
    ManagedSpec,
    ReleaseChannel,
    MaintenancePolicy,
    Overrides,
    ProfileBindings,
}

impl RunnerField {
    const PATHS: [(RunnerField, &'static str, &'static str); 8] = [
        (RunnerField::Zone, "identity.zone", "identity.zone"),
        (
            RunnerField::RunnerGroupId,
            "identity.runner_group_id",
            "identity.runnerGroupId",
        ),
        (RunnerField::DisplayName, "display_name", "displayName"),
        (RunnerField::ManagedSpec, "managed_spec", "managedSpec"),
        (
            RunnerField::ReleaseChannel,
            "managed_spec.release_channel",
            "managedSpec.releaseChannel",
        ),
        (
            RunnerField::MaintenancePolicy,
            "managed_spec.maintenance_policy",
            "managedSpec.maintenancePolicy",
        ),
        (
            RunnerField::Overrides,
            "managed_spec.overrides",
            "managedSpec.overrides",
        ),
        (
            RunnerField::ProfileBindings,
            "profile_bindings",
            "profileBindings",
        ),
    ];

    pub fn as_str(self) -> &'static str {
        RunnerField::PATHS
            .iter()
            .find(|(f, _, _)| *f == self)
            .map_or("", |(_, snake, _)| snake)
    }
}

/// The settings (every mutable field but the bindings and the runner-pod overrides,
/// which have editors of their own) that differ between `before` and `after`: the
/// update mask of a settings form.
pub fn changed_settings(before: &Runner, after: &Runner) -> Vec<RunnerField> {
    let identity = |r: &Runner| r.identity.clone().unwrap_or_default();
    let spec = |r: &Runner| r.managed_spec.clone().unwrap_or_default();
    let (b_identity, a_identity) = (identity(before), identity(after));
    let (b_spec, a_spec) = (spec(before), spec(after));
    [
        (
            RunnerField::DisplayName,
            before.display_name != after.display_name,
        ),
        (RunnerField::Zone, b_identity.zone != a_identity.zone),
        (
            RunnerField::RunnerGroupId,
            b_identity.runner_group_id != a_identity.runner_group_id,
        ),
        (
            RunnerField::ReleaseChannel,
            b_spec.release_channel != a_spec.release_channel,
        ),
        (
            RunnerField::MaintenancePolicy,
            b_spec.maintenance_policy.unwrap_or_default()
                != a_spec.maintenance_policy.unwrap_or_default(),
        ),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect()
}

/// Parses a runner `updateMask`; snake_case and camelCase paths are both accepted.
pub fn parse_runner_update_mask(mask: &str) -> Result<Vec<RunnerField>, Violation> {
    let mut fields = Vec::new();
    for path in mask.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let field = RunnerField::PATHS
            .iter()
            .find(|(_, snake, camel)| *snake == path || *camel == path)
            .map(|(field, _, _)| *field)
            .ok_or_else(|| {
                let allowed: Vec<&str> = RunnerField::PATHS
                    .iter()
                    .map(|(_, snake, _)| *snake)
                    .collect();
                Violation::error(
                    "update_mask",
                    format!(
                        "{path:?} cannot be updated; mutable paths are {}",
                        allowed.join(", ")
                    ),
                )
            })?;
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    if fields.is_empty() {
        return Err(Violation::error(
            "update_mask",
            "is required: name the fields to change",
        ));
    }
    Ok(fields)
}

/// `current` with the masked parts taken from `patch`.
pub fn apply_runner_update(current: &Runner, patch: &Runner, fields: &[RunnerField]) -> Runner {
    let mut updated = current.clone();
    let patch_identity = patch.identity.clone().unwrap_or_default();
    let patch_spec = patch.managed_spec.clone().unwrap_or_default();
    for field in fields {
        match field {
            RunnerField::Zone => identity(&mut updated).zone = patch_identity.zone.clone(),
            RunnerField::RunnerGroupId => {
                identity(&mut updated).runner_group_id = patch_identity.runner_group_id.clone()
            }
            RunnerField::DisplayName => updated.display_name = patch.display_name.clone(),
            RunnerField::ManagedSpec => updated.managed_spec = patch.managed_spec.clone(),
            RunnerField::ReleaseChannel => {
                updated
                    .managed_spec
                    .get_or_insert_with(Default::default)
                    .release_channel = patch_spec.release_channel;
            }
            RunnerField::MaintenancePolicy => {
                updated
                    .managed_spec
                    .get_or_insert_with(Default::default)
                    .maintenance_policy = patch_spec.maintenance_policy.clone();
            }
            RunnerField::Overrides => {
                updated
                    .managed_spec
                    .get_or_insert_with(Default::default)
                    .overrides = patch_spec.overrides.clone();
            }
            RunnerField::ProfileBindings => {
                updated.profile_bindings = patch.profile_bindings.clone()
            }
        }
    }
    updated
}

fn identity(runner: &mut Runner) -> &mut RunnerIdentity {
    runner.identity.get_or_insert_with(RunnerIdentity::default)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn templates(id: &str) -> Option<String> {
        (id == "t1" || id == "t2").then(|| format!("profile-{id}"))
    }

    fn create(value: serde_json::Value) -> Vec<(String, String)> {
        let request: CreateRunnerRequest = serde_json::from_value(value).unwrap();
        validate_new_runner(&request, templates)
            .into_iter()
            .map(|v| (v.field, v.message))
            .collect()
    }

    #[test]
    fn a_complete_runner_is_valid() {
        let violations = create(json!({"runnerId": "gpu-east", "runner": {
            "displayName": "GPU east", "identity": {"zone": "us-east-04a", "clusterName": "east"},
            "managedSpec": {"releaseChannel": "RELEASE_CHANNEL_STABLE",
                "maintenancePolicy": {"windows": [{"cron": "0 3 * * sun", "durationSeconds": "7200"}]},
                "overrides": {"tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}], "env": {"HTTP_PROXY": "x"}}},
            "profileBindings": [{"profileTemplateId": "t1", "isDefault": true}, {"profileTemplateId": "t2"}]}}));
        assert_eq!(violations, []);
    }

    #[test]
    fn create_rules_use_the_platform_messages() {
        let violations = create(json!({"runnerId": "r", "runner": {"identity": {},
            "profileBindings": [{"profileTemplateId": "t1", "isDefault": true}, {"profileTemplateId": "t2", "isDefault": true}]}}));
        let messages: Vec<&str> = violations.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            messages,
            [
                ZONE_REQUIRED,
                CLUSTER_REQUIRED,
                crate::binding::TWO_DEFAULTS
            ]
        );
        let violations = create(
            json!({"runnerId": "Bad_ID", "runner": {"id": "x", "etag": "e",
            "identity": {"zone": "z", "clusterId": "c", "clusterName": "n"},
            "managedSpec": {"maintenancePolicy": {"windows": [{"cron": "daily", "durationSeconds": "0"}]}},
            "profileBindings": [{"profileTemplateId": "missing", "isDefault": true}]}}),
        );
        let fields: Vec<&str> = violations.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "runner_id",
                "runner.id",
                "runner.etag",
                "runner.identity",
                "runner.managed_spec.maintenance_policy.windows[0].cron",
                "runner.managed_spec.maintenance_policy.windows[0].duration_seconds",
                "runner.profile_bindings",
            ]
        );
    }

    #[test]
    fn updates_change_only_masked_paths_in_either_spelling() {
        let current: Runner = serde_json::from_value(
            json!({"displayName": "a", "identity": {"zone": "z1", "clusterName": "c"},
            "profileBindings": [{"profileTemplateId": "t1", "isDefault": true}]}),
        )
        .unwrap();
        let patch: Runner = serde_json::from_value(
            json!({"displayName": "b", "identity": {"zone": "z2", "clusterName": "other"},
            "profileBindings": []}),
        )
        .unwrap();
        let fields = parse_runner_update_mask("identity.zone,displayName").unwrap();
        let updated = apply_runner_update(&current, &patch, &fields);
        assert_eq!(updated.display_name, "b");
        let identity = updated.identity.clone().unwrap();
        assert_eq!(
            (identity.zone.as_str(), identity.cluster_name.as_str()),
            ("z2", "c")
        );
        assert_eq!(updated.profile_bindings, current.profile_bindings);
        assert_eq!(validate_runner_state(&updated, templates), []);
        let emptied = apply_runner_update(
            &current,
            &patch,
            &parse_runner_update_mask("profile_bindings").unwrap(),
        );
        assert_eq!(
            validate_runner_state(&emptied, templates)[0].message,
            crate::binding::NO_BINDINGS
        );
        assert!(
            parse_runner_update_mask("identity.cluster_id")
                .unwrap_err()
                .message
                .contains("cannot be updated")
        );
        assert!(parse_runner_update_mask("").is_err());
    }

    #[test]
    fn a_settings_form_sends_only_what_changed() {
        let before = Runner {
            display_name: "A".into(),
            identity: Some(RunnerIdentity {
                zone: "us-east-1".into(),
                ..RunnerIdentity::default()
            }),
            ..Runner::default()
        };
        let mut after = before.clone();
        assert!(changed_settings(&before, &after).is_empty());
        after.display_name = "B".into();
        after
            .managed_spec
            .get_or_insert_with(Default::default)
            .maintenance_policy
            .get_or_insert_with(Default::default)
            .windows
            .push(crate::runner::MaintenanceWindow {
                cron: "0 3 * * sun".into(),
                duration_seconds: 3600,
            });
        assert_eq!(
            changed_settings(&before, &after),
            [RunnerField::DisplayName, RunnerField::MaintenancePolicy]
        );
    }
}
