//! The profile in the CLI's YAML form (what administrators write and the editor
//! shows), its lossless conversion to and from the API form, and reading and writing
//! either form as YAML or JSON text (SPEC §3.1).
//!
//! The YAML form has snake_case top-level and `spec` keys and structured `namespace`,
//! `network` and `pod` objects; the API form has camelCase keys and carries those three
//! as strings holding JSON.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::field_path::FieldPath;
use crate::json_reader::{Reader, kind};
use crate::namespace::{check_label, read_namespace};
use crate::network::read_network;
use crate::profile::{ProfileSpec, ProfileTemplate, ResourceDefaults};
use crate::quantity::Quantity;
use crate::source_map::{Position, SourceMap};
use crate::violation::Violation;

/// A profile template in the CLI's YAML form.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProfileDocument {
    pub display_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    pub spec: DocumentSpec,
}

/// `spec` in the YAML form. `namespace`, `network` and `pod` are kept as the JSON values
/// the author wrote, so that nothing they contain is lost in conversion; their rules
/// are checked by `namespace::read_namespace`, `network::read_network` and here.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DocumentSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub container_image: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runtime_class: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_defaults: Option<ResourceDefaults>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instance_types: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<Value>,
}

impl DocumentSpec {
    /// The API form of this spec.
    pub fn to_api(&self) -> ProfileSpec {
        let encode =
            |value: &Option<Value>| value.as_ref().map(Value::to_string).unwrap_or_default();
        ProfileSpec {
            container_image: self.container_image.clone(),
            runtime_class: self.runtime_class.clone(),
            resource_defaults: self.resource_defaults.clone(),
            instance_types: self.instance_types.clone(),
            node_selector: self.node_selector.clone(),
            tags: self.tags.clone(),
            namespace_config_json: encode(&self.namespace),
            network_config_json: encode(&self.network),
            pod_template_json: encode(&self.pod),
        }
    }
}

/// Reads a partial spec in API form held in a JSON string (a binding's
/// `overridesJson`), checking it like a profile's spec; violations are under `path`.
pub fn read_spec_json(json: &str, path: &FieldPath) -> (ProfileSpec, Vec<Violation>) {
    let mut reader = Reader::default();
    if json.trim().is_empty() {
        return (ProfileSpec::default(), Vec::new());
    }
    let spec = match serde_json::from_str::<Value>(json) {
        Ok(value) => reader
            .object(&value, path)
            .map(|map| read_spec(map, ProfileForm::Api, path, &mut reader).to_api())
            .unwrap_or_default(),
        Err(e) => {
            reader.error(path, format!("is not valid JSON: {e}"));
            ProfileSpec::default()
        }
    };
    (spec, reader.violations)
}

/// Reads a partial spec written in the YAML form (a binding's overrides as
/// administrators write them), checked like `read_spec_json`; `Err` is a syntax error
/// with its line.
pub fn read_spec_yaml(
    text: &str,
    path: &FieldPath,
) -> Result<(ProfileSpec, Vec<Violation>), String> {
    let Some(value) = read_fragment(text)? else {
        return Ok((ProfileSpec::default(), Vec::new()));
    };
    let mut reader = Reader::default();
    let spec = reader
        .object(&value, path)
        .map(|map| read_spec(map, ProfileForm::Cli, path, &mut reader).to_api())
        .unwrap_or_default();
    Ok((spec, reader.violations))
}

/// A partial spec in the YAML form, as `read_spec_yaml` reads it; empty for an empty
/// spec.
pub fn write_spec_yaml(spec: &ProfileSpec) -> String {
    let value = spec_value(spec);
    if value.as_object().is_none_or(Map::is_empty) {
        return String::new();
    }
    write_fragment(&value)
}

