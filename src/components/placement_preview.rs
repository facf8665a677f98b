//! "Will it fit": a developer describes a sandbox and sees which runner would take it
//! and, for every other runner, why not. It runs `sandbox_api::placement::place`, the
//! code the gateway runs on start, on the same data the gateway has.

use std::collections::HashMap;

use leptos::prelude::*;
use sandbox_api::discovery::AvailableRunner;
use sandbox_api::filters::DiscoveryFilter;
use sandbox_api::format::parse_scaled;
use sandbox_api::placement::{CandidateRunner, SandboxCeiling, place, resolve_bindings};
use sandbox_api::profile::ProfileSpec;
use sandbox_api::quantity::Quantity;
use sandbox_api::sandbox::{GpuRequest, NetworkOptions, ResourceRequest, StartSandboxRequest};

use crate::api::{ApiError, use_api};
use crate::components::error_panel::ErrorPanel;
use crate::connectivity::use_connectivity;

/// What the request asks for, as typed.
#[derive(Clone, Default)]
struct Ask {
    cpu: String,
    memory_gib: String,
    gpus: String,
    gpu_type: String,
    egress: String,
    ingress: String,
    profile: String,
}

impl Ask {
    /// The request the fields describe, or what in them cannot be read: a preview never
    /// leaves out what was typed and answers as if it were not there.
    fn read(&self) -> Result<StartSandboxRequest, Vec<String>> {
        let mut problems = Vec::new();
        let cpu = self.cpu.trim();
        if !cpu.is_empty() && !Quantity::parse(cpu).is_ok_and(|q| !q.is_negative()) {
            problems.push(format!(
                "CPU: {cpu:?} is not an amount of vCPU (e.g. 2, 0.5 or 500m)."
            ));
        }
        let memory = read_memory(self.memory_gib.trim()).unwrap_or_else(|problem| {
            problems.push(problem);
            String::new()
        });
        let gpus = self.gpus.trim();
        let gpu_count = if gpus.is_empty() {
            0
        } else {
            gpus.parse::<u32>().unwrap_or_else(|_| {
                problems.push(format!(
                    "GPUs: {gpus:?} is not a whole number of GPUs (0 or more)."
                ));
                0
            })
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(StartSandboxRequest {
            command: "preview".into(),
            container_image: "preview".into(),
            resources: Some(ResourceRequest {
                cpu: cpu.to_owned(),
                memory,
                gpu: Some(GpuRequest {
                    gpu_count: i64::from(gpu_count),
                    gpu_type: self.gpu_type.trim().to_owned(),
                    gpu_memory_gb: 0,
                }),
            }),
            network: Some(NetworkOptions {
                egress_mode: self.egress.trim().to_owned(),
                ingress_mode: self.ingress.trim().to_owned(),
                exposed_ports: Vec::new(),
            }),
            profile_names: Some(self.profile.trim().to_owned())
                .filter(|p| !p.is_empty())
                .into_iter()
                .collect(),
            ..StartSandboxRequest::default()
        })
    }
}

/// Memory as typed: a number of GiB (`8`, `0.5`), or an amount with its own unit
/// (`512Mi`, `2Ti`), as a Kubernetes quantity; empty for none.
fn read_memory(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Ok(String::new());
    }
    if let Some(mib) = parse_scaled(text, 1024) {
        return Ok(format!("{mib}Mi"));
    }
    let has_unit = text.ends_with(|c: char| c.is_ascii_alphabetic());
    match Quantity::parse(text) {
        Ok(quantity) if has_unit && !quantity.is_negative() => Ok(text.to_owned()),
        _ => Err(format!(
            "Memory: {text:?} is neither a number of GiB (e.g. 8) nor an amount with a unit (e.g. 512Mi, 2Ti)."
        )),
    }
}

/// The runners as placement sees them, from the control plane (bindings, states) and
/// discovery (what is free now).
pub async fn candidates(api: crate::api::Api) -> Result<Vec<CandidateRunner>, ApiError> {
    let runners = api.list_managed_runners().await?;
    let templates: HashMap<String, (String, ProfileSpec)> = api
        .list_profile_templates()
        .await?
        .into_iter()
        .map(|t| (t.id, (t.display_name, t.spec.unwrap_or_default())))
        .collect();
    let live: HashMap<String, AvailableRunner> = api
        .list_available_runners(&DiscoveryFilter::default())
        .await?
        .into_iter()
        .map(|r| (r.runner_id.clone(), r))
        .collect();
    Ok(runners
        .into_iter()
        .map(|runner| {
            let runner_id = runner
                .identity
                .as_ref()
                .map(|i| i.runner_id.clone())
                .unwrap_or_default();
            let available = live.get(&runner_id).cloned().unwrap_or_default();
            let resources = available.resources.clone().unwrap_or_default();
            CandidateRunner {
                bindings: resolve_bindings(&runner.profile_bindings, |id| {
                    templates.get(id).cloned()
                })
                .into(),
                runner_id,
                install_status: runner.install_status,
                connection_status: runner.connection_status,
                healthy: available.healthy,
                available_cpu_millicores: resources.available_cpu_millicores,
                available_memory_bytes: resources.available_memory_bytes,
                available_gpus: resources.available_gpu_count,
                gpu_types: available
                    .capabilities
                    .unwrap_or_default()
                    .supported_gpu_types,
                zone_defaults: ProfileSpec::default(),
            }
        })
        .collect())
}

