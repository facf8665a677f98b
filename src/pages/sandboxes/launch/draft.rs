//! The launch form as typed, and the start request it makes.

use std::collections::BTreeMap;

use sandbox_api::sandbox::{GpuRequest, NetworkOptions, ResourceRequest, StartSandboxRequest};
use serde::{Deserialize, Serialize};

/// The form as typed (kept in `sessionStorage` between reloads, so every field reads
/// back with its default when a stored draft lacks it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Draft {
    pub profile: String,
    pub runner: String,
    pub image: String,
    pub command: String,
    pub args: String,
    pub cpu: String,
    pub memory: String,
    pub gpus: String,
    pub gpu_type: String,
    pub env: String,
    pub egress: String,
    pub ingress: String,
    pub ports: String,
    pub tags: String,
    pub max_lifetime_seconds: String,
}

impl Draft {
    /// The start request, and what the form itself could not read (the request's own
    /// rules are `sandbox_api::start_rules`).
    pub fn request(&self) -> (StartSandboxRequest, Vec<String>) {
        let mut problems = Vec::new();
        let args = shell_words::split(&self.args).unwrap_or_else(|_| {
            problems.push("Arguments: a quote is not closed.".to_owned());
            Vec::new()
        });
        let mut environment_variables = BTreeMap::new();
        for line in self.env.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match line.split_once('=') {
                Some((key, value)) if !key.trim().is_empty() => {
                    environment_variables.insert(key.trim().to_owned(), value.to_owned());
                }
                _ => problems.push(format!("Environment: {line:?} is not NAME=value.")),
            }
        }
        let gpus = whole_number(&self.gpus, "GPUs", &mut problems);
        let lifetime = whole_number(&self.max_lifetime_seconds, "Max lifetime", &mut problems);
        let exposed_ports: Vec<i32> = list(&self.ports)
            .into_iter()
            .filter_map(|p| match p.parse::<i32>() {
                Ok(port) if (1..=65535).contains(&port) => Some(port),
                _ => {
                    problems.push(format!("Exposed ports: {p:?} is not a port (1–65535)."));
                    None
                }
            })
            .collect();
        let request = StartSandboxRequest {
            command: self.command.trim().to_owned(),
            args,
            container_image: self.image.trim().to_owned(),
            tags: list(&self.tags),
            environment_variables,
            resources: Some(ResourceRequest {
                cpu: self.cpu.trim().to_owned(),
                memory: self.memory.trim().to_owned(),
                gpu: (gpus > 0 || !self.gpu_type.trim().is_empty()).then(|| GpuRequest {
                    gpu_count: gpus,
                    gpu_type: self.gpu_type.trim().to_owned(),
                    gpu_memory_gb: 0,
                }),
            }),
            network: Some(NetworkOptions {
                ingress_mode: self.ingress.clone(),
                exposed_ports,
                egress_mode: self.egress.clone(),
            }),
            profile_names: list(&self.profile),
            runner_ids: list(&self.runner),
            max_lifetime_seconds: i32::try_from(lifetime).unwrap_or(i32::MAX),
            ..StartSandboxRequest::default()
        };
        (request, problems)
    }

    /// Another profile chosen: what the old one offered (its runners, its modes) may
    /// not be offered now, so those choices are cleared.
    pub fn choose_profile(&mut self, profile: String) {
        self.profile = profile;
        self.runner.clear();
        self.egress.clear();
        self.ingress.clear();
    }
}

/// The launch form's label for a start request's field path (`resources.cpu` → CPU),
/// so the request's rules speak in the form's words.
pub fn label(field: &str) -> Option<&'static str> {
    let mut parts = field.split(['.', '[']);
    let first = parts.next()?;
    let resource = |rest: Option<&str>, then: Option<&str>| match (rest, then) {
        (Some("cpu"), _) => Some("CPU"),
        (Some("memory"), _) => Some("Memory"),
        (Some("gpu"), Some("gpu_type")) => Some("GPU type"),
        (Some("gpu"), _) => Some("GPUs"),
        _ => None,
    };
    match first {
        "command" => Some("Command"),
        "container_image" => Some("Image"),
        "args" => Some("Arguments"),
        "tags" => Some("Tags"),
        "environment_variables" => Some("Environment"),
        "max_lifetime_seconds" => Some("Max lifetime"),
        "network" | "ports" => Some("Exposed ports"),
        "resources" | "resource_requests" | "resource_limits" => {
            resource(parts.next(), parts.next())
        }
        "profile_names" => Some("Profile"),
        "runner_ids" => Some("Runner"),
        _ => None,
    }
}

/// A count typed in field `what`: empty is zero; anything but a whole number is a
/// problem (and zero).
fn whole_number(text: &str, what: &str, problems: &mut Vec<String>) -> i64 {
    let text = text.trim();
    if text.is_empty() {
        return 0;
    }
    text.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .unwrap_or_else(|| {
            problems.push(format!("{what}: {text:?} is not a whole number."));
            0
        })
}