/// A spec in the YAML form as a JSON value (structured namespace, network and pod).
pub fn spec_value(spec: &ProfileSpec) -> Value {
    let template = ProfileTemplate {
        spec: Some(spec.clone()),
        ..ProfileTemplate::default()
    };
    let (document, _) = ProfileDocument::from_template(&template);
    serde_json::to_value(document.spec).unwrap_or(Value::Null)
}

/// Which of the two shapes a text is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileForm {
    /// The CLI's YAML form (snake_case, structured namespace/network/pod).
    Cli,
    /// The API form (camelCase, `*ConfigJson` strings), optionally wrapped in
    /// `{"profileTemplate": …}` as in a create request.
    Api,
}

/// The text syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFormat {
    Yaml,
    Json,
}

/// How spec fields are spelled in each form. The last three are structured in the
/// YAML form and JSON strings in the API form.
const SPEC_FIELDS: [(&str, &str); 9] = [
    ("container_image", "containerImage"),
    ("runtime_class", "runtimeClass"),
    ("resource_defaults", "resourceDefaults"),
    ("instance_types", "instanceTypes"),
    ("node_selector", "nodeSelector"),
    ("tags", "tags"),
    ("namespace", "namespaceConfigJson"),
    ("network", "networkConfigJson"),
    ("pod", "podTemplateJson"),
];

const RESOURCE_FIELDS: [&str; 4] = ["cpuRequest", "memoryRequest", "cpuLimit", "memoryLimit"];

/// API-form fields the server sets; accepted in pasted text and ignored.
const OUTPUT_ONLY: [&str; 5] = ["id", "organizationId", "createdAt", "updatedAt", "etag"];

/// Keys the runner manages itself on sandbox pods: the runner silently drops pod
/// labels and annotations with these keys (local decision for the list).
const MANAGED_METADATA_KEY: &str = "sandbox-id";
const MANAGED_METADATA_PREFIX: &str = "sandbox.coreweave.com/";

/// The result of reading a profile from text.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedProfile {
    pub format: TextFormat,
    pub form: ProfileForm,
    /// `None` only when the text is not YAML/JSON at all.
    pub document: Option<ProfileDocument>,
    /// Syntax errors, unknown fields, wrong types and every rule the document breaks.
    pub violations: Vec<LocatedViolation>,
}

/// A violation with the position in the text it refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocatedViolation {
    pub violation: Violation,
    pub position: Position,
}

impl ProfileDocument {
    /// The API form, with the structured objects encoded as JSON strings.
    pub fn to_template(&self) -> ProfileTemplate {
        let encode =
            |value: &Option<Value>| value.as_ref().map(Value::to_string).unwrap_or_default();
        ProfileTemplate {
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            labels: self.labels.clone(),
            spec: Some(ProfileSpec {
                container_image: self.spec.container_image.clone(),
                runtime_class: self.spec.runtime_class.clone(),
                resource_defaults: self.spec.resource_defaults.clone(),
                instance_types: self.spec.instance_types.clone(),
                node_selector: self.spec.node_selector.clone(),
                tags: self.spec.tags.clone(),
                namespace_config_json: encode(&self.spec.namespace),
                network_config_json: encode(&self.spec.network),
                pod_template_json: encode(&self.spec.pod),
            }),
            ..ProfileTemplate::default()
        }
    }

    /// The YAML form of an API-form template, with every rule it breaks (a
    /// `*ConfigJson` string that is not JSON is one).
    pub fn from_template(template: &ProfileTemplate) -> (ProfileDocument, Vec<Violation>) {
        let value = serde_json::to_value(template).unwrap_or(Value::Null);
        let mut reader = Reader::default();
        let document = read_document(&value, ProfileForm::Api, &mut reader);
        (document, reader.violations)
    }

    /// Every rule the document breaks, for documents built in code (the console's form)
    /// rather than read from text.
    pub fn validate(&self) -> Vec<Violation> {
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        let mut reader = Reader::default();
        read_document(&value, ProfileForm::Cli, &mut reader);
        reader.violations
    }
}

