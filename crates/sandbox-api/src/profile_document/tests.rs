//! Tests of reading, checking, converting and writing profiles in both forms.

use super::*;

/// The example from SPEC §3.1.
const SPEC_EXAMPLE: &str = r#"display_name: agent-allowlist
description: Per-user agent sandboxes, allowlisted egress
labels: {workload: agent}
spec:
  container_image: ghcr.io/example/agent:1.4
  runtime_class: kata-qemu
  resource_defaults: {cpuRequest: "1", memoryRequest: 2Gi, cpuLimit: "2", memoryLimit: 4Gi}
  instance_types: [h100]
  node_selector: {pool: cpu}
  tags: [agents]
  namespace: {strategy: per-user, namespacePrefix: agent-, autoCreate: true}
  network:
    egress:
      default: allowlist
      modes:
        allowlist: {type: allowlist, cidrs: [140.82.112.0/20]}
        deny-all: {type: none}
    ingress:
      internal: {scope: org, service: {serviceType: ClusterIP}}
  pod:
    metadata: {labels: {app: agent}}
    spec: {securityContext: {runAsNonRoot: true}}
"#;

fn errors_at(text: &str) -> Vec<(String, u32)> {
    parse_profile(text)
        .violations
        .into_iter()
        .filter(|v| v.violation.severity == crate::violation::Severity::Error)
        .map(|v| (v.violation.field, v.position.line))
        .collect()
}

#[test]
fn the_spec_example_reads_cleanly_as_the_cli_form() {
    let parsed = parse_profile(SPEC_EXAMPLE);
    assert_eq!(parsed.violations, []);
    assert_eq!(
        (parsed.format, parsed.form),
        (TextFormat::Yaml, ProfileForm::Cli)
    );
    let document = parsed.document.unwrap();
    assert_eq!(document.display_name, "agent-allowlist");
    assert_eq!(
        document
            .spec
            .resource_defaults
            .as_ref()
            .unwrap()
            .memory_request,
        "2Gi"
    );
    assert_eq!(
        document.spec.namespace.as_ref().unwrap()["namespacePrefix"],
        "agent-"
    );
}

#[test]
fn cli_form_to_api_form_and_back_is_the_identity() {
    let document = parse_profile(SPEC_EXAMPLE).document.unwrap();
    let template = document.to_template();
    let spec = template.spec.as_ref().unwrap();
    assert_eq!(spec.container_image, "ghcr.io/example/agent:1.4");
    let network: Value = serde_json::from_str(&spec.network_config_json).unwrap();
    assert_eq!(network["egress"]["default"], "allowlist");
    let (back, violations) = ProfileDocument::from_template(&template);
    assert_eq!(violations, []);
    assert_eq!(back, document);
}

#[test]
fn every_written_form_reads_back_to_the_same_document() {
    let document = parse_profile(SPEC_EXAMPLE).document.unwrap();
    for form in [ProfileForm::Cli, ProfileForm::Api] {
        for format in [TextFormat::Yaml, TextFormat::Json] {
            let text = write_profile(&document, form, format);
            let parsed = parse_profile(&text);
            assert_eq!(parsed.violations, [], "{form:?} {format:?}:\n{text}");
            assert_eq!((parsed.form, parsed.format), (form, format), "{text}");
            assert_eq!(
                parsed.document.as_ref(),
                Some(&document),
                "{form:?} {format:?}:\n{text}"
            );
        }
    }
}

#[test]
fn an_api_create_request_body_is_read_as_the_api_form() {
    let text = r#"{"profileTemplate": {"displayName": "ci", "spec": {"runtimeClass": "gvisor",
            "namespaceConfigJson": "{\"strategy\":\"static\",\"staticNamespace\":\"ci-jobs\"}"}}}"#;
    let parsed = parse_profile(text);
    assert_eq!(parsed.violations, []);
    assert_eq!(parsed.form, ProfileForm::Api);
    let document = parsed.document.unwrap();
    assert_eq!(document.spec.runtime_class, "gvisor");
    assert_eq!(
        document.spec.namespace.unwrap()["staticNamespace"],
        "ci-jobs"
    );
}

