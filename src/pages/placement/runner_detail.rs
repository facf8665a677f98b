//! One runner: what it can offer (marking declared capacity), what is free now, its
//! health and install state, the profiles it binds and the sandboxes on it. Applying
//! updates and changing settings are on the administration page.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use sandbox_api::discovery::{AvailableRunner, ProfileSummary};
use sandbox_api::filters::DiscoveryFilter;
use sandbox_api::format::{format_bytes, format_cpu, format_enum};
use sandbox_api::sandbox::SandboxInfo;

use crate::api::{ApiError, HistoryQuery, UsageOf, use_api};
use crate::components::capacity_bar::{CapacityBar, format_count};
use crate::components::error_panel::ErrorPanel;
use crate::components::history::HistoryList;
use crate::components::installation::revision_text;
use crate::components::raw_view::RawView;
use crate::components::usage_charts::UsageCharts;
use crate::connectivity::use_connectivity;
use crate::query::rel_for;

#[derive(Clone)]
struct Detail {
    runner: AvailableRunner,
    profiles: Vec<ProfileSummary>,
    sandboxes: Vec<SandboxInfo>,
    /// Install status and revision, as shown.
    install: Option<(String, String)>,
    /// The control plane's UUID for it, whose history is kept.
    uuid: Option<String>,
}

#[component]
pub fn RunnerDetailPage() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let params = use_params_map();
    let runner_id = Memo::new(move |_| params.with(|p| p.get("runner").unwrap_or_default()));
    let detail_resource = LocalResource::new(move || {
        connectivity.recoveries();
        let (api, id) = (api.clone(), runner_id.get());
        async move {
            let runner = api.get_available_runner(&id).await?;
            let filter = DiscoveryFilter {
                runner_id: id.clone(),
                ..DiscoveryFilter::default()
            };
            let profiles = api.list_profiles(&filter).await?;
            let sandboxes = api.list_sandboxes_on(&id).await?;
            // Install state is the control plane's (discovery lists installed runners
            // only, so this is READY unless it is being deleted); a runner the control
            // plane does not manage has none.
            let managed = api.get_managed_runner(&id).await.ok();
            let install = managed.as_ref().map(|m| {
                (
                    format_enum(m.install_status.as_str(), "RUNNER_INSTALL_STATUS_"),
                    revision_text(m.active_revision, m.target_revision, m.rollout_in_progress),
                )
            });
            Ok::<_, ApiError>(Detail {
                runner,
                profiles,
                sandboxes,
                install,
                uuid: managed.map(|m| m.id),
            })
        }
    });
    view! {
        <section class="page" aria-labelledby="runner-heading">
            <header class="page-header">
                <h1 id="runner-heading">{move || format!("Runner {}", runner_id.get())}</h1>
                <button class="button" on:click=move |_| detail_resource.refetch()>"Refresh"</button>
            </header>
            {move || match detail_resource.get() {
                None => view! { <p class="loading" role="status">"Loading the runner…"</p> }.into_any(),
                Some(Ok(detail)) => view! { <RunnerDetail detail /> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel title="Could not load this runner" error /> }.into_any(),
            }}
        </section>
    }
}

fn modes(names: Vec<String>) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

