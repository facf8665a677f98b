//! A bounded fuzz run over parse + validate of arbitrary bytes, cheap enough for CI:
//! nothing a user can paste or upload makes the domain code panic.

use proptest::prelude::*;
use proptest::test_runner::Config;
use sandbox_api::profile::ProfileTemplate;
use sandbox_api::profile_document::parse_profile;
use sandbox_api::profile_rules::validate_new_template;

proptest! {
    #![proptest_config(Config { cases: 2_000, ..Config::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let parsed = parse_profile(&text);
        if let Some(document) = parsed.document {
            let _ = document.validate();
            let template = document.to_template();
            let _ = validate_new_template(&template);
        }
        if let Ok(template) = serde_json::from_slice::<ProfileTemplate>(&bytes) {
            let _ = validate_new_template(&template);
        }
    }

    #[test]
    fn arbitrary_json_shapes_never_panic(value in arbitrary_json(4)) {
        let text = value.to_string();
        let parsed = parse_profile(&text);
        if let Some(document) = parsed.document {
            let _ = document.validate();
        }
    }
}

fn arbitrary_json(depth: u32) -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "spec",
            "display_name",
            "displayName",
            "network",
            "egress",
            "modes",
            "default",
            "cidrs",
            "type",
            "allowlist",
            "static",
            "strategy",
            "namespaceConfigJson",
            "{}",
            "10.0.0.0/8",
            "1Gi",
            "",
        ])
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(depth, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "spec",
                    "display_name",
                    "displayName",
                    "network",
                    "egress",
                    "ingress",
                    "modes",
                    "default",
                    "cidrs",
                    "type",
                    "namespace",
                    "pod",
                    "metadata",
                    "labels",
                    "resource_defaults",
                    "cpuRequest",
                    "profileTemplate",
                    "networkConfigJson",
                    "scope",
                    "service",
                ])
                .prop_map(str::to_owned),
                inner,
                0..5,
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
