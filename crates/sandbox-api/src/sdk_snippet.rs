//! A start request written as a call to the `cwsandbox` Python client
//! (`Sandbox.run(command, *args, **options)`), for the launch form's "copy as Python".
//! The API key is left to the client, which reads it from `CWSANDBOX_API_KEY`; so is
//! the address, from `CWSANDBOX_BASE_URL` (`Sandbox.run` takes no `base_url`), which
//! the snippet sets only if the environment does not.

use std::fmt::Write;

use crate::sandbox::{GpuRequest, ResourceRequest, StartSandboxRequest};

/// The Python that starts the sandbox `request` describes, against `base_url` (left to
/// the client's default when empty).
pub fn python_snippet(request: &StartSandboxRequest, base_url: &str) -> String {
    let mut arguments: Vec<String> = std::iter::once(&request.command)
        .chain(&request.args)
        .filter(|a| !a.is_empty())
        .map(|a| python_str(a))
        .collect();
    let mut keyword = |name: &str, value: String| arguments.push(format!("{name}={value}"));
    if !request.container_image.is_empty() {
        keyword("container_image", python_str(&request.container_image));
    }
    for (name, values) in [
        ("profile_names", &request.profile_names),
        ("profile_ids", &request.profile_ids),
        ("runner_ids", &request.runner_ids),
        ("tags", &request.tags),
    ] {
        if !values.is_empty() {
            keyword(name, python_list(values.iter().map(|v| python_str(v))));
        }
    }
    if let Some(resources) = resource_options(request) {
        keyword("resources", resources);
    }
    if let Some(network) = &request.network {
        let mut options = Vec::new();
        if !network.ingress_mode.is_empty() {
            options.push(format!(
                "ingress_mode={}",
                python_str(&network.ingress_mode)
            ));
        }
        if !network.exposed_ports.is_empty() {
            let ports: Vec<String> = network.exposed_ports.iter().map(i32::to_string).collect();
            // A one-element tuple needs its trailing comma.
            options.push(format!("exposed_ports=({},)", ports.join(", ")));
        }
        if !network.egress_mode.is_empty() {
            options.push(format!("egress_mode={}", python_str(&network.egress_mode)));
        }
        if !options.is_empty() {
            keyword("network", format!("NetworkOptions({})", options.join(", ")));
        }
    }
    if !request.ports.is_empty() {
        let ports = request.ports.iter().map(|port| {
            let mut entries = vec![("container_port", port.container_port.to_string())];
            for (key, value) in [("name", &port.name), ("protocol", &port.protocol)] {
                if !value.is_empty() {
                    entries.push((key, python_str(value)));
                }
            }
            python_dict(entries.into_iter().map(|(k, v)| (python_str(k), v)))
        });
        keyword("ports", python_list(ports));
    }
    if !request.environment_variables.is_empty() {
        let env = request
            .environment_variables
            .iter()
            .map(|(k, v)| (python_str(k), python_str(v)));
        keyword("environment_variables", python_dict(env));
    }
    if request.max_lifetime_seconds > 0 {
        keyword(
            "max_lifetime_seconds",
            request.max_lifetime_seconds.to_string(),
        );
    }
    let imports = [
        ("NetworkOptions", request.network.is_some()),
        (
            "ResourceOptions",
            arguments.iter().any(|a| a.starts_with("resources=")),
        ),
        ("Sandbox", true),
    ]
    .into_iter()
    .filter(|(_, used)| *used)
    .map(|(name, _)| name)
    .collect::<Vec<_>>()
    .join(", ");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# pip install cwsandbox==0.26.2; the API key is read from CWSANDBOX_API_KEY"
    );
    if !base_url.is_empty() {
        let _ = writeln!(out, "import os");
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "from cwsandbox import {imports}");
    let _ = writeln!(out);
    if !base_url.is_empty() {
        let _ = writeln!(
            out,
            "os.environ.setdefault(\"CWSANDBOX_BASE_URL\", {})",
            python_str(base_url)
        );
    }
    if request.container_image.is_empty() {
        // The gateway would take the profile's image; this client sends its own default.
        let _ = writeln!(
            out,
            "# No image named: this client then asks for its default image, not the profile's;"
        );
        let _ = writeln!(
            out,
            "# add container_image=... to run what the console would."
        );
    }
    let _ = writeln!(out, "sandbox = Sandbox.run(");
    for argument in &arguments {
        let _ = writeln!(out, "    {argument},");
    }
    let _ = writeln!(out, ")");
    let _ = writeln!(out, "print(sandbox.sandbox_id)");
    out
}