#[component]
fn RunnerDetail(detail: Detail) -> impl IntoView {
    let runner = detail.runner;
    let record = serde_json::to_value(&runner).unwrap_or_default();
    let install = detail.install;
    let manage = format!("/managed-runners/{}", runner.runner_id);
    let capabilities = runner.capabilities.clone().unwrap_or_default();
    let resources = runner.resources.clone().unwrap_or_default();
    let declared = runner.tags.iter().any(|t| t == "capacity:declared");
    let zone = runner
        .tags
        .iter()
        .find_map(|t| t.strip_prefix("zone:"))
        .unwrap_or_default()
        .to_owned();
    view! {
        <div class="cards">
            <div class="card">
                <h2>"Status"</h2>
                <dl class="facts">
                    <dt>"Health"</dt>
                    <dd>{if runner.healthy { "Healthy and connected" } else { "Unhealthy or disconnected" }}</dd>
                    {install.map(|(install, revision)| view! {
                        <dt>"Install"</dt>
                        <dd class="install-status">{install}</dd>
                        <dt>"Revision"</dt>
                        <dd>{revision}</dd>
                    })}
                    <dt>"Group"</dt>
                    <dd>{runner.runner_group_id.clone()}</dd>
                    <dt>"Zone"</dt>
                    <dd>{zone}</dd>
                    <dt>"Running sandboxes"</dt>
                    <dd>{resources.running_sandboxes}</dd>
                </dl>
            </div>
            <div class="card">
                <h2>
                    "Capacity "
                    {declared.then(|| view! { <span class="badge" title="Declared by configuration rather than measured on the machine">"declared"</span> })}
                </h2>
                <dl class="facts">
                    <dt>"GPU types"</dt>
                    <dd>{if capabilities.supported_gpu_types.is_empty() { "none".to_owned() } else { capabilities.supported_gpu_types.join(", ") }}</dd>
                    <dt>"Architectures"</dt>
                    <dd>{capabilities.supported_architectures.join(", ")}</dd>
                </dl>
                <CapacityBar label="CPU" available=resources.available_cpu_millicores max=capabilities.max_cpu_millicores format=format_cpu labelled=true />
                <CapacityBar label="Memory" available=resources.available_memory_bytes max=capabilities.max_memory_bytes format=format_bytes labelled=true />
                <CapacityBar label="GPUs" available=resources.available_gpu_count max=capabilities.max_gpu_count format=format_count labelled=true />
            </div>
        </div>
        <h2>"Bound profiles"</h2>
        <table class="data-table">
            <thead>
                <tr>
                    <th scope="col">"Profile"</th>
                    <th scope="col">"Ingress levels"</th>
                    <th scope="col">"Egress modes"</th>
                </tr>
            </thead>
            <tbody>
                {detail
                    .profiles
                    .into_iter()
                    .map(|p| {
                        let ingress: Vec<String> = p.service_exposure_modes.into_iter().map(|m| m.name).collect();
                        let egress: Vec<String> = p.egress_modes.into_iter().map(|m| m.name).collect();
                        view! {
                            <tr>
                                <th scope="row" class="name">{p.profile_name}</th>
                                <td data-label="Ingress levels">{modes(ingress)}</td>
                                <td data-label="Egress modes">{modes(egress)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <p class="hint">
            "Its installation, release, settings and bindings are on its "
            <a href=manage.clone() rel=rel_for(&manage)>"administration page"</a>
            "."
        </p>
        <h2>"Sandboxes on this runner"</h2>
        {if detail.sandboxes.is_empty() {
            view! { <p class="hint">"No sandbox is running here."</p> }.into_any()
        } else {
            view! {
                <table class="data-table">
                    <thead>
                        <tr>
                            <th scope="col">"Sandbox"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Egress"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {detail
                            .sandboxes
                            .into_iter()
                            .map(|s| view! {
                                <tr>
                                    <th scope="row" class="name">{s.sandbox_id}</th>
                                    <td data-label="Status">{format_enum(s.sandbox_status.as_str(), "SANDBOX_STATUS_")}</td>
                                    <td data-label="Egress">{s.applied_egress_mode}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        }}
        <h2 id="usage">"Usage"</h2>
        <UsageCharts
            of=UsageOf::Runner(runner.runner_id.clone())
            empty="Nothing has run here since the gateway started."
        />
        <h2 id="record">"Record"</h2>
        <RawView value=record what="this runner" />
        {detail.uuid.map(|uuid| view! {
            <h2 id="history">"History"</h2>
            <HistoryList
                query=HistoryQuery::of(&uuid)
                empty="No change to this runner has been recorded."
            />
        })}
    }
}
