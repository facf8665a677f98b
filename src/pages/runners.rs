//! Runners: where a developer can run, with what is free right now. Every filter and
//! the sort live in the URL. Filtering runs in the browser with the same code the
//! gateway uses (`DiscoveryFilter`), so typing in a filter never waits for the network.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sandbox_api::discovery::{AvailableRunner, ProfileSummary};
use sandbox_api::filters::DiscoveryFilter;
use sandbox_api::format::{format_bytes, format_cpu};

use crate::api::use_api;
use crate::components::capacity_bar::{CapacityBar, format_count};
use crate::components::discovery_filters::{DiscoveryFilters, FilterChips};
use crate::components::error_panel::ErrorPanel;
use crate::components::will_it_fit::WillItFit;
use crate::connectivity::use_connectivity;
use crate::embed::Embedding;
use crate::query::{Sort, discovery_filter, link, sort_link};

/// How often the list refreshes itself.
const REFRESH_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone, PartialEq)]
struct Fleet {
    runners: Vec<AvailableRunner>,
    profiles: Vec<ProfileSummary>,
}

#[component]
pub fn RunnersPage() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(discovery_filter));
    let sort = Memo::new(move |_| query.with(|q| Sort::parse(q.get_str("sort"), "runner")));

    let refreshes = RwSignal::new(0u64);
    let timer = set_interval_with_handle(move || refreshes.update(|n| *n += 1), REFRESH_EVERY).ok();
    on_cleanup(move || {
        if let Some(timer) = timer {
            timer.clear();
        }
    });
    let last_good = RwSignal::new(None::<Fleet>);
    let fleet = LocalResource::new(move || {
        refreshes.track();
        connectivity.recoveries();
        let api = api.clone();
        async move {
            let everything = DiscoveryFilter::default();
            let runners = api.list_available_runners(&everything).await?;
            let profiles = api.list_profiles(&everything).await?;
            Ok::<_, crate::api::ApiError>(Fleet { runners, profiles })
        }
    });

    view! {
        <section class="page" aria-labelledby="runners-heading">
            <header class="page-header">
                <h1 id="runners-heading">"Runners"</h1>
                <button class="button" on:click=move |_| refreshes.update(|n| *n += 1)>"Refresh"</button>
            </header>
            <WillItFit />
            <DiscoveryFilters path="/runners" filter sort />
            <FilterChips path="/runners" filter sort />
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading runners…"</p> }>
                {move || Suspend::new(async move {
                    // While the gateway is unreachable, the last good list stays on
                    // screen (the banner says why it does not change).
                    let (fleet, stale) = match fleet.await {
                        Ok(fleet) => {
                            last_good.set(Some(fleet.clone()));
                            (fleet, false)
                        }
                        Err(crate::api::ApiError::Unreachable(detail)) => match last_good.get_untracked() {
                            Some(fleet) => (fleet, true),
                            None => {
                                let error = crate::api::ApiError::Unreachable(detail);
                                return view! { <ErrorPanel title="Could not load runners" error /> }.into_any();
                            }
                        },
                        Err(error) => return view! { <ErrorPanel title="Could not load runners" error /> }.into_any(),
                    };
                    let filter = filter.get();
                    let sort = sort.get();
                    let mut shown: Vec<AvailableRunner> = fleet
                        .runners
                        .iter()
                        .filter(|r| filter.matches_runner(r, &fleet.profiles))
                        .cloned()
                        .collect();
                    sort_runners(&mut shown, &sort);
                    let total = fleet.runners.len();
                    view! {
                        {stale.then(|| view! { <p class="hint stale" role="status">"Showing the runners as of the last successful refresh."</p> })}
                        <RunnerTable runners=shown total sort filter />
                    }
                    .into_any()
                })}
            </Transition>
        </section>
    }
}

fn zone(runner: &AvailableRunner) -> String {
    runner
        .tags
        .iter()
        .find_map(|t| t.strip_prefix("zone:"))
        .unwrap_or_default()
        .to_owned()
}

fn resources(runner: &AvailableRunner) -> (i64, i64, i64, i32) {
    let r = runner.resources.clone().unwrap_or_default();
    (
        r.available_cpu_millicores,
        r.available_memory_bytes,
        r.available_gpu_count,
        r.running_sandboxes,
    )
}

