//! The rules a start request obeys before placement is even tried (SPEC §4).

use crate::field_path::FieldPath;
use crate::image::image_reference_problem;
use crate::names::{label_key_problem, label_value_problem};
use crate::quantity::Quantity;
use crate::sandbox::{ResourceRequest, StartSandboxRequest};
use crate::violation::Violation;

/// Every rule `request` breaks. Paths are the request's own field names.
///
/// An empty `container_image` is allowed here (local decision: the image may be left
/// out when the profile sets one); a candidate whose layers name none either is
/// rejected by placement (`RejectionReason::NoImage`), which the console previews.
pub fn validate_start_request(request: &StartSandboxRequest) -> Vec<Violation> {
    let mut violations = Vec::new();
    let root = FieldPath::root();
    let mut error = |path: FieldPath, message: String| {
        violations.push(Violation::error(path.to_string(), message))
    };
    if request.command.trim().is_empty() {
        error(root.key("command"), "is required".into());
    }
    if !request.container_image.is_empty()
        && let Some(problem) = image_reference_problem(&request.container_image)
    {
        error(root.key("container_image"), problem);
    }
    for (name, resources) in [
        ("resources", &request.resources),
        ("resource_requests", &request.resource_requests),
        ("resource_limits", &request.resource_limits),
    ] {
        if let Some(resources) = resources {
            check_resources(resources, &root.key(name), &mut error);
        }
    }
    if let (Some(requests), Some(limits)) = (
        request
            .resource_requests
            .as_ref()
            .or(request.resources.as_ref()),
        &request.resource_limits,
    ) {
        for (field, request_text, limit_text) in [
            ("cpu", &requests.cpu, &limits.cpu),
            ("memory", &requests.memory, &limits.memory),
        ] {
            if let (Ok(asked), Ok(limit)) =
                (Quantity::parse(request_text), Quantity::parse(limit_text))
                && asked > limit
            {
                error(
                    root.key("resource_requests").key(field),
                    format!(
                        "{request_text} is more than the limit {limit_text}: a request must not exceed its limit"
                    ),
                );
            }
        }
    }
    for name in request.environment_variables.keys() {
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            error(
                root.key("environment_variables").key(name),
                "is not an environment variable name (letters, digits and '_', not starting with a digit)".into(),
            );
        }
    }
    for (i, port) in request.ports.iter().enumerate() {
        if !(1..=65535).contains(&port.container_port) {
            error(
                root.key("ports").index(i).key("container_port"),
                "must be from 1 to 65535".into(),
            );
        }
    }
    if let Some(network) = &request.network {
        for (i, port) in network.exposed_ports.iter().enumerate() {
            if !(1..=65535).contains(port) {
                error(
                    root.key("network").key("exposed_ports").index(i),
                    "must be from 1 to 65535".into(),
                );
            }
        }
    }
    for (i, file) in request.mounted_files.iter().enumerate() {
        if !file.mount_path.starts_with('/') {
            error(
                root.key("mounted_files").index(i).key("mount_path"),
                "must be an absolute path".into(),
            );
        } else if file.mount_path.split('/').any(|part| part == "..") {
            error(
                root.key("mounted_files").index(i).key("mount_path"),
                "must not contain '..'".into(),
            );
        }
    }
    for (i, tag) in request.tags.iter().enumerate() {
        if tag.trim().is_empty() {
            error(root.key("tags").index(i), "must not be empty".into());
        }
    }
    for key in request.pod_annotations.keys() {
        if let Some(problem) = label_key_problem(key) {
            error(
                root.key("pod_annotations").key(key),
                format!("is not a valid annotation key: {problem}"),
            );
        }
    }
    for (name, value) in [
        ("max_lifetime_seconds", request.max_lifetime_seconds),
        ("max_timeout_seconds", request.max_timeout_seconds),
    ] {
        if value < 0 {
            error(root.key(name), "must not be negative".into());
        }
    }
    violations
}

fn check_resources(
    resources: &ResourceRequest,
    path: &FieldPath,
    error: &mut impl FnMut(FieldPath, String),
) {
    for (field, text) in [("cpu", &resources.cpu), ("memory", &resources.memory)] {
        if text.is_empty() {
            continue;
        }
        match Quantity::parse(text) {
            Ok(q) if q.is_negative() => error(path.key(field), "must not be negative".into()),
            Ok(_) => {}
            Err(problem) => error(path.key(field), problem),
        }
    }
    if let Some(gpu) = &resources.gpu {
        if gpu.gpu_count < 0 {
            error(
                path.key("gpu").key("gpu_count"),
                "must not be negative".into(),
            );
        }
        if !gpu.gpu_type.is_empty() && gpu.gpu_memory_gb != 0 {
            error(
                path.key("gpu"),
                "gpu_type and gpu_memory_gb are alternatives; set one".into(),
            );
        }
        if let Some(problem) = label_value_problem(&gpu.gpu_type) {
            error(
                path.key("gpu").key("gpu_type"),
                format!("is not a GPU type name: it {problem}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: serde_json::Value) -> Vec<String> {
        let request: StartSandboxRequest = serde_json::from_value(value).unwrap();
        validate_start_request(&request)
            .into_iter()
            .map(|v| v.field)
            .collect()
    }

    #[test]
    fn a_plain_request_is_valid() {
        assert_eq!(
            fields(
                json!({"command": "python", "args": ["-c", "print(1)"], "containerImage": "python:3.12",
                "resources": {"cpu": "500m", "memory": "1Gi", "gpu": {"gpuCount": "1", "gpuType": "H100"}},
                "environmentVariables": {"MODE": "test"}, "ports": [{"containerPort": 8080}]})
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_image_may_be_left_to_the_profile() {
        assert_eq!(fields(json!({"command": "python"})), Vec::<String>::new());
        assert_eq!(
            fields(json!({"command": "python", "containerImage": "Bad Image"})),
            ["container_image"]
        );
    }

    #[test]
    fn every_problem_is_named() {
        assert_eq!(
            fields(
                json!({"containerImage": "Bad Image", "resources": {"cpu": "lots"},
                "resourceLimits": {"memory": "1Gi"}, "resourceRequests": {"memory": "2Gi"},
                "environmentVariables": {"1X": "y"}, "ports": [{"containerPort": 70000}],
                "mountedFiles": [{"mountPath": "relative"}], "maxLifetimeSeconds": -1})
            ),
            [
                "command",
                "container_image",
                "resources.cpu",
                "resource_requests.memory",
                "environment_variables.1X",
                "ports[0].container_port",
                "mounted_files[0].mount_path",
                "max_lifetime_seconds"
            ]
        );
    }
}
