//! The discovery filters as a form and as removable chips. Both write the filter into
//! the URL of the page they sit on, keeping its sort.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use sandbox_api::filters::DiscoveryFilter;
use sandbox_api::format::{format_scaled, parse_scaled};

use crate::embed::Embedding;
use crate::query::{Sort, replace_view};

const GIB: i64 = 1024 * 1024 * 1024;

/// Which filters a page offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterSet {
    Runners,
    Profiles,
}

#[component]
pub fn DiscoveryFilters(
    path: &'static str,
    filter: Memo<DiscoveryFilter>,
    sort: Memo<Sort>,
    #[prop(optional)] set: Option<FilterSet>,
) -> impl IntoView {
    let embedded = expect_context::<Embedding>().embedded;
    let navigate = use_navigate();
    let update = move |change: &dyn Fn(&mut DiscoveryFilter)| {
        let mut next = filter.get_untracked();
        change(&mut next);
        replace_view(
            &navigate,
            path,
            &next,
            Some(&sort.get_untracked()),
            embedded,
        );
    };
    let text = {
        let update = update.clone();
        move |id: &'static str,
              label: &'static str,
              get: fn(&DiscoveryFilter) -> String,
              put: fn(&mut DiscoveryFilter, String)| {
            let update = update.clone();
            view! {
                <div class="field">
                    <label for=id>{label}</label>
                    <input
                        id=id
                        type="text"
                        autocomplete="off"
                        prop:value=move || filter.with(get)
                        on:input=move |ev| {
                            let value = event_target_value(&ev).trim().to_owned();
                            update(&|f| put(f, value.clone()));
                        }
                    />
                </div>
            }
        }
    };
    let number = {
        let update = update.clone();
        move |id: &'static str,
              label: &'static str,
              unit: i64,
              get: fn(&DiscoveryFilter) -> i64,
              put: fn(&mut DiscoveryFilter, i64)| {
            let update = update.clone();
            view! {
                <div class="field">
                    <label for=id>{label}</label>
                    <input
                        id=id
                        type="number"
                        min="0"
                        step="any"
                        prop:value=move || {
                            let value = filter.with(get);
                            if value == 0 { String::new() } else { format_scaled(value, unit) }
                        }
                        on:input=move |ev| {
                            let value = parse_scaled(&event_target_value(&ev), unit).unwrap_or(0);
                            update(&|f| put(f, value));
                        }
                    />
                </div>
            }
        }
    };
    let runners_only = set.unwrap_or(FilterSet::Runners) == FilterSet::Runners;
    let update_healthy = update.clone();
    view! {
        <form class="filters" role="search" aria-label="Filters" on:submit=|ev| ev.prevent_default()>
            {runners_only.then(|| text("filter-group", "Runner group", |f| f.runner_group_id.clone(), |f, v| f.runner_group_id = v))}
            {(!runners_only).then(|| text("filter-runner", "Runner", |f| f.runner_id.clone(), |f, v| f.runner_id = v))}
            {runners_only.then(|| text("filter-profile", "Profile", |f| f.profile_name.clone(), |f, v| f.profile_name = v))}
            {text("filter-gpu-type", "GPU type", |f| f.gpu_type.clone(), |f, v| f.gpu_type = v)}
            {text("filter-architecture", "Architecture", |f| f.architecture.clone(), |f, v| f.architecture = v)}
            {text("filter-ingress", "Ingress mode", |f| f.ingress_mode.clone(), |f, v| f.ingress_mode = v)}
            {text("filter-egress", "Egress mode", |f| f.egress_mode.clone(), |f, v| f.egress_mode = v)}
            {runners_only.then(|| number("filter-cpu", "Min free vCPU", 1000, |f| f.min_available_cpu_millicores, |f, v| f.min_available_cpu_millicores = v))}
            {runners_only.then(|| number("filter-memory", "Min free memory (GiB)", GIB, |f| f.min_available_memory_bytes, |f, v| f.min_available_memory_bytes = v))}
            {runners_only.then(|| number("filter-gpus", "Min free GPUs", 1, |f| f.min_available_gpu_count, |f, v| f.min_available_gpu_count = v))}
            {runners_only.then(|| view! {
                <div class="field checkbox">
                    <input
                        id="filter-healthy"
                        type="checkbox"
                        prop:checked=move || filter.with(|f| f.healthy_only)
                        on:change=move |ev| {
                            let checked = event_target_checked(&ev);
                            update_healthy(&|f| f.healthy_only = checked);
                        }
                    />
                    <label for="filter-healthy">"Healthy only"</label>
                </div>
            })}
        </form>
    }
}

/// The active filters as chips; each removes its filter.
#[component]
pub fn FilterChips(
    path: &'static str,
    filter: Memo<DiscoveryFilter>,
    sort: Memo<Sort>,
) -> impl IntoView {
    let embedded = expect_context::<Embedding>().embedded;
    let navigate = use_navigate();
    move || {
        let active = filter.get().to_query();
        let navigate = navigate.clone();
        (!active.is_empty()).then(move || {
            view! {
                <ul class="chips filter-chips" aria-label="Active filters">
                    {active
                        .into_iter()
                        .map(|(key, value)| {
                            let navigate = navigate.clone();
                            let text = format!("{}: {}", describe(key), value);
                            let remove = move |_| {
                                let kept: Vec<(&str, String)> =
                                    filter.get_untracked().to_query().into_iter().filter(|(k, _)| *k != key).collect();
                                let next = DiscoveryFilter::from_query(kept.iter().map(|(k, v)| (*k, v.as_str()))).unwrap_or_default();
                                replace_view(&navigate, path, &next, Some(&sort.get_untracked()), embedded);
                            };
                            view! {
                                <li class="chip">
                                    {text.clone()}
                                    <button type="button" class="chip-remove" aria-label=format!("Remove filter {text}") on:click=remove>
                                        "×"
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
        })
    }
}

fn describe(parameter: &str) -> &'static str {
    match parameter {
        "runnerGroupId" => "Group",
        "runnerId" => "Runner",
        "profileName" => "Profile",
        "gpuType" => "GPU type",
        "architecture" => "Architecture",
        "excludeShared" => "Exclude shared",
        "healthyOnly" => "Healthy only",
        "minAvailableCpuMillicores" => "Min free CPU (millicores)",
        "minAvailableMemoryBytes" => "Min free memory (bytes)",
        "minAvailableGpuCount" => "Min free GPUs",
        "ingressMode" => "Ingress",
        "egressMode" => "Egress",
        _ => "Filter",
    }
}
