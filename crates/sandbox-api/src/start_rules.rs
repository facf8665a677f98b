//! The rules a start request obeys before placement is even tried (SPEC §4), and the
//! one it obeys once placement has chosen where it runs (`validate_effective_image`).

use crate::field_path::FieldPath;
use crate::image::image_reference_problem;
use crate::layering::EffectiveSpec;
use crate::names::{label_key_problem, label_value_problem};
use crate::quantity::Quantity;
use crate::sandbox::{ResourceRequest, StartSandboxRequest};
use crate::violation::Violation;

/// Every rule `request` breaks. Paths are the request's own field names.
///
/// An empty `container_image` is allowed here (local decision: the image may be left
/// out when the profile sets one); whether one is named after all is
/// [`validate_effective_image`]'s rule, once layering is known.
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

/// The image rule once placement has chosen a (runner, binding) and layering has given
/// the spec the sandbox would run with: some layer must name an image. Local decision
/// (SPEC §4 makes the request's image required): a start request may leave its image
/// out when its profile (or a binding override, or the runner zone's defaults) sets
/// one. `profile_name` is the chosen binding's profile; the violation is on the
/// request's `container_image`, where the fix usually goes.
pub fn validate_effective_image(effective: &EffectiveSpec, profile_name: &str) -> Vec<Violation> {
    if !effective.spec.container_image.trim().is_empty() {
        return Vec::new();
    }
    vec![Violation::error(
        FieldPath::root().key("container_image").to_string(),
        format!(
            "is required: the request names no image and profile {profile_name:?} sets none; \
             name one in the request"
        ),
    )]
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
    fn an_image_from_any_layer_satisfies_the_effective_rule() {
        use crate::layering::{Layers, effective_spec};
        use crate::profile::ProfileSpec;

        let imaged = ProfileSpec {
            container_image: "python:3.12".into(),
            ..ProfileSpec::default()
        };
        let bare = ProfileSpec::default();
        let without: StartSandboxRequest =
            serde_json::from_value(json!({"command": "python"})).unwrap();
        let with_image: StartSandboxRequest =
            serde_json::from_value(json!({"command": "python", "containerImage": "node:22"}))
                .unwrap();
        let layered = |profile: &ProfileSpec,
                       overrides: Option<&ProfileSpec>,
                       request: &StartSandboxRequest| {
            effective_spec(Layers {
                zone_defaults: None,
                profile,
                overrides,
                request: Some(request),
            })
        };
        // The profile's image, a binding override's, or the request's own.
        assert!(validate_effective_image(&layered(&imaged, None, &without), "py").is_empty());
        assert!(
            validate_effective_image(&layered(&bare, Some(&imaged), &without), "py").is_empty()
        );
        assert!(validate_effective_image(&layered(&bare, None, &with_image), "bare").is_empty());
        // None of them: refused on the request's field, saying that neither names one.
        let refused = validate_effective_image(&layered(&bare, None, &without), "bare");
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].field, "container_image");
        assert_eq!(
            refused[0].message,
            "is required: the request names no image and profile \"bare\" sets none; \
             name one in the request"
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
