//! The effective spec a sandbox runs with: runner zone defaults < profile spec <
//! binding overrides < sandbox request, later layers winning per field (SPEC §3.2).
//!
//! Merge rule (local decision, SPEC §3.2): a spec field set in a later layer replaces
//! the earlier one whole, except `nodeSelector`, which merges per key. Lists and the
//! `*ConfigJson` strings are replaced whole. The request layer sets the container image
//! and individual resource quantities (CPU, memory), since a request that names only
//! its CPU keeps the profile's memory default.

use std::collections::BTreeMap;

use crate::profile::{ProfileSpec, ResourceDefaults};
use crate::sandbox::{ResourceRequest, StartSandboxRequest};

/// Where a value of the effective spec came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    ZoneDefaults,
    Profile,
    BindingOverrides,
    Request,
}

impl Layer {
    pub fn describe(self) -> &'static str {
        match self {
            Layer::ZoneDefaults => "runner zone default",
            Layer::Profile => "profile",
            Layer::BindingOverrides => "binding override",
            Layer::Request => "sandbox request",
        }
    }
}

/// The resolved spec, and which layer set each field. Fields are named by their
/// YAML-form path (`container_image`, `node_selector.pool`,
/// `resource_defaults.cpuRequest`); unset fields have no entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EffectiveSpec {
    pub spec: ProfileSpec,
    pub sources: BTreeMap<String, Layer>,
}

/// The layers to resolve; only the profile is always there.
#[derive(Clone, Copy, Debug)]
pub struct Layers<'a> {
    pub zone_defaults: Option<&'a ProfileSpec>,
    pub profile: &'a ProfileSpec,
    pub overrides: Option<&'a ProfileSpec>,
    pub request: Option<&'a StartSandboxRequest>,
}

