//! Properties of the two profile forms over generated profiles and arbitrary text.

use std::collections::BTreeMap;

use proptest::prelude::*;
use sandbox_api::profile::ResourceDefaults;
use sandbox_api::profile_document::{
    DocumentSpec, ProfileDocument, ProfileForm, TextFormat, parse_profile, write_profile,
};
use sandbox_api::quantity::Quantity;
use serde_json::{Value, json};

fn dns_label() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}[a-z0-9]"
}

fn label_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(
        "[a-z][a-z0-9.-]{0,6}[a-z]",
        "[A-Za-z0-9]([A-Za-z0-9._-]{0,6}[A-Za-z0-9])?",
        0..3,
    )
}

fn quantities() -> impl Strategy<Value = Option<ResourceDefaults>> {
    prop::option::of(
        (1i64..64_000, 1i64..64_000, 1i64..1 << 20, 1i64..1 << 20).prop_map(|(a, b, c, d)| {
            let (cpu_request, cpu_limit) = (a.min(b), a.max(b));
            let (memory_request, memory_limit) = (c.min(d), c.max(d));
            ResourceDefaults {
                cpu_request: Quantity::from_millis(cpu_request).to_string(),
                cpu_limit: Quantity::from_millis(cpu_limit).to_string(),
                memory_request: Quantity::from_units(memory_request * 1024).to_string(),
                memory_limit: Quantity::from_units(memory_limit * 1024).to_string(),
            }
        }),
    )
}

fn namespace() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(
        (prop::sample::select(vec!["per-user", "per-org", "per-profile", "static"]), dns_label(), "[a-z][a-z0-9-]{0,10}", any::<bool>())
            .prop_map(|(strategy, name, prefix, auto_create)| {
                let mut value = json!({"strategy": strategy, "namespacePrefix": prefix, "autoCreate": auto_create});
                if strategy == "static" {
                    value["staticNamespace"] = json!(name);
                }
                value
            }),
    )
}

fn network() -> impl Strategy<Value = Option<Value>> {
    let mode = prop_oneof![
        prop::sample::select(vec!["internet", "org", "user", "profile", "none"])
            .prop_map(|t| json!({"type": t})),
        prop::collection::vec((0u8..=255, 0u8..=255, 8u8..=24), 1..3).prop_map(|nets| {
            let cidrs: Vec<String> = nets
                .into_iter()
                .map(|(a, b, len)| {
                    let net: ipnet::Ipv4Net = format!("{a}.{b}.0.0/{len}").parse().unwrap();
                    net.trunc().to_string()
                })
                .collect();
            json!({"type": "allowlist", "cidrs": cidrs})
        }),
    ];
    let level = (
        prop::sample::select(vec!["user", "profile", "org", "any"]),
        prop::sample::select(vec!["ClusterIP", "NodePort", "LoadBalancer"]),
    )
        .prop_map(|(scope, service)| json!({"scope": scope, "service": {"serviceType": service}}));
    prop::option::of(
        (
            prop::collection::btree_map(dns_label(), mode, 0..3),
            prop::collection::btree_map(dns_label(), level, 0..2),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(modes, ingress, pick)| {
                let mut network = serde_json::Map::new();
                if !modes.is_empty() {
                    let default = modes
                        .keys()
                        .nth(pick.index(modes.len()))
                        .cloned()
                        .unwrap_or_default();
                    network.insert("egress".into(), json!({"default": default, "modes": modes}));
                }
                if !ingress.is_empty() {
                    network.insert("ingress".into(), json!(ingress));
                }
                Value::Object(network)
            }),
    )
}

fn profile() -> impl Strategy<Value = ProfileDocument> {
    let spec = (
        prop::sample::select(vec!["", "python:3.12", "ghcr.io/example/agent:1.4", "registry.example.com:5000/team/app"]),
        prop::sample::select(vec!["", "gvisor", "kata-qemu", "kata-qemu-nvidia-gpu"]),
        quantities(),
        prop::collection::vec(dns_label(), 0..3),
        label_map(),
        prop::collection::vec("[a-z]{1,8}", 0..3),
        namespace(),
        network(),
        prop::option::of(label_map().prop_map(|labels| json!({"metadata": {"labels": labels}, "spec": {"securityContext": {"runAsNonRoot": true}}}))),
    )
        .prop_map(|(image, runtime, resources, instance_types, node_selector, tags, namespace, network, pod)| DocumentSpec {
            container_image: image.into(),
            runtime_class: runtime.into(),
            resource_defaults: resources,
            instance_types,
            node_selector,
            tags,
            namespace,
            network,
            pod,
        });
    (dns_label(), "[ -~]{0,40}", label_map(), spec).prop_map(
        |(display_name, description, labels, spec)| ProfileDocument {
            display_name,
            description,
            labels,
            spec,
        },
    )
}

proptest! {
    #[test]
    fn generated_profiles_are_valid(document in profile()) {
        prop_assert_eq!(document.validate(), vec![]);
    }

    #[test]
    fn cli_form_to_api_form_and_back_is_the_identity(document in profile()) {
        let (back, violations) = ProfileDocument::from_template(&document.to_template());
        prop_assert_eq!(violations, vec![]);
        prop_assert_eq!(back, document);
    }

    #[test]
    fn every_written_form_reads_back_to_the_same_document(document in profile()) {
        for form in [ProfileForm::Cli, ProfileForm::Api] {
            for format in [TextFormat::Yaml, TextFormat::Json] {
                let text = write_profile(&document, form, format);
                let parsed = parse_profile(&text);
                prop_assert_eq!(&parsed.violations, &vec![], "{:?} {:?}:\n{}", form, format, text);
                prop_assert_eq!(parsed.document.as_ref(), Some(&document), "{:?} {:?}:\n{}", form, format, text);
            }
        }
    }

    #[test]
    fn parsing_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = parse_profile(&text);
    }

    #[test]
    fn parsing_never_panics_on_profile_like_text(
        lines in prop::collection::vec(
            prop_oneof![
                Just("spec:".to_owned()), Just("  network:".to_owned()), Just("    egress: {default: x}".to_owned()),
                Just("display_name: a".to_owned()), Just("  namespace: {strategy: static}".to_owned()),
                Just("  resource_defaults: {cpuRequest: 2, cpuLimit: 1}".to_owned()), "[ -~]{0,30}",
            ],
            0..12,
        )
    ) {
        let _ = parse_profile(&lines.join("\n"));
    }
}
