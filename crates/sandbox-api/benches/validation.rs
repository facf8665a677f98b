//! Reading and validating a large profile, as the editor does on every keystroke.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sandbox_api::profile_document::{ProfileForm, TextFormat, parse_profile, write_profile};

/// A profile far larger than any real one: 200 egress modes, 50 ingress levels, 200
/// labels and node selectors, and a pod fragment with 200 environment entries.
fn large_profile_yaml() -> String {
    let mut text =
        String::from("display_name: huge-profile\ndescription: every section filled\nlabels:\n");
    for i in 0..200 {
        text.push_str(&format!("  team-{i}: value-{i}\n"));
    }
    text.push_str(
        "spec:\n  container_image: ghcr.io/example/agent:1.4\n  runtime_class: kata-qemu\n",
    );
    text.push_str("  resource_defaults: {cpuRequest: 500m, memoryRequest: 2Gi, cpuLimit: \"2\", memoryLimit: 4Gi}\n");
    text.push_str("  instance_types: [h100, a100, l40]\n  node_selector:\n");
    for i in 0..200 {
        text.push_str(&format!("    example.com/key-{i}: v{i}\n"));
    }
    text.push_str("  namespace: {strategy: per-user, namespacePrefix: agent-, autoCreate: true}\n");
    text.push_str("  network:\n    egress:\n      default: mode-0\n      modes:\n");
    for i in 0..200 {
        text.push_str(&format!(
            "        mode-{i}: {{type: allowlist, cidrs: [10.{}.0.0/16, 2001:db8:{i:x}::/48]}}\n",
            i % 256
        ));
    }
    text.push_str("    ingress:\n");
    for i in 0..50 {
        text.push_str(&format!(
            "      level-{i}: {{scope: org, service: {{serviceType: ClusterIP}}, ingress: {{controllerName: nginx, template: \"{{{{.SandboxID}}}}-{i}.apps.example.com\"}}}}\n"
        ));
    }
    text.push_str("  pod:\n    metadata: {labels: {app: agent}}\n    spec:\n      containers:\n      - name: main\n        env:\n");
    for i in 0..200 {
        text.push_str(&format!("        - {{name: VAR_{i}, value: \"{i}\"}}\n"));
    }
    text
}

fn validation(c: &mut Criterion) {
    let yaml = large_profile_yaml();
    let parsed = parse_profile(&yaml);
    assert_eq!(parsed.violations, [], "the benchmark profile must be valid");
    let document = parsed.document.expect("a document");
    let api_json = write_profile(&document, ProfileForm::Api, TextFormat::Json);

    let mut group = c.benchmark_group(format!("large profile ({} KiB of YAML)", yaml.len() / 1024));
    group.bench_function("parse + validate YAML (CLI form)", |b| {
        b.iter(|| parse_profile(black_box(&yaml)))
    });
    group.bench_function("parse + validate JSON (API form)", |b| {
        b.iter(|| parse_profile(black_box(&api_json)))
    });
    group.bench_function("validate document", |b| {
        b.iter(|| black_box(&document).validate())
    });
    let mut broken = yaml.clone();
    broken.push_str("  bogus_field: 1\n");
    group.bench_function("parse + validate + locate one error", |b| {
        b.iter(|| parse_profile(black_box(&broken)))
    });
    group.finish();
}

criterion_group!(benches, validation);
criterion_main!(benches);