/// Reads a profile from YAML or JSON text in either form, reporting every problem at
/// its position.
pub fn parse_profile(text: &str) -> ParsedProfile {
    let format = if text.trim_start().starts_with('{') {
        TextFormat::Json
    } else {
        TextFormat::Yaml
    };
    let value = match parse_value(text, format) {
        Ok(value) => value,
        Err((message, position)) => {
            return ParsedProfile {
                format,
                form: ProfileForm::Cli,
                document: None,
                violations: vec![LocatedViolation {
                    violation: Violation::error("", message),
                    position,
                }],
            };
        }
    };
    let form = detect_form(&value);
    let (wrapper, value) = match value.get("profileTemplate") {
        Some(inner) if form == ProfileForm::Api => (Some("profileTemplate"), inner.clone()),
        _ => (None, value),
    };
    let mut reader = Reader::default();
    let document = read_document(&value, form, &mut reader);
    // Mapping positions costs a second parse: only when there is something to place.
    let source_map = if reader.violations.is_empty() {
        SourceMap::default()
    } else {
        SourceMap::of(text).unwrap_or_default()
    };
    let violations = reader
        .violations
        .into_iter()
        .map(|violation| {
            let path = FieldPath::parse(&violation.field).unwrap_or_default();
            let source_path = source_path(&path, form, wrapper);
            LocatedViolation {
                position: source_map.position(&source_path),
                violation,
            }
        })
        .collect();
    ParsedProfile {
        format,
        form,
        document: Some(document),
        violations,
    }
}

/// Writes `document` in `form` as `format` text.
pub fn write_profile(document: &ProfileDocument, form: ProfileForm, format: TextFormat) -> String {
    let value = match form {
        ProfileForm::Cli => serde_json::to_value(document),
        ProfileForm::Api => serde_json::to_value(document.to_template()),
    }
    .unwrap_or(Value::Null);
    match format {
        TextFormat::Json => {
            let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
            text.push('\n');
            text
        }
        TextFormat::Yaml => serde_saphyr::to_string(&value).unwrap_or_default(),
    }
}

/// A YAML (or JSON) fragment, such as the pod template a form edits on its own: `None`
/// when the text is blank, else the value or the syntax error with its line.
pub fn read_fragment(text: &str) -> Result<Option<Value>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_value(text, TextFormat::Yaml)
        .map(Some)
        .map_err(|(message, position)| format!("line {}: {message}", position.line))
}

/// `value` as YAML text, for a fragment shown on its own.
pub fn write_fragment(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_default()
}

fn parse_value(text: &str, format: TextFormat) -> Result<Value, (String, Position)> {
    if text.trim().is_empty() {
        return Err(("the document is empty".into(), Position::START));
    }
    match format {
        TextFormat::Json => serde_json::from_str(text).map_err(|e| {
            let position = Position {
                line: u32::try_from(e.line()).unwrap_or(1).max(1),
                column: u32::try_from(e.column()).unwrap_or(1).max(1),
            };
            (format!("JSON syntax error: {e}"), position)
        }),
        TextFormat::Yaml => serde_saphyr::from_str(text).map_err(|e| {
            let position = e
                .location()
                .map(|l| Position {
                    line: u32::try_from(l.line()).unwrap_or(1).max(1),
                    column: u32::try_from(l.column()).unwrap_or(1).max(1),
                })
                .unwrap_or(Position::START);
            (
                format!("YAML syntax error: {}", e.without_snippet()),
                position,
            )
        }),
    }
}

/// The API form is recognised by its wrapper or its camelCase keys; everything else is
/// read as the CLI's YAML form.
fn detect_form(value: &Value) -> ProfileForm {
    let Some(map) = value.as_object() else {
        return ProfileForm::Cli;
    };
    let api_spec_key = map
        .get("spec")
        .and_then(Value::as_object)
        .is_some_and(|spec| {
            SPEC_FIELDS
                .iter()
                .any(|(yaml, api)| yaml != api && spec.contains_key(*api))
        });
    let api_top_key =
        map.contains_key("displayName") || OUTPUT_ONLY.iter().any(|k| map.contains_key(*k));
    if map.contains_key("profileTemplate") || api_top_key || api_spec_key {
        ProfileForm::Api
    } else {
        ProfileForm::Cli
    }
}

