//! Launch a sandbox: pick a profile by what it offers, describe the sandbox, see
//! before submitting whether it fits (the gateway's placement, run here) and every
//! rule it breaks, then start it. The draft survives a reload; the request can be
//! copied as a curl command or as Python for the `cwsandbox` client (the token left
//! out of both).

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use sandbox_api::discovery::ProfileSummary;
use sandbox_api::filters::DiscoveryFilter;
use sandbox_api::format::{format_bytes, format_cpu};
use sandbox_api::placement::{CandidateRunner, RejectionReason, SandboxCeiling, place};
use sandbox_api::placement_fixes::{Fix, resource_fixes};
use sandbox_api::sandbox::{GpuRequest, NetworkOptions, ResourceRequest, StartSandboxRequest};
use sandbox_api::sdk_snippet::python_snippet;
use sandbox_api::start_rules::validate_start_request;
use serde::{Deserialize, Serialize};

use crate::api::use_api;
use crate::components::copy_block::{CopyBlock, curl_command};
use crate::components::error_panel::ErrorPanel;
use crate::components::placement_preview::{Verdict, candidates};
use crate::connectivity::use_connectivity;
use crate::drafts;
use crate::embed::Embedding;
use crate::query::link;

/// Where the draft is kept between reloads (this tab only).
const DRAFT_KEY: &str = "sandbox-console.launch-draft";

/// The form as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct Draft {
    profile: String,
    runner: String,
    image: String,
    command: String,
    args: String,
    cpu: String,
    memory: String,
    gpus: String,
    gpu_type: String,
    env: String,
    egress: String,
    ingress: String,
    ports: String,
    tags: String,
    max_lifetime_seconds: String,
}