impl<'a> Layers<'a> {
    pub fn profile_only(profile: &'a ProfileSpec) -> Layers<'a> {
        Layers {
            zone_defaults: None,
            profile,
            overrides: None,
            request: None,
        }
    }
}

pub fn effective_spec(layers: Layers<'_>) -> EffectiveSpec {
    let mut effective = EffectiveSpec::default();
    if let Some(zone) = layers.zone_defaults {
        apply_spec(&mut effective, zone, Layer::ZoneDefaults);
    }
    apply_spec(&mut effective, layers.profile, Layer::Profile);
    if let Some(overrides) = layers.overrides {
        apply_spec(&mut effective, overrides, Layer::BindingOverrides);
    }
    if let Some(request) = layers.request {
        apply_request(&mut effective, request);
    }
    effective
}

fn apply_spec(effective: &mut EffectiveSpec, layer: &ProfileSpec, source: Layer) {
    let spec = &mut effective.spec;
    let sources = &mut effective.sources;
    let mut replace_string = |field: &str, target: &mut String, value: &String| {
        if !value.is_empty() {
            *target = value.clone();
            sources.insert(field.to_owned(), source);
        }
    };
    replace_string(
        "container_image",
        &mut spec.container_image,
        &layer.container_image,
    );
    replace_string(
        "runtime_class",
        &mut spec.runtime_class,
        &layer.runtime_class,
    );
    replace_string(
        "namespace",
        &mut spec.namespace_config_json,
        &layer.namespace_config_json,
    );
    replace_string(
        "network",
        &mut spec.network_config_json,
        &layer.network_config_json,
    );
    replace_string("pod", &mut spec.pod_template_json, &layer.pod_template_json);
    let mut replace_list = |field: &str, target: &mut Vec<String>, value: &Vec<String>| {
        if !value.is_empty() {
            *target = value.clone();
            sources.insert(field.to_owned(), source);
        }
    };
    replace_list(
        "instance_types",
        &mut spec.instance_types,
        &layer.instance_types,
    );
    replace_list("tags", &mut spec.tags, &layer.tags);
    if let Some(resources) = layer
        .resource_defaults
        .as_ref()
        .filter(|r| **r != ResourceDefaults::default())
    {
        spec.resource_defaults = Some(resources.clone());
        for (key, value) in resource_fields(resources) {
            let field = format!("resource_defaults.{key}");
            if value.is_empty() {
                sources.remove(&field);
            } else {
                sources.insert(field, source);
            }
        }
    }
    for (key, value) in &layer.node_selector {
        spec.node_selector.insert(key.clone(), value.clone());
        sources.insert(format!("node_selector.{key}"), source);
    }
}

fn apply_request(effective: &mut EffectiveSpec, request: &StartSandboxRequest) {
    if !request.container_image.is_empty() {
        effective.spec.container_image = request.container_image.clone();
        effective
            .sources
            .insert("container_image".into(), Layer::Request);
    }
    let (cpu_request, memory_request) = requested(
        request
            .resource_requests
            .as_ref()
            .or(request.resources.as_ref()),
    );
    let (cpu_limit, memory_limit) = requested(request.resource_limits.as_ref());
    let resources = effective
        .spec
        .resource_defaults
        .get_or_insert_with(ResourceDefaults::default);
    for (key, target, value) in [
        ("cpuRequest", &mut resources.cpu_request, cpu_request),
        (
            "memoryRequest",
            &mut resources.memory_request,
            memory_request,
        ),
        ("cpuLimit", &mut resources.cpu_limit, cpu_limit),
        ("memoryLimit", &mut resources.memory_limit, memory_limit),
    ] {
        if !value.is_empty() {
            *target = value.to_owned();
            effective
                .sources
                .insert(format!("resource_defaults.{key}"), Layer::Request);
        }
    }
    if effective.spec.resource_defaults == Some(ResourceDefaults::default()) {
        effective.spec.resource_defaults = None;
    }
}

fn requested(resources: Option<&ResourceRequest>) -> (&str, &str) {
    resources.map_or(("", ""), |r| (r.cpu.as_str(), r.memory.as_str()))
}

fn resource_fields(resources: &ResourceDefaults) -> [(&'static str, &String); 4] {
    [
        ("cpuRequest", &resources.cpu_request),
        ("memoryRequest", &resources.memory_request),
        ("cpuLimit", &resources.cpu_limit),
        ("memoryLimit", &resources.memory_limit),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> ProfileSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn later_layers_win_per_field_and_node_selectors_merge() {
        let zone = spec(
            r#"{"containerImage": "zone/default:1", "nodeSelector": {"zone": "us-east-1a", "pool": "any"}}"#,
        );
        let profile = spec(
            r#"{"runtimeClass": "kata-qemu", "nodeSelector": {"pool": "cpu"}, "tags": ["a", "b"],
                "resourceDefaults": {"cpuRequest": "1", "memoryRequest": "2Gi"}}"#,
        );
        let overrides = spec(
            r#"{"tags": ["c"], "resourceDefaults": {"cpuRequest": "2"}, "networkConfigJson": "{}"}"#,
        );
        let effective = effective_spec(Layers {
            zone_defaults: Some(&zone),
            profile: &profile,
            overrides: Some(&overrides),
            request: None,
        });
        assert_eq!(effective.spec.container_image, "zone/default:1");
        assert_eq!(effective.spec.runtime_class, "kata-qemu");
        assert_eq!(effective.spec.tags, ["c"], "lists are replaced whole");
        assert_eq!(effective.spec.node_selector["zone"], "us-east-1a");
        assert_eq!(effective.spec.node_selector["pool"], "cpu");
        let resources = effective.spec.resource_defaults.as_ref().unwrap();
        assert_eq!(
            (
                resources.cpu_request.as_str(),
                resources.memory_request.as_str()
            ),
            ("2", ""),
            "replaced whole"
        );
        assert_eq!(effective.sources["container_image"], Layer::ZoneDefaults);
        assert_eq!(effective.sources["node_selector.pool"], Layer::Profile);
        assert_eq!(effective.sources["tags"], Layer::BindingOverrides);
        assert_eq!(
            effective.sources["resource_defaults.cpuRequest"],
            Layer::BindingOverrides
        );
        assert!(
            !effective
                .sources
                .contains_key("resource_defaults.memoryRequest")
        );
        assert_eq!(effective.sources["network"], Layer::BindingOverrides);
    }

    #[test]
    fn a_request_sets_its_image_and_only_the_quantities_it_names() {
        let profile = spec(
            r#"{"containerImage": "p:1", "resourceDefaults": {"cpuRequest": "1", "memoryRequest": "2Gi"}}"#,
        );
        let request: StartSandboxRequest = serde_json::from_str(
            r#"{"containerImage": "mine:2", "command": "x", "resources": {"cpu": "4"}}"#,
        )
        .unwrap();
        let effective = effective_spec(Layers {
            request: Some(&request),
            ..Layers::profile_only(&profile)
        });
        assert_eq!(effective.spec.container_image, "mine:2");
        let resources = effective.spec.resource_defaults.unwrap();
        assert_eq!(resources.cpu_request, "4");
        assert_eq!(resources.memory_request, "2Gi");
        assert_eq!(
            effective.sources["resource_defaults.cpuRequest"],
            Layer::Request
        );
        assert_eq!(
            effective.sources["resource_defaults.memoryRequest"],
            Layer::Profile
        );
    }

    #[test]
    fn an_empty_layer_changes_nothing() {
        let profile = spec(r#"{"containerImage": "p:1", "tags": ["t"]}"#);
        let empty = ProfileSpec::default();
        let effective = effective_spec(Layers {
            overrides: Some(&empty),
            zone_defaults: Some(&empty),
            ..Layers::profile_only(&profile)
        });
        assert_eq!(effective.spec, profile);
    }
}