/// Where a YAML-form path is written in a text of `form`: the API form spells keys in
/// camelCase and holds namespace/network/pod inside one string each.
fn source_path(path: &FieldPath, form: ProfileForm, wrapper: Option<&str>) -> FieldPath {
    use crate::field_path::Segment;
    if form == ProfileForm::Cli {
        return path.clone();
    }
    let mut out = wrapper
        .map(|w| FieldPath::root().key(w))
        .unwrap_or_default();
    let segments = path.segments();
    match segments {
        [Segment::Key(top), rest @ ..] if top == "display_name" => {
            out = out.key("displayName");
            for segment in rest {
                out = push(out, segment);
            }
        }
        [Segment::Key(top), Segment::Key(field), rest @ ..] if top == "spec" => {
            out = out.key("spec");
            match SPEC_FIELDS.iter().find(|(yaml, _)| yaml == field) {
                Some((yaml, api)) if matches!(*yaml, "namespace" | "network" | "pod") => {
                    out = out.key(api);
                }
                Some((_, api)) => {
                    out = out.key(api);
                    for segment in rest {
                        out = push(out, segment);
                    }
                }
                None => {
                    out = out.key(field);
                    for segment in rest {
                        out = push(out, segment);
                    }
                }
            }
        }
        _ => {
            for segment in segments {
                out = push(out, segment);
            }
        }
    }
    out
}

fn push(path: FieldPath, segment: &crate::field_path::Segment) -> FieldPath {
    match segment {
        crate::field_path::Segment::Key(key) => path.key(key),
        crate::field_path::Segment::Index(index) => path.index(*index),
    }
}

/// Reads a whole document in `form`, checking every rule on the way. Paths in
/// violations are YAML-form paths whatever the form.
fn read_document(value: &Value, form: ProfileForm, reader: &mut Reader) -> ProfileDocument {
    let root = FieldPath::root();
    let mut document = ProfileDocument::default();
    let Some(map) = reader.object(value, &root) else {
        return document;
    };
    let (name_key, known): (&str, Vec<&str>) = match form {
        ProfileForm::Cli => (
            "display_name",
            vec!["display_name", "description", "labels", "spec"],
        ),
        ProfileForm::Api => {
            let mut known = vec!["displayName", "description", "labels", "spec"];
            known.extend(OUTPUT_ONLY);
            ("displayName", known)
        }
    };
    reader.known_keys(map, &root, &known);
    document.display_name = reader.string(map, name_key, &root);
    let name_path = root.key("display_name");
    if document.display_name.is_empty() {
        reader.error(&name_path, "is required");
    } else if let Some(problem) = crate::names::dns1123_label_problem(&document.display_name) {
        reader.error(
            &name_path,
            format!("must be a DNS-1123 label: it {problem}"),
        );
    }
    document.description = reader.string(map, "description", &root);
    document.labels = reader.string_map(map, "labels", &root);
    for (key, value) in &document.labels {
        check_label(reader, &root.key("labels"), key, Some(value));
    }
    match map.get("spec") {
        None | Some(Value::Null) => reader.error(
            &root.key("spec"),
            "is required (an empty spec {} is allowed)",
        ),
        Some(spec) => {
            if let Some(spec) = reader.object(spec, &root.key("spec")) {
                document.spec = read_spec(spec, form, &root.key("spec"), reader);
            }
        }
    }
    document
}

