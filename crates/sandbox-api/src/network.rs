//! A profile's network guardrails: egress modes (where sandboxes may connect) and
//! ingress levels (how they may be reached) (SPEC §3.1).

use std::collections::BTreeMap;
use std::fmt;

use ipnet::IpNet;
use serde_json::{Map, Value};

use crate::field_path::FieldPath;
use crate::hostname_template::hostname_template_problem;
use crate::json_reader::Reader;
use crate::names::{dns1123_label_problem, label_key_problem};

macro_rules! name_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == text)
            }

            fn choices() -> String {
                $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

name_enum!(
    /// What an egress mode lets a sandbox reach.
    EgressType {
        Internet => "internet",
        Allowlist => "allowlist",
        Org => "org",
        User => "user",
        Profile => "profile",
        None => "none",
    }
);

name_enum!(
    /// Who may reach a sandbox through an ingress level.
    IngressScope { User => "user", Profile => "profile", Org => "org", Any => "any" }
);

name_enum!(
    /// The Kubernetes Service type that exposes a sandbox.
    ServiceType { ClusterIp => "ClusterIP", NodePort => "NodePort", LoadBalancer => "LoadBalancer" }
);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkConfig {
    /// `None`: no outbound traffic at all.
    pub egress: Option<Egress>,
    pub ingress: BTreeMap<String, IngressLevel>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Egress {
    /// The mode a sandbox gets when it asks for none; one of `modes`.
    pub default: String,
    pub modes: BTreeMap<String, EgressMode>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EgressMode {
    pub kind: EgressType,
    /// Only for `allowlist`.
    pub cidrs: Vec<IpNet>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngressLevel {
    pub scope: IngressScope,
    pub service_type: Option<ServiceType>,
    pub ingress_controller: String,
    pub hostname_template: String,
    pub expects_external_address: bool,
}

impl NetworkConfig {
    /// The egress mode names a sandbox may ask for.
    pub fn egress_mode_names(&self) -> Vec<&str> {
        self.egress
            .iter()
            .flat_map(|e| e.modes.keys().map(String::as_str))
            .collect()
    }

    /// The ingress level names a sandbox may ask for.
    pub fn ingress_level_names(&self) -> Vec<&str> {
        self.ingress.keys().map(String::as_str).collect()
    }
}

/// Reads and checks the network object at `path`.
pub fn read_network(value: &Value, path: &FieldPath, reader: &mut Reader) -> NetworkConfig {
    let mut config = NetworkConfig::default();
    let Some(map) = reader.object(value, path) else {
        return config;
    };
    reader.known_keys(map, path, &["egress", "ingress"]);
    if let Some(egress) = map.get("egress").filter(|v| !v.is_null()) {
        config.egress = Some(read_egress(egress, &path.key("egress"), reader));
    }
    if let Some(ingress) = map.get("ingress").filter(|v| !v.is_null()) {
        let path = path.key("ingress");
        if let Some(levels) = reader.object(ingress, &path) {
            for (name, level) in levels {
                let level_path = path.key(name);
                check_mode_name(reader, &level_path, name, "an ingress level");
                if let Some(level) = read_ingress_level(level, &level_path, reader) {
                    config.ingress.insert(name.clone(), level);
                }
            }
        }
    }
    config
}

fn read_egress(value: &Value, path: &FieldPath, reader: &mut Reader) -> Egress {
    let mut egress = Egress::default();
    let Some(map) = reader.object(value, path) else {
        return egress;
    };
    reader.known_keys(map, path, &["default", "modes"]);
    if let Some(modes) = map.get("modes").filter(|v| !v.is_null()) {
        let modes_path = path.key("modes");
        if let Some(modes) = reader.object(modes, &modes_path) {
            for (name, mode) in modes {
                let mode_path = modes_path.key(name);
                check_mode_name(reader, &mode_path, name, "an egress mode");
                if let Some(mode) = read_egress_mode(mode, &mode_path, reader) {
                    egress.modes.insert(name.clone(), mode);
                }
            }
        }
    }
    egress.default = reader.string(map, "default", path);
    let default_path = path.key("default");
    let declared: Vec<&String> = map
        .get("modes")
        .and_then(Value::as_object)
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    if egress.default.is_empty() {
        if !declared.is_empty() {
            reader.error(
                &default_path,
                "is required when modes are given; name one of the modes",
            );
        }
    } else if !declared.iter().any(|name| **name == egress.default) {
        let message = if declared.is_empty() {
            format!("names {:?}, but no modes are defined", egress.default)
        } else {
            let names: Vec<&str> = declared.iter().map(|n| n.as_str()).collect();
            format!(
                "must name one of the modes ({}), not {:?}",
                names.join(", "),
                egress.default
            )
        };
        reader.error(&default_path, message);
    }
    egress
}

fn read_egress_mode(value: &Value, path: &FieldPath, reader: &mut Reader) -> Option<EgressMode> {
    let map = reader.object(value, path)?;
    reader.known_keys(map, path, &["type", "cidrs"]);
    let kind = required_choice(
        reader,
        map,
        "type",
        path,
        EgressType::parse,
        EgressType::choices,
    );
    let cidrs_path = path.key("cidrs");
    let texts = reader.string_list(map, "cidrs", path);
    let mut cidrs = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        match parse_cidr(text) {
            Ok(net) => cidrs.push(net),
            Err(problem) => reader.error(&cidrs_path.index(i), problem),
        }
    }
    let kind = kind?;
    match (kind, map.contains_key("cidrs")) {
        (EgressType::Allowlist, _) if texts.is_empty() => {
            reader.error(
                &cidrs_path,
                "is required for an allowlist: list at least one CIDR, e.g. 10.0.0.0/8",
            );
        }
        (EgressType::Allowlist, _) | (_, false) => {}
        (other, true) => reader.error(
            &cidrs_path,
            format!("is only allowed for type allowlist, not {other}"),
        ),
    }
    Some(EgressMode { kind, cidrs })
}

/// An IPv4 or IPv6 network in CIDR notation with no host bits set.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let net: IpNet = text
        .parse()
        .map_err(|_| format!("{text:?} is not CIDR notation (e.g. 10.0.0.0/8 or 2001:db8::/32)"))?;
    if net.trunc() != net {
        return Err(format!(
            "{text:?} has host bits set; did you mean {}?",
            net.trunc()
        ));
    }
    Ok(net)
}

fn read_ingress_level(
    value: &Value,
    path: &FieldPath,
    reader: &mut Reader,
) -> Option<IngressLevel> {
    let map = reader.object(value, path)?;
    reader.known_keys(
        map,
        path,
        &["scope", "service", "ingress", "expectsExternalAddress"],
    );
    let scope = required_choice(
        reader,
        map,
        "scope",
        path,
        IngressScope::parse,
        IngressScope::choices,
    );
    let mut level = IngressLevel {
        scope: scope.unwrap_or(IngressScope::User),
        service_type: None,
        ingress_controller: String::new(),
        hostname_template: String::new(),
        expects_external_address: reader
            .boolean(map, "expectsExternalAddress", path)
            .unwrap_or(false),
    };
    if let Some(service) = map.get("service").filter(|v| !v.is_null()) {
        let path = path.key("service");
        if let Some(service) = reader.object(service, &path) {
            reader.known_keys(
                service,
                &path,
                &["serviceType", "serviceSelectorAnnotation", "dnsAnnotation"],
            );
            level.service_type = required_choice(
                reader,
                service,
                "serviceType",
                &path,
                ServiceType::parse,
                ServiceType::choices,
            );
            for key in ["serviceSelectorAnnotation", "dnsAnnotation"] {
                read_annotation(service, key, &path, reader);
            }
        }
    }
    if let Some(route) = map.get("ingress").filter(|v| !v.is_null()) {
        let path = path.key("ingress");
        if let Some(route) = reader.object(route, &path) {
            reader.known_keys(route, &path, &["controllerName", "template"]);
            level.ingress_controller = reader.string(route, "controllerName", &path);
            level.hostname_template = reader.string(route, "template", &path);
            if !level.hostname_template.is_empty()
                && let Some(problem) = hostname_template_problem(&level.hostname_template)
            {
                reader.error(
                    &path.key("template"),
                    format!("the hostname template {problem}"),
                );
            }
        }
    }
    scope.map(|_| level)
}

fn read_annotation(map: &Map<String, Value>, key: &str, path: &FieldPath, reader: &mut Reader) {
    let Some(value) = map.get(key).filter(|v| !v.is_null()) else {
        return;
    };
    let path = path.key(key);
    if let Some(annotation) = reader.object(value, &path) {
        reader.known_keys(annotation, &path, &["key", "value"]);
        let annotation_key = reader.string(annotation, "key", &path);
        reader.string(annotation, "value", &path);
        match label_key_problem(&annotation_key) {
            _ if annotation_key.is_empty() => reader.error(&path.key("key"), "is required"),
            Some(problem) => reader.error(
                &path.key("key"),
                format!("is not a valid annotation key: {problem}"),
            ),
            None => {}
        }
    }
}

fn required_choice<T>(
    reader: &mut Reader,
    map: &Map<String, Value>,
    key: &str,
    path: &FieldPath,
    parse: fn(&str) -> Option<T>,
    choices: fn() -> String,
) -> Option<T> {
    let text = reader.string(map, key, path);
    let found = parse(&text);
    match (&found, text.is_empty()) {
        (Some(_), _) => {}
        (None, true) => reader.error(
            &path.key(key),
            format!("is required; use one of: {}", choices()),
        ),
        (None, false) => reader.error(
            &path.key(key),
            format!("{text:?} is not one of: {}", choices()),
        ),
    }
    found
}

fn check_mode_name(reader: &mut Reader, path: &FieldPath, name: &str, what: &str) {
    if let Some(problem) = dns1123_label_problem(name) {
        reader.error(
            path,
            format!("{name:?} cannot name {what}: a name {problem}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(value: Value) -> (NetworkConfig, Vec<(String, String)>) {
        let mut reader = Reader::default();
        let config = read_network(
            &value,
            &FieldPath::root().key("spec").key("network"),
            &mut reader,
        );
        let violations = reader
            .violations
            .into_iter()
            .map(|v| (v.field, v.message))
            .collect();
        (config, violations)
    }

    #[test]
    fn the_spec_example_network_is_valid() {
        let (config, violations) = check(json!({
            "egress": {"default": "allowlist", "modes": {
                "allowlist": {"type": "allowlist", "cidrs": ["140.82.112.0/20", "2001:db8::/32"]},
                "deny-all": {"type": "none"}}},
            "ingress": {"internal": {"scope": "org", "service": {"serviceType": "ClusterIP"}},
                        "public": {"scope": "any", "ingress": {"controllerName": "nginx", "template": "{{.SandboxID}}.apps.example.com"}}}
        }));
        assert_eq!(violations, []);
        assert_eq!(config.egress_mode_names(), ["allowlist", "deny-all"]);
        assert_eq!(config.ingress_level_names(), ["internal", "public"]);
        assert_eq!(config.egress.unwrap().modes["allowlist"].cidrs.len(), 2);
    }

    #[test]
    fn the_default_must_be_one_of_the_modes() {
        let (_, violations) =
            check(json!({"egress": {"default": "internet", "modes": {"org": {"type": "org"}}}}));
        assert_eq!(
            violations,
            [(
                "spec.network.egress.default".into(),
                "must name one of the modes (org), not \"internet\"".into()
            )]
        );
        let (_, violations) = check(json!({"egress": {"modes": {"org": {"type": "org"}}}}));
        assert_eq!(violations[0].0, "spec.network.egress.default");
        assert!(violations[0].1.contains("is required"));
    }

    #[test]
    fn cidrs_are_required_valid_and_only_for_allowlists() {
        let (_, violations) = check(json!({"egress": {"default": "a", "modes": {
            "a": {"type": "allowlist", "cidrs": ["10.0.0.1/8", "nonsense", "10.0.0.0/8"]},
            "b": {"type": "allowlist"},
            "c": {"type": "internet", "cidrs": ["10.0.0.0/8"]},
            "d": {"type": "everything"}}}}));
        let fields: Vec<_> = violations
            .iter()
            .map(|(f, m)| (f.as_str(), m.as_str()))
            .collect();
        assert_eq!(fields[0].0, "spec.network.egress.modes.a.cidrs[0]");
        assert!(fields[0].1.contains("did you mean 10.0.0.0/8"));
        assert_eq!(fields[1].0, "spec.network.egress.modes.a.cidrs[1]");
        assert_eq!(fields[2].0, "spec.network.egress.modes.b.cidrs");
        assert_eq!(fields[3].0, "spec.network.egress.modes.c.cidrs");
        assert_eq!(
            fields[4],
            (
                "spec.network.egress.modes.d.type",
                "\"everything\" is not one of: internet, allowlist, org, user, profile, none"
            )
        );
        assert_eq!(fields.len(), 5);
    }

    #[test]
    fn ingress_levels_check_scope_service_and_template() {
        let (_, violations) = check(json!({"ingress": {
            "Bad_Name": {"scope": "org"},
            "web": {"scope": "world", "service": {"serviceType": "Ingress", "dnsAnnotation": {"value": "x"}},
                    "ingress": {"template": "{{.User}}.example.com"}}}}));
        let fields: Vec<_> = violations.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.network.ingress.Bad_Name",
                "spec.network.ingress.web.scope",
                "spec.network.ingress.web.service.serviceType",
                "spec.network.ingress.web.service.dnsAnnotation.key",
                "spec.network.ingress.web.ingress.template",
            ]
        );
    }

    #[test]
    fn no_egress_object_means_no_modes() {
        let (config, violations) = check(json!({}));
        assert_eq!(violations, []);
        assert!(config.egress.is_none());
        assert!(config.egress_mode_names().is_empty());
    }
}