#[component]
pub fn WillItFit() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let ask = RwSignal::new(Ask::default());
    let fleet = LocalResource::new(move || {
        connectivity.recoveries();
        candidates(api.clone())
    });
    let field = move |id: &'static str,
                      label: &'static str,
                      hint: &'static str,
                      get: fn(&Ask) -> String,
                      put: fn(&mut Ask, String)| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input
                    id=id
                    type="text"
                    autocomplete="off"
                    placeholder=hint
                    prop:value=move || ask.with(get)
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        ask.update(|a| put(a, value));
                    }
                />
            </div>
        }
    };
    view! {
        <div class="card will-it-fit">
            <form class="filters" aria-label="Will it fit" on:submit=|ev| ev.prevent_default()>
                {field("fit-cpu", "CPU (vCPU)", "e.g. 2 or 500m", |a| a.cpu.clone(), |a, v| a.cpu = v)}
                {field("fit-memory", "Memory (GiB)", "e.g. 8", |a| a.memory_gib.clone(), |a, v| a.memory_gib = v)}
                {field("fit-gpus", "GPUs", "e.g. 1", |a| a.gpus.clone(), |a, v| a.gpus = v)}
                {field("fit-gpu-type", "GPU type", "e.g. H100", |a| a.gpu_type.clone(), |a, v| a.gpu_type = v)}
                {field("fit-egress", "Egress mode", "profile default", |a| a.egress.clone(), |a, v| a.egress = v)}
                {field("fit-ingress", "Ingress mode", "none", |a| a.ingress.clone(), |a, v| a.ingress = v)}
                {field("fit-profile", "Profile", "each runner's default", |a| a.profile.clone(), |a, v| a.profile = v)}
            </form>
            {move || match fleet.get() {
                None => view! { <p class="loading" role="status">"Loading runners…"</p> }.into_any(),
                Some(Ok(candidates)) => match ask.with(Ask::read) {
                    Ok(request) => view! { <Verdict request candidates /> }.into_any(),
                    Err(problems) => view! {
                        <ul class="problems ask-problems" role="status" aria-label="What cannot be read">
                            {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                        </ul>
                    }.into_any(),
                },
                Some(Err(error)) => view! { <ErrorPanel title="Could not load what placement needs" error /> }.into_any(),
            }}
        </div>
    }
}

#[component]
pub fn Verdict(request: StartSandboxRequest, candidates: Vec<CandidateRunner>) -> impl IntoView {
    // The gateway's per-sandbox ceiling is its own configuration; the preview assumes
    // the platform default.
    let outcome = place(&request, &candidates, &SandboxCeiling::default());
    let (headline, rejections) = match outcome {
        Ok(placed) => (
            view! {
                <p class="verdict fits" role="status">
                    "Fits: it would run on " <strong class="fit-runner">{placed.runner_id}</strong>
                    " under profile " <strong>{placed.profile_name}</strong> "."
                </p>
            }
            .into_any(),
            placed.rejections,
        ),
        Err(failure) => (
            view! { <p class="verdict no-fit" role="status">"Does not fit on any runner now."</p> }
                .into_any(),
            failure.rejections,
        ),
    };
    view! {
        {headline}
        {(!rejections.is_empty()).then(|| view! {
            <ul class="rejections" aria-label="Runners that would not take it">
                {rejections
                    .into_iter()
                    .map(|r| {
                        let reasons: Vec<String> = r.reasons.iter().map(ToString::to_string).collect();
                        view! { <li><strong>{r.candidate()}</strong> ": " {reasons.join("; ")}</li> }
                    })
                    .collect_view()}
            </ul>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(cpu: &str, memory: &str, gpus: &str) -> Ask {
        Ask {
            cpu: cpu.into(),
            memory_gib: memory.into(),
            gpus: gpus.into(),
            ..Ask::default()
        }
    }

    #[test]
    fn what_cannot_be_read_is_said_once_and_never_left_out() {
        for (cpu, memory, gpus, field) in [
            ("abc", "", "", "CPU"),
            ("-1", "", "", "CPU"),
            ("", "abc", "", "Memory"),
            ("", "-2Gi", "", "Memory"),
            ("", "", "1.5", "GPUs"),
            ("", "", "x", "GPUs"),
            ("", "", "-1", "GPUs"),
        ] {
            let problems = ask(cpu, memory, gpus).read().unwrap_err();
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].starts_with(field), "{problems:?}");
        }
    }

    #[test]
    fn memory_is_gib_unless_it_has_a_unit_of_its_own() {
        let memory = |text: &str| ask("", text, "").read().unwrap().resources.unwrap().memory;
        assert_eq!(memory("8"), "8192Mi");
        assert_eq!(memory("0.5"), "512Mi");
        assert_eq!(memory("2000Gi"), "2000Gi");
        assert_eq!(memory("2Ti"), "2Ti");
        assert_eq!(memory("512Mi"), "512Mi");
        assert_eq!(memory(""), "");
        let gpus = ask("500m", "", "2").read().unwrap().resources.unwrap();
        assert_eq!(
            (gpus.cpu.as_str(), gpus.gpu.unwrap().gpu_count),
            ("500m", 2)
        );
    }
}