fn read_spec(
    map: &Map<String, Value>,
    form: ProfileForm,
    path: &FieldPath,
    reader: &mut Reader,
) -> DocumentSpec {
    let key = |yaml: &'static str| -> &'static str {
        match form {
            ProfileForm::Cli => yaml,
            ProfileForm::Api => SPEC_FIELDS
                .iter()
                .find(|(y, _)| *y == yaml)
                .map_or(yaml, |(_, api)| api),
        }
    };
    let known: Vec<&str> = SPEC_FIELDS.iter().map(|(yaml, _)| key(yaml)).collect();
    // Unknown keys are reported under the spelling the author used.
    reader.known_keys(map, path, &known);
    // Reading by the form's key but reporting under the YAML key: read into a map
    // re-keyed to the YAML names.
    let renamed: Map<String, Value> = SPEC_FIELDS
        .iter()
        .filter_map(|(yaml, _)| map.get(key(yaml)).map(|v| (yaml.to_string(), v.clone())))
        .collect();
    let map = &renamed;
    let mut spec = DocumentSpec {
        container_image: reader.string(map, "container_image", path),
        runtime_class: reader.string(map, "runtime_class", path),
        instance_types: reader.string_list(map, "instance_types", path),
        node_selector: reader.string_map(map, "node_selector", path),
        tags: reader.string_list(map, "tags", path),
        ..DocumentSpec::default()
    };
    if !spec.container_image.is_empty()
        && let Some(problem) = crate::image::image_reference_problem(&spec.container_image)
    {
        reader.error(&path.key("container_image"), problem);
    }
    if !spec.runtime_class.is_empty()
        && let Some(problem) = crate::names::dns1123_subdomain_problem(&spec.runtime_class)
    {
        reader.error(
            &path.key("runtime_class"),
            format!("must be a DNS-1123 subdomain: it {problem}"),
        );
    }
    for (i, instance_type) in spec.instance_types.iter().enumerate() {
        if let Some(problem) = crate::names::dns1123_label_problem(instance_type) {
            reader.error(
                &path.key("instance_types").index(i),
                format!("{instance_type:?} is not an instance type name: it {problem}"),
            );
        }
    }
    for (key, value) in &spec.node_selector {
        check_label(reader, &path.key("node_selector"), key, Some(value));
    }
    for (i, tag) in spec.tags.iter().enumerate() {
        if tag.trim().is_empty() {
            reader.error(&path.key("tags").index(i), "must not be empty");
        }
    }
    if let Some(resources) = map.get("resource_defaults").filter(|v| !v.is_null()) {
        spec.resource_defaults = read_resources(resources, &path.key("resource_defaults"), reader);
    }
    for (yaml, api) in [
        ("namespace", "namespaceConfigJson"),
        ("network", "networkConfigJson"),
        ("pod", "podTemplateJson"),
    ] {
        let field_path = path.key(yaml);
        let value = match (form, map.get(yaml)) {
            (_, None | Some(Value::Null)) => None,
            (ProfileForm::Cli, Some(value)) => Some(value.clone()),
            (ProfileForm::Api, Some(Value::String(text))) if text.trim().is_empty() => None,
            (ProfileForm::Api, Some(Value::String(text))) => match serde_json::from_str(text) {
                Ok(value) => Some(value),
                Err(e) => {
                    reader.error(&field_path, format!("{api} does not hold valid JSON: {e}"));
                    None
                }
            },
            (ProfileForm::Api, Some(other)) => {
                reader.error(
                    &field_path,
                    format!("{api} must be a string holding JSON, not {}", kind(other)),
                );
                None
            }
        };
        if let Some(value) = &value {
            match yaml {
                "namespace" => {
                    read_namespace(value, &field_path, reader);
                }
                "network" => {
                    read_network(value, &field_path, reader);
                }
                _ => check_pod(value, &field_path, reader),
            }
        }
        match yaml {
            "namespace" => spec.namespace = value,
            "network" => spec.network = value,
            _ => spec.pod = value,
        }
    }
    spec
}