/// A comma-separated list, blanks dropped.
fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_read_as_the_forms_labels() {
        assert_eq!(label("command"), Some("Command"));
        assert_eq!(label("container_image"), Some("Image"));
        assert_eq!(label("resource_requests.memory"), Some("Memory"));
        assert_eq!(label("resources.gpu.gpu_count"), Some("GPUs"));
        assert_eq!(label("resources.gpu.gpu_type"), Some("GPU type"));
        assert_eq!(label("network.exposed_ports[0]"), Some("Exposed ports"));
        assert_eq!(label("pod_annotations.x"), None);
    }

    #[test]
    fn an_empty_draft_asks_for_nothing_and_has_no_problems() {
        let (request, problems) = Draft::default().request();
        assert!(problems.is_empty());
        assert_eq!(request.command, "");
        assert_eq!(request.max_lifetime_seconds, 0);
        let resources = request.resources.unwrap();
        assert_eq!((resources.cpu.as_str(), resources.gpu), ("", None));
        let network = request.network.unwrap();
        assert!(network.exposed_ports.is_empty());
    }

    #[test]
    fn every_field_reaches_the_request_trimmed_and_split() {
        let draft = Draft {
            profile: " gpu-workbench ".into(),
            runner: "r1, r2,".into(),
            image: " python:3.12 ".into(),
            command: " python ".into(),
            args: r#"-c "print('hi there')""#.into(),
            cpu: " 500m".into(),
            memory: "1Gi ".into(),
            gpus: "2".into(),
            gpu_type: " H100 ".into(),
            env: "A=1\n\n B = x=y \n".into(),
            egress: "allowlist".into(),
            ingress: "public".into(),
            ports: "8080, 8443".into(),
            tags: "team-a, ,experiment".into(),
            max_lifetime_seconds: "3600".into(),
        };
        let (request, problems) = draft.request();
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(request.command, "python");
        assert_eq!(request.args, ["-c", "print('hi there')"]);
        assert_eq!(request.container_image, "python:3.12");
        assert_eq!(request.profile_names, ["gpu-workbench"]);
        assert_eq!(request.runner_ids, ["r1", "r2"]);
        assert_eq!(request.tags, ["team-a", "experiment"]);
        assert_eq!(
            request.environment_variables,
            BTreeMap::from([("A".into(), "1".into()), ("B".into(), " x=y".into())])
        );
        let resources = request.resources.unwrap();
        assert_eq!(
            (resources.cpu.as_str(), resources.memory.as_str()),
            ("500m", "1Gi")
        );
        let gpu = resources.gpu.unwrap();
        assert_eq!((gpu.gpu_count, gpu.gpu_type.as_str()), (2, "H100"));
        let network = request.network.unwrap();
        assert_eq!(network.exposed_ports, [8080, 8443]);
        assert_eq!(
            (network.egress_mode.as_str(), network.ingress_mode.as_str()),
            ("allowlist", "public")
        );
        assert_eq!(request.max_lifetime_seconds, 3600);
    }

    #[test]
    fn a_gpu_type_alone_asks_for_a_gpu_request_with_no_count() {
        let draft = Draft {
            gpu_type: "A100".into(),
            ..Draft::default()
        };
        let gpu = draft.request().0.resources.unwrap().gpu.unwrap();
        assert_eq!((gpu.gpu_count, gpu.gpu_type.as_str()), (0, "A100"));
    }

    #[test]
    fn what_the_form_cannot_read_is_named_field_by_field() {
        let draft = Draft {
            args: "'unclosed".into(),
            env: "NO_EQUALS\n=value".into(),
            gpus: "-1".into(),
            max_lifetime_seconds: "1.5".into(),
            ports: "80, 70000, http".into(),
            ..Draft::default()
        };
        let (request, problems) = draft.request();
        assert_eq!(
            problems,
            [
                "Arguments: a quote is not closed.",
                "Environment: \"NO_EQUALS\" is not NAME=value.",
                "Environment: \"=value\" is not NAME=value.",
                "GPUs: \"-1\" is not a whole number.",
                "Max lifetime: \"1.5\" is not a whole number.",
                "Exposed ports: \"70000\" is not a port (1–65535).",
                "Exposed ports: \"http\" is not a port (1–65535).",
            ]
        );
        assert!(request.args.is_empty());
        assert_eq!(request.network.unwrap().exposed_ports, [80]);
    }

    #[test]
    fn a_lifetime_beyond_32_bits_is_capped() {
        let draft = Draft {
            max_lifetime_seconds: "99999999999".into(),
            ..Draft::default()
        };
        assert_eq!(draft.request().0.max_lifetime_seconds, i32::MAX);
    }

    #[test]
    fn choosing_another_profile_clears_what_the_old_one_offered() {
        let mut draft = Draft {
            profile: "a".into(),
            runner: "r1".into(),
            egress: "allowlist".into(),
            ingress: "public".into(),
            image: "kept".into(),
            ..Draft::default()
        };
        draft.choose_profile("b".into());
        assert_eq!(
            draft,
            Draft {
                profile: "b".into(),
                image: "kept".into(),
                ..Draft::default()
            }
        );
    }
}