impl Draft {
    /// The start request, and what the form itself could not read.
    fn request(&self) -> (StartSandboxRequest, Vec<String>) {
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
        let number = |text: &str, what: &str, problems: &mut Vec<String>| -> i64 {
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
        };
        let gpus = number(&self.gpus, "GPUs", &mut problems);
        let lifetime = number(&self.max_lifetime_seconds, "Max lifetime", &mut problems);
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
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What one profile offers across the runners that bind it.
#[derive(Clone, Default, PartialEq)]
struct Offer {
    runners: BTreeSet<String>,
    egress: BTreeSet<String>,
    ingress: BTreeSet<String>,
    gpu_types: BTreeSet<String>,
}

fn offers(profiles: &[ProfileSummary]) -> BTreeMap<String, Offer> {
    let mut offers: BTreeMap<String, Offer> = BTreeMap::new();
    for p in profiles {
        let offer = offers.entry(p.profile_name.clone()).or_default();
        offer.runners.insert(p.runner_id.clone());
        offer
            .egress
            .extend(p.egress_modes.iter().map(|m| m.name.clone()));
        offer
            .ingress
            .extend(p.service_exposure_modes.iter().map(|m| m.name.clone()));
        offer
            .gpu_types
            .extend(p.supported_gpu_types.iter().cloned());
    }
    offers
}

/// A change to the draft that would make the request fit, as a button label and the
/// change itself.
type DraftFix = (String, Box<dyn Fn(&mut Draft) + Send + Sync>);

/// The one-click fixes for a request that fits nowhere: ask for no more of a resource
/// than some runner has free, or pick a profile that offers the egress mode asked for.
fn fixes(
    request: &StartSandboxRequest,
    candidates: &[CandidateRunner],
    offers: &BTreeMap<String, Offer>,
    current_profile: &str,
) -> Vec<DraftFix> {
    let Err(failure) = place(request, candidates, &SandboxCeiling::default()) else {
        return Vec::new();
    };
    let mut fixes: Vec<DraftFix> = resource_fixes(&failure.rejections, &SandboxCeiling::default())
        .into_iter()
        .map(|fix| -> DraftFix {
            match fix {
                Fix::CpuMillicores(m) => (
                    format!("Ask for {} (the most a runner has free)", format_cpu(m)),
                    Box::new(move |d: &mut Draft| d.cpu = format!("{m}m")),
                ),
                Fix::MemoryBytes(b) => (
                    format!(
                        "Ask for {} of memory (the most a runner has free)",
                        format_bytes(b)
                    ),
                    Box::new(move |d: &mut Draft| d.memory = format!("{}Mi", b / (1024 * 1024))),
                ),
                Fix::Gpus(n) => (
                    format!("Ask for {n} GPUs (the most a runner has free)"),
                    Box::new(move |d: &mut Draft| d.gpus = n.to_string()),
                ),
            }
        })
        .collect();
    let wanted_egress = failure
        .rejections
        .iter()
        .flat_map(|r| &r.reasons)
        .find_map(|reason| match reason {
            RejectionReason::EgressModeNotOffered { requested, .. } => Some(requested.clone()),
            _ => None,
        });
    if let Some(egress) = wanted_egress {
        for (name, offer) in offers {
            if name != current_profile && offer.egress.contains(&egress) {
                let (name, egress_label) = (name.clone(), egress.clone());
                fixes.push((
                    format!("Use profile {name}, which offers egress {egress_label}"),
                    Box::new(move |d: &mut Draft| {
                        d.profile = name.clone();
                        d.runner.clear();
                    }),
                ));
            }
        }
    }
    fixes
}

#[component]
pub fn LaunchPage() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let embedded = expect_context::<Embedding>().embedded;
    let navigate = use_navigate();
    let restored = drafts::load(DRAFT_KEY)
        .and_then(|text| serde_json::from_str::<Draft>(&text).ok())
        .unwrap_or_default();
    let draft = RwSignal::new(restored);
    Effect::new(move |_| {
        let text = draft.with(|d| serde_json::to_string(d).unwrap_or_default());
        drafts::save(DRAFT_KEY, &text);
    });
    let profiles = {
        let api = api.clone();
        LocalResource::new(move || {
            connectivity.recoveries();
            let api = api.clone();
            async move { api.list_profiles(&DiscoveryFilter::default()).await }
        })
    };
    let fleet = {
        let api = api.clone();
        LocalResource::new(move || {
            connectivity.recoveries();
            candidates(api.clone())
        })
    };
    let offer = Memo::new(move |_| {
        let name = draft.with(|d| d.profile.clone());
        profiles
            .with(|p| match p {
                Some(Ok(list)) => offers(list).remove(&name),
                _ => None,
            })
            .unwrap_or_default()
    });
    let parsed = Memo::new(move |_| draft.with(Draft::request).0);
    let problems = Memo::new(move |_| {
        let (request, mut problems) = draft.with(Draft::request);
        problems.extend(
            validate_start_request(&request)
                .into_iter()
                .map(|v| format!("{}: {}", v.field, v.message)),
        );
        problems
    });
    let api_base = api.data_plane_base();
    let curl_url = api.data_plane_absolute("sandboxes");
    let start = Action::new_local(move |request: &StartSandboxRequest| {
        let (api, request) = (api.clone(), request.clone());
        async move { api.start_sandbox(&request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(started)) = start.value().get() {
            drafts::discard(DRAFT_KEY);
            let path = format!(
                "/sandboxes/{}",
                js_sys::encode_uri_component(&started.sandbox_id)
            );
            navigate(&link(&path, &[], embedded), Default::default());
        }
    });
    let text = move |id: &'static str,
                     label: &'static str,
                     hint: &'static str,
                     get: fn(&Draft) -> String,
                     put: fn(&mut Draft, String)| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type="text" autocomplete="off" placeholder=hint prop:value=move || draft.with(get)
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        draft.update(|d| put(d, value));
                    } />
            </div>
        }
    };
    let choice = move |id: &'static str,
                       label: &'static str,
                       none: &'static str,
                       options: Signal<Vec<String>>,
                       get: fn(&Draft) -> String,
                       put: fn(&mut Draft, String)| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <select id=id prop:value=move || draft.with(get)
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        draft.update(|d| put(d, value));
                    }>
                    <option value="">{none}</option>
                    {move || options.get().into_iter().map(|o| {
                        let selected = draft.with(get) == o;
                        view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
        }
    };
    let profile_names = Signal::derive(move || {
        profiles.with(|p| match p {
            Some(Ok(list)) => offers(list).into_keys().collect(),
            _ => Vec::new(),
        })
    });
    let runners = Signal::derive(move || offer.with(|o| o.runners.iter().cloned().collect()));
    // With a profile chosen, only what it offers; otherwise what any profile offers
    // (each runner's default profile may or may not, which "will it fit" then says).
    let modes = move |pick: fn(&Offer) -> &BTreeSet<String>| {
        Signal::derive(move || {
            if draft.with(|d| !d.profile.is_empty()) {
                return offer.with(|o| pick(o).iter().cloned().collect());
            }
            profiles.with(|p| match p {
                Some(Ok(list)) => offers(list)
                    .values()
                    .flat_map(|o| pick(o).iter().cloned())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            })
        })
    };
    let egress = modes(|o| &o.egress);
    let ingress = modes(|o| &o.ingress);

    view! {
        <section class="page" aria-labelledby="launch-heading">
            <header class="page-header">
                <h1 id="launch-heading">"Launch a sandbox"</h1>
            </header>
            {move || match profiles.get() {
                Some(Err(error)) => Some(view! { <ErrorPanel title="Could not load the profiles you can use" error /> }),
                _ => None,
            }}
            <form class="card launch" aria-label="Sandbox" on:submit=move |ev| {
                ev.prevent_default();
                if problems.with(Vec::is_empty) {
                    start.dispatch(parsed.get_untracked());
                }
            }>
                <div class="form-grid">
                    {choice("launch-profile", "Profile", "Each runner's default", profile_names, |d| d.profile.clone(), |d, v| {
                        d.profile = v;
                        // What the old profile offered may not be offered now.
                        d.runner.clear();
                        d.egress.clear();
                        d.ingress.clear();
                    })}
                    {choice("launch-runner", "Runner", "Any runner", runners, |d| d.runner.clone(), |d, v| d.runner = v)}
                </div>
                {move || {
                    let o = offer.get();
                    (!o.runners.is_empty()).then(|| {
                        let join = |s: &BTreeSet<String>| if s.is_empty() { "none".to_owned() } else { s.iter().cloned().collect::<Vec<_>>().join(", ") };
                        view! {
                            <p class="hint offer">
                                {format!("Offers egress {}; ingress {}; GPU types {}; on {} runner(s).", join(&o.egress), join(&o.ingress), join(&o.gpu_types), o.runners.len())}
                            </p>
                        }
                    })
                }}
                <div class="form-grid">
                    {text("launch-image", "Image", "e.g. python:3.12-slim", |d| d.image.clone(), |d, v| d.image = v)}
                    {text("launch-command", "Command", "e.g. python", |d| d.command.clone(), |d, v| d.command = v)}
                    {text("launch-args", "Arguments", "e.g. -c \"print('hi')\"", |d| d.args.clone(), |d, v| d.args = v)}
                    {text("launch-cpu", "CPU", "e.g. 500m or 2", |d| d.cpu.clone(), |d, v| d.cpu = v)}
                    {text("launch-memory", "Memory", "e.g. 1Gi", |d| d.memory.clone(), |d, v| d.memory = v)}
                    {text("launch-gpus", "GPUs", "0", |d| d.gpus.clone(), |d, v| d.gpus = v)}
                    {text("launch-gpu-type", "GPU type", "e.g. H100", |d| d.gpu_type.clone(), |d, v| d.gpu_type = v)}
                    {choice("launch-egress", "Egress mode", "The profile's default", egress, |d| d.egress.clone(), |d, v| d.egress = v)}
                    {choice("launch-ingress", "Ingress mode", "None", ingress, |d| d.ingress.clone(), |d, v| d.ingress = v)}
                    {text("launch-ports", "Exposed ports", "e.g. 8080, 8443", |d| d.ports.clone(), |d, v| d.ports = v)}
                    {text("launch-tags", "Tags", "e.g. experiment, team-a", |d| d.tags.clone(), |d, v| d.tags = v)}
                    {text("launch-lifetime", "Max lifetime (seconds)", "the platform's default", |d| d.max_lifetime_seconds.clone(), |d, v| d.max_lifetime_seconds = v)}
                </div>
                <div class="field">
                    <label for="launch-env">"Environment (NAME=value per line)"</label>
                    <textarea id="launch-env" rows="3" prop:value=move || draft.with(|d| d.env.clone())
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            draft.update(|d| d.env = value);
                        }></textarea>
                </div>
                <div class="fit-line" aria-live="polite">
                    {move || match fleet.get() {
                        Some(Ok(candidates)) => {
                            let all_offers = profiles.with(|p| match p {
                                Some(Ok(list)) => offers(list),
                                _ => BTreeMap::new(),
                            });
                            let fixes = fixes(&parsed.get(), &candidates, &all_offers, &draft.with(|d| d.profile.clone()));
                            view! {
                                <Verdict request=parsed.get() candidates />
                                {(!fixes.is_empty()).then(|| view! {
                                    <div class="fixes" role="group" aria-label="Ways to make it fit">
                                        {fixes.into_iter().map(|(label, apply)| view! {
                                            <button type="button" class="button" on:click=move |_| draft.update(|d| apply(d))>{label}</button>
                                        }).collect_view()}
                                    </div>
                                })}
                            }
                            .into_any()
                        }
                        Some(Err(_)) => view! { <p class="hint">"Placement preview unavailable."</p> }.into_any(),
                        None => view! { <p class="hint">"Checking where it would fit…"</p> }.into_any(),
                    }}
                </div>
                {move || {
                    let problems = problems.get();
                    (!problems.is_empty()).then(|| view! {
                        <ul class="violations launch-problems" aria-label="To fix before launching">
                            {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                        </ul>
                    })
                }}
                {move || match start.value().get() {
                    Some(Err(error)) => Some(view! { <ErrorPanel title="The sandbox was not started" error /> }),
                    _ => None,
                }}
                <div class="form-actions">
                    <button type="submit" class="button primary" disabled=move || !problems.with(Vec::is_empty) || start.pending().get()>
                        {move || if start.pending().get() { "Launching…" } else { "Launch" }}
                    </button>
                    <button type="button" class="button quiet" on:click=move |_| draft.set(Draft::default())>"Clear"</button>
                </div>
                <CopyBlock summary="As a curl command" text=Signal::derive(move || curl_command("POST", &curl_url, &parsed.get())) />
                <CopyBlock summary="As Python (cwsandbox)" text=Signal::derive(move || python_snippet(&parsed.get(), &api_base)) />
            </form>
        </section>
    }
}