fn read_resources(
    value: &Value,
    path: &FieldPath,
    reader: &mut Reader,
) -> Option<ResourceDefaults> {
    let map = reader.object(value, path)?;
    reader.known_keys(map, path, &RESOURCE_FIELDS);
    let mut text = |key: &str| reader.string_or_number(map, key, path);
    let resources = ResourceDefaults {
        cpu_request: text("cpuRequest"),
        memory_request: text("memoryRequest"),
        cpu_limit: text("cpuLimit"),
        memory_limit: text("memoryLimit"),
    };
    let mut parsed = |key: &str, text: &str| -> Option<Quantity> {
        if text.is_empty() {
            return None;
        }
        match Quantity::parse(text) {
            Ok(q) if q.is_negative() => {
                reader.error(&path.key(key), "must not be negative");
                None
            }
            Ok(q) => Some(q),
            Err(problem) => {
                reader.error(&path.key(key), problem);
                None
            }
        }
    };
    let cpu_request = parsed("cpuRequest", &resources.cpu_request);
    let memory_request = parsed("memoryRequest", &resources.memory_request);
    let cpu_limit = parsed("cpuLimit", &resources.cpu_limit);
    let memory_limit = parsed("memoryLimit", &resources.memory_limit);
    for (key, request, limit, request_text, limit_text) in [
        (
            "cpuRequest",
            cpu_request,
            cpu_limit,
            &resources.cpu_request,
            &resources.cpu_limit,
        ),
        (
            "memoryRequest",
            memory_request,
            memory_limit,
            &resources.memory_request,
            &resources.memory_limit,
        ),
    ] {
        if let (Some(request), Some(limit)) = (request, limit)
            && request > limit
        {
            let limit_key = if key == "cpuRequest" {
                "cpuLimit"
            } else {
                "memoryLimit"
            };
            reader.error(
                &path.key(key),
                format!("{request_text} is more than {limit_key} {limit_text}: a request must not exceed its limit"),
            );
        }
    }
    Some(resources)
}

/// The pod fragment: `{metadata: {labels, annotations}, spec: {...PodSpec}, placement:
/// {instanceTypes}}`. PodSpec fields are the cluster's to judge; what is checked here is
/// what the runner would silently change.
fn check_pod(value: &Value, path: &FieldPath, reader: &mut Reader) {
    let Some(map) = reader.object(value, path) else {
        return;
    };
    reader.known_keys(map, path, &["metadata", "spec", "placement"]);
    if let Some(metadata) = map.get("metadata").filter(|v| !v.is_null()) {
        let path = path.key("metadata");
        if let Some(metadata) = reader.object(metadata, &path) {
            reader.known_keys(metadata, &path, &["labels", "annotations"]);
            for field in ["labels", "annotations"] {
                let entries = reader.string_map(metadata, field, &path);
                for (key, value) in &entries {
                    let value = (field == "labels").then_some(value.as_str());
                    check_label(reader, &path.key(field), key, value);
                    if key == MANAGED_METADATA_KEY || key.starts_with(MANAGED_METADATA_PREFIX) {
                        reader.warning(
                            &path.key(field).key(key),
                            format!("the runner manages {key:?} itself and drops this entry from sandbox pods"),
                        );
                    }
                }
            }
        }
    }
    if let Some(spec) = map.get("spec").filter(|v| !v.is_null()) {
        reader.object(spec, &path.key("spec"));
    }
    if let Some(placement) = map.get("placement").filter(|v| !v.is_null()) {
        let path = path.key("placement");
        if let Some(placement) = reader.object(placement, &path) {
            reader.known_keys(placement, &path, &["instanceTypes"]);
            if !reader
                .string_list(placement, "instanceTypes", &path)
                .is_empty()
            {
                reader.warning(
                    &path.key("instanceTypes"),
                    "to pin instance types, prefer spec.instance_types; pod.placement is for cases that need PodSpec depth",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