#[test]
fn each_class_of_mistake_is_reported_on_its_line() {
    let syntax = "display_name: a\nspec:\n  tags: [a, b\n";
    let parsed = parse_profile(syntax);
    assert_eq!(parsed.document, None);
    assert!(
        parsed.violations[0]
            .violation
            .message
            .contains("YAML syntax error")
    );
    assert!(
        parsed.violations[0].position.line >= 3,
        "{:?}",
        parsed.violations
    );

    let text = "display_name: a\nspec:\n  container_imag: x\n  namespace: {strategy: static}\n  network:\n    egress:\n      default: internet\n      modes:\n        allow: {type: allowlist, cidrs: [10.1.2.3/8]}\n        other: {type: everything}\n  resource_defaults:\n    cpuRequest: \"4\"\n    cpuLimit: \"2\"\n";
    assert_eq!(
        errors_at(text),
        [
            ("spec.container_imag".to_owned(), 3),
            ("spec.resource_defaults.cpuRequest".to_owned(), 12),
            ("spec.namespace.staticNamespace".to_owned(), 4),
            ("spec.network.egress.modes.allow.cidrs[0]".to_owned(), 9),
            ("spec.network.egress.modes.other.type".to_owned(), 10),
            ("spec.network.egress.default".to_owned(), 7),
        ]
    );
}

#[test]
fn mistakes_inside_api_json_strings_point_at_the_string() {
    let text = "{\n  \"displayName\": \"a\",\n  \"spec\": {\n    \"networkConfigJson\": \"{\\\"egress\\\":{\\\"default\\\":\\\"x\\\"}}\",\n    \"runtimeClass\": \"Kata\"\n  }\n}\n";
    assert_eq!(
        errors_at(text),
        [
            ("spec.runtime_class".to_owned(), 5),
            ("spec.network.egress.default".to_owned(), 4)
        ]
    );
}

#[test]
fn managed_pod_labels_and_placement_are_warnings() {
    let text = "display_name: a\nspec:\n  pod:\n    metadata:\n      labels: {sandbox.coreweave.com/owner: me, app: x}\n    placement: {instanceTypes: [h100]}\n";
    let parsed = parse_profile(text);
    assert!(
        parsed
            .violations
            .iter()
            .all(|v| v.violation.severity == crate::violation::Severity::Warning)
    );
    let fields: Vec<_> = parsed
        .violations
        .iter()
        .map(|v| v.violation.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            r#"spec.pod.metadata.labels["sandbox.coreweave.com/owner"]"#,
            "spec.pod.placement.instanceTypes"
        ]
    );
}

#[test]
fn missing_and_mistyped_top_level_fields_are_errors() {
    assert_eq!(
        errors_at("description: x\n"),
        [("display_name".to_owned(), 1), ("spec".to_owned(), 1)]
    );
    assert_eq!(
        errors_at("display_name: a\nspec: []\n"),
        [("spec".to_owned(), 2)]
    );
    assert_eq!(errors_at("- a\n- b\n"), [("".to_owned(), 1)]);
    assert_eq!(errors_at("   \n"), [("".to_owned(), 1)]);
}

#[test]
fn fragments_read_and_write_as_yaml() {
    assert_eq!(read_fragment("  "), Ok(None));
    let value = read_fragment("spec:\n  priorityClassName: low\n")
        .ok()
        .flatten();
    assert_eq!(
        value,
        Some(serde_json::json!({"spec": {"priorityClassName": "low"}}))
    );
    let text = write_fragment(&serde_json::json!({"a": [1]}));
    assert_eq!(
        read_fragment(&text).ok().flatten(),
        Some(serde_json::json!({"a": [1]}))
    );
    assert!(read_fragment("a: [").unwrap_err().starts_with("line 1"));
}
