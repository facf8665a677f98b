//! Runner administration: every managed runner with its zone, cluster, release
//! channel, install and connection status, revision and bound profiles, following
//! installs and rollouts live. Zone and connection filters live in the URL. A failed
//! install shows its error and remediation hints in the list itself.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use sandbox_api::binding::effective_name;
use sandbox_api::format::format_enum;
use sandbox_api::runner::{Runner, RunnerConnectionStatus, RunnerInstallStatus};

use crate::api::{ManagedRunnerQuery, use_api};
use crate::components::admin_only::AdminOnly;
use crate::components::error_panel::ErrorPanel;
use crate::components::installation::{InstallFailure, channel_text, revision_text};
use crate::connectivity::use_connectivity;
use crate::embed::Embedding;
use crate::query::link;
use crate::repeat;

/// How often the list looks again: installs and rollouts move in seconds.
const REFRESH_EVERY: Duration = Duration::from_secs(2);

const PATH: &str = "/managed-runners";

#[component]
pub fn ManagedRunnersPage() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let embedded = expect_context::<Embedding>().embedded;
    let navigate = use_navigate();
    let url = use_query_map();
    let query = Memo::new(move |_| {
        url.with(|q| ManagedRunnerQuery {
            zone: q.get("zone").unwrap_or_default(),
            connection_status: q
                .get("connection")
                .map(|c| format!("RUNNER_CONNECTION_STATUS_{}", c.to_ascii_uppercase()))
                .unwrap_or_default(),
        })
    });
    let refreshes = RwSignal::new(0u64);
    repeat::every(REFRESH_EVERY, move || refreshes.update(|n| *n += 1));
    let runners = {
        let api = api.clone();
        LocalResource::new(move || {
            refreshes.track();
            connectivity.recoveries();
            let (api, query) = (api.clone(), query.get());
            async move { api.query_managed_runners(&query).await }
        })
    };
    let templates = LocalResource::new(move || {
        let api = api.clone();
        async move {
            api.list_profile_templates()
                .await
                .map(|all| {
                    all.into_iter()
                        .map(|t| (t.id, t.display_name))
                        .collect::<HashMap<_, _>>()
                })
                .unwrap_or_default()
        }
    });
    // Zones seen so far, to offer in the filter.
    let zones = RwSignal::new(BTreeSet::<String>::new());
    Effect::new(move |_| {
        if let Some(Ok(list)) = runners.get() {
            zones.update(|z| {
                z.extend(
                    list.iter()
                        .filter_map(|r| r.identity.as_ref().map(|i| i.zone.clone()))
                        .filter(|zone| !zone.is_empty()),
                )
            });
        }
    });
    let set_filter = move |key: &'static str, value: String| {
        let mut pairs: Vec<(&str, String)> = url.with_untracked(|q| {
            vec![
                ("zone", q.get("zone").unwrap_or_default()),
                ("connection", q.get("connection").unwrap_or_default()),
            ]
        });
        for pair in &mut pairs {
            if pair.0 == key {
                pair.1 = value.clone();
            }
        }
        navigate(
            &link(PATH, &pairs, embedded),
            leptos_router::NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    let set_zone = set_filter.clone();
    view! {
        <section class="page" aria-labelledby="managed-heading">
            <header class="page-header">
                <h1 id="managed-heading">"Managed runners"</h1>
                <div class="header-actions">
                    <AdminOnly what="create runners or roll out profiles">
                        <A href="/rollout" attr:class="button">"Roll out a profile version"</A>
                        <A href="/managed-runners/new" attr:class="button primary">"New runner"</A>
                    </AdminOnly>
                </div>
            </header>
            <div class="filters" role="search" aria-label="Filter runners">
                <div class="field">
                    <label for="filter-zone">"Zone"</label>
                    <select id="filter-zone" prop:value=move || url.with(|q| q.get("zone").unwrap_or_default()) on:change=move |ev| set_zone("zone", event_target_value(&ev))>
                        <option value="">"Any zone"</option>
                        {move || {
                            let mut all = zones.get();
                            all.extend(url.with(|q| q.get("zone")).filter(|z| !z.is_empty()));
                            all.into_iter().map(|zone| view! { <option value=zone.clone()>{zone.clone()}</option> }).collect_view()
                        }}
                    </select>
                </div>
                <div class="field">
                    <label for="filter-connection">"Connection"</label>
                    <select id="filter-connection" prop:value=move || url.with(|q| q.get("connection").unwrap_or_default()) on:change=move |ev| set_filter("connection", event_target_value(&ev))>
                        <option value="">"Any"</option>
                        <option value="connected">"Connected"</option>
                        <option value="disconnected">"Disconnected"</option>
                    </select>
                </div>
            </div>
            {move || match runners.get() {
                None => view! { <p class="loading" role="status">"Loading runners…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel title="Could not load the managed runners" error /> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <div class="empty-state">
                        <p class="empty-title">"No runner matches"</p>
                        <p class="hint">"Change the filters, or create a runner."</p>
                    </div>
                }
                .into_any(),
                Some(Ok(list)) => {
                    let names = templates.get().unwrap_or_default();
                    view! { <RunnerRows list names /> }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn RunnerRows(list: Vec<Runner>, names: HashMap<String, String>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="data-table managed-runners">
                <thead>
                    <tr>
                        <th scope="col">"Runner"</th>
                        <th scope="col">"Zone"</th>
                        <th scope="col">"Cluster"</th>
                        <th scope="col">"Channel"</th>
                        <th scope="col">"Install"</th>
                        <th scope="col">"Connection"</th>
                        <th scope="col">"Revision"</th>
                        <th scope="col">"Bound profiles"</th>
                    </tr>
                </thead>
                {list.into_iter().map(|runner| view! { <RunnerRow runner names=names.clone() /> }).collect_view()}
            </table>
        </div>
    }
}

#[component]
fn RunnerRow(runner: Runner, names: HashMap<String, String>) -> impl IntoView {
    let identity = runner.identity.clone().unwrap_or_default();
    let id = identity.runner_id.clone();
    let cluster = identity.cluster().as_str().to_owned();
    let channel = channel_text(&runner);
    let connected = runner.connection_status == RunnerConnectionStatus::Connected;
    let connection = format_enum(
        runner.connection_status.as_str(),
        "RUNNER_CONNECTION_STATUS_",
    );
    let revision = revision_text(
        runner.active_revision,
        runner.target_revision,
        runner.rollout_in_progress,
    );
    let profiles: Vec<String> = runner
        .profile_bindings
        .iter()
        .map(|b| {
            let name = effective_name(
                b,
                names
                    .get(&b.profile_template_id)
                    .map_or(&b.profile_template_id, |n| n),
            );
            if b.is_default {
                format!("{name} (default)")
            } else {
                name
            }
        })
        .collect();
    let install_error = runner.install_error.clone();
    let shown_id = id.clone();
    let title = (!runner.display_name.is_empty() && runner.display_name != id)
        .then(|| runner.display_name.clone());
    view! {
        <tbody class="managed-runner">
            <tr>
                <th scope="row" class="name">
                    <A href=format!("/managed-runners/{id}")>{shown_id}</A>
                    {title.map(|title| view! { <span class="hint">" " {title}</span> })}
                </th>
                <td data-label="Zone">{identity.zone}</td>
                <td data-label="Cluster">{cluster}</td>
                <td data-label="Channel">{channel}</td>
                <td data-label="Install"><InstallStatus status=runner.install_status /></td>
                <td data-label="Connection"><span class=if connected { "status ok" } else { "status bad" }>{connection}</span></td>
                <td data-label="Revision">
                    {revision}
                    {runner.update_available.then(|| view! { " " <span class="badge warning">"update available"</span> })}
                </td>
                <td data-label="Bound profiles">{profiles.join(", ")}</td>
            </tr>
            {install_error.map(|error| view! {
                <tr class="install-error-row">
                    <td colspan="8">
                        <InstallFailure title=format!("The install of {id} failed") error />
                    </td>
                </tr>
            })}
        </tbody>
    }
}

/// Where an install is, as one status: the list has one per runner (the runner's own
/// page shows the steps).
#[component]
pub fn InstallStatus(status: RunnerInstallStatus) -> impl IntoView {
    let class = match status {
        RunnerInstallStatus::Ready => "status ok",
        RunnerInstallStatus::Failed => "status bad",
        _ => "status pending",
    };
    view! { <span class=class>{format_enum(status.as_str(), "RUNNER_INSTALL_STATUS_")}</span> }
}