/// `ResourceOptions(...)` from the request's resources; the separate requests and
/// limits, when given, are what they say.
fn resource_options(request: &StartSandboxRequest) -> Option<String> {
    let amounts = |r: &ResourceRequest| {
        [("cpu", &r.cpu), ("memory", &r.memory)]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (python_str(k), python_str(v)))
            .collect::<Vec<_>>()
    };
    let requests = request
        .resource_requests
        .as_ref()
        .or(request.resources.as_ref())
        .map(amounts)
        .unwrap_or_default();
    let limits = request
        .resource_limits
        .as_ref()
        .map(amounts)
        .unwrap_or_default();
    let gpu = [
        &request.resources,
        &request.resource_requests,
        &request.resource_limits,
    ]
    .into_iter()
    .flatten()
    .find_map(|r| r.gpu.as_ref().filter(|g| g.gpu_count > 0))
    .map(gpu_dict);
    let mut options = Vec::new();
    if !requests.is_empty() {
        options.push(format!("requests={}", python_dict(requests)));
    }
    if !limits.is_empty() {
        options.push(format!("limits={}", python_dict(limits)));
    }
    if let Some(gpu) = gpu {
        options.push(format!("gpu={gpu}"));
    }
    (!options.is_empty()).then(|| format!("ResourceOptions({})", options.join(", ")))
}

fn gpu_dict(gpu: &GpuRequest) -> String {
    let mut entries = vec![(python_str("count"), gpu.gpu_count.to_string())];
    if !gpu.gpu_type.is_empty() {
        entries.push((python_str("type"), python_str(&gpu.gpu_type)));
    }
    python_dict(entries)
}

fn python_list(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(", "))
}

fn python_dict(entries: impl IntoIterator<Item = (String, String)>) -> String {
    let entries: Vec<String> = entries
        .into_iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    format!("{{{}}}", entries.join(", "))
}

/// A Python string literal holding exactly `text`.
fn python_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::sandbox::NetworkOptions;

    #[test]
    fn a_full_request_becomes_one_sandbox_run_call() {
        let request = StartSandboxRequest {
            command: "python".to_owned(),
            args: vec!["-c".to_owned(), "print(\"hi\")\n".to_owned()],
            container_image: "python:3.11".to_owned(),
            profile_names: vec!["gpu-large".to_owned()],
            tags: vec!["demo".to_owned()],
            resources: Some(ResourceRequest {
                cpu: "2".to_owned(),
                memory: "4Gi".to_owned(),
                gpu: Some(GpuRequest {
                    gpu_count: 1,
                    gpu_type: "A100".to_owned(),
                    gpu_memory_gb: 0,
                }),
            }),
            network: Some(NetworkOptions {
                ingress_mode: String::new(),
                exposed_ports: vec![8080],
                egress_mode: "internet".to_owned(),
            }),
            environment_variables: BTreeMap::from([("MODE".to_owned(), "fast".to_owned())]),
            max_lifetime_seconds: 600,
            ..StartSandboxRequest::default()
        };
        let snippet = python_snippet(&request, "https://api.example.com");
        assert_eq!(
            snippet,
            r#"# pip install cwsandbox==0.26.2; the API key is read from CWSANDBOX_API_KEY
import os

from cwsandbox import NetworkOptions, ResourceOptions, Sandbox

os.environ.setdefault("CWSANDBOX_BASE_URL", "https://api.example.com")
sandbox = Sandbox.run(
    "python",
    "-c",
    "print(\"hi\")\n",
    container_image="python:3.11",
    profile_names=["gpu-large"],
    tags=["demo"],
    resources=ResourceOptions(requests={"cpu": "2", "memory": "4Gi"}, gpu={"count": 1, "type": "A100"}),
    network=NetworkOptions(exposed_ports=(8080,), egress_mode="internet"),
    environment_variables={"MODE": "fast"},
    max_lifetime_seconds=600,
)
print(sandbox.sandbox_id)
"#
        );
    }

    #[test]
    fn a_minimal_request_imports_only_sandbox() {
        let request = StartSandboxRequest {
            command: "sleep".to_owned(),
            args: vec!["60".to_owned()],
            container_image: "busybox".to_owned(),
            ..StartSandboxRequest::default()
        };
        let snippet = python_snippet(&request, "");
        assert!(snippet.contains("from cwsandbox import Sandbox\n"));
        assert!(!snippet.contains("CWSANDBOX_BASE_URL\","));
        assert!(snippet.contains("    \"sleep\",\n    \"60\",\n"));
    }

    #[test]
    fn strings_are_escaped_for_python() {
        assert_eq!(python_str("a\"b\\c\u{1}"), r#""a\"b\\c\u0001""#);
    }
}