fn sort_runners(runners: &mut [AvailableRunner], sort: &Sort) {
    runners.sort_by(|a, b| {
        let (ra, rb) = (resources(a), resources(b));
        let order = match sort.column.as_str() {
            "group" => a.runner_group_id.cmp(&b.runner_group_id),
            "zone" => zone(a).cmp(&zone(b)),
            "health" => a.healthy.cmp(&b.healthy),
            "running" => ra.3.cmp(&rb.3),
            "cpu" => ra.0.cmp(&rb.0),
            "memory" => ra.1.cmp(&rb.1),
            "gpus" => ra.2.cmp(&rb.2),
            _ => std::cmp::Ordering::Equal,
        }
        .then_with(|| a.runner_id.cmp(&b.runner_id));
        if sort.descending {
            order.reverse()
        } else {
            order
        }
    });
}

#[component]
fn RunnerTable(
    runners: Vec<AvailableRunner>,
    total: usize,
    sort: Sort,
    filter: DiscoveryFilter,
) -> impl IntoView {
    let embedded = expect_context::<Embedding>().embedded;
    if runners.is_empty() {
        let message = if total == 0 {
            "No runners are available to your organization yet. An administrator creates them."
        } else {
            "No runner matches these filters. Remove a filter to see more."
        };
        return view! { <div class="empty-state"><p class="empty-title">"No runners"</p><p>{message}</p></div> }.into_any();
    }
    let header = move |column: &'static str, label: &'static str| {
        let state = if sort.column == column {
            if sort.descending {
                "descending"
            } else {
                "ascending"
            }
        } else {
            "none"
        };
        view! {
            <th scope="col" aria-sort=state>
                <a class="sort" href=sort_link("/runners", &filter, &sort, column, embedded)>{label}</a>
            </th>
        }
    };
    let count = runners.len();
    view! {
        <div class="table-scroll">
        <table class="data-table runners">
            <caption>{format!("{count} of {total} runners")}</caption>
            <thead>
                <tr>
                    {header("runner", "Runner")}
                    {header("group", "Group")}
                    {header("zone", "Zone")}
                    {header("health", "Health")}
                    <th scope="col">"GPU types"</th>
                    <th scope="col">"Architectures"</th>
                    <th scope="col">"Profiles"</th>
                    {header("running", "Running")}
                    {header("cpu", "CPU")}
                    {header("memory", "Memory")}
                    {header("gpus", "GPUs")}
                </tr>
            </thead>
            <tbody>
                {runners
                    .into_iter()
                    .map(|runner| {
                        let capabilities = runner.capabilities.clone().unwrap_or_default();
                        let (cpu, memory, gpus, running) = resources(&runner);
                        let href = link(&format!("/runners/{}", js_sys::encode_uri_component(&runner.runner_id)), &[], embedded);
                        view! {
                            <tr>
                                <th scope="row" class="name"><a href=href>{runner.runner_id.clone()}</a></th>
                                <td>{runner.runner_group_id.clone()}</td>
                                <td>{zone(&runner)}</td>
                                <td>
                                    {if runner.healthy {
                                        view! { <span class="status ok">"Healthy"</span> }
                                    } else {
                                        view! { <span class="status bad">"Unhealthy"</span> }
                                    }}
                                </td>
                                <td>{capabilities.supported_gpu_types.join(", ")}</td>
                                <td>{capabilities.supported_architectures.join(", ")}</td>
                                <td>
                                    <ul class="chips" aria-label="Profiles">
                                        {runner
                                            .profile_names
                                            .iter()
                                            .map(|name| view! { <li class="chip">{name.clone()}</li> })
                                            .collect_view()}
                                    </ul>
                                </td>
                                <td class="number">{running}</td>
                                <td><CapacityBar label="CPU" available=cpu max=capabilities.max_cpu_millicores format=format_cpu /></td>
                                <td><CapacityBar label="Memory" available=memory max=capabilities.max_memory_bytes format=format_bytes /></td>
                                <td><CapacityBar label="GPUs" available=gpus max=capabilities.max_gpu_count format=format_count /></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}
