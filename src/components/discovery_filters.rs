//! The discovery filters as a form and as removable chips. Both write the filter into
//! the URL of the page they sit on, keeping its sort. Each name filter suggests the
//! values the data holds, with how many rows each would leave; the suggestions of the
//! focused field only are computed, so typing stays fast on a large fleet.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use sandbox_api::filter_choices::{Choice, Facet, describe_filter};
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
    /// The suggestions for a facet under the other filters (the facet's own cleared),
    /// reading the page's rows reactively.
    choices: Callback<(Facet, DiscoveryFilter), Vec<Choice>>,
    /// What the counts count: one, and more than one (`["runner", "runners"]`).
    counted: [&'static str; 2],
    #[prop(optional)] set: Option<FilterSet>,
) -> impl IntoView {
    let embedded = expect_context::<Embedding>().embedded;
    let focused = RwSignal::new(None::<Facet>);
    // A field's suggestions depend on the other filters only, so typing in it does not
    // count them again (only another filter, or new rows, does).
    let others = Memo::new(move |_| {
        focused.get().map(|facet| {
            let mut others = filter.get();
            facet.set(&mut others, String::new());
            (facet, others)
        })
    });
    let offered = Memo::new(move |_| {
        others
            .get()
            .map(|(facet, others)| (facet, choices.run((facet, others))))
    });
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
        move |id: &'static str, label: &'static str, facet: Facet| {
            let update = update.clone();
            let list = format!("{id}-choices");
            view! {
                <div class="field">
                    <label for=id>{label}</label>
                    <input
                        id=id
                        type="text"
                        autocomplete="off"
                        list=list.clone()
                        prop:value=move || filter.with(|f| facet.value(f).to_owned())
                        on:focus=move |_| focused.set(Some(facet))
                        on:input=move |ev| {
                            let value = event_target_value(&ev).trim().to_owned();
                            update(&|f| facet.set(f, value.clone()));
                        }
                    />
                    <datalist id=list>
                        {move || offered.with(|offered| match offered {
                            Some((shown, choices)) if *shown == facet => choices
                                .iter()
                                .map(|c| view! { <option value=c.value.clone() label=format!("{} {}", c.count, counted[usize::from(c.count != 1)]) /> })
                                .collect_view()
                                .into_any(),
                            _ => ().into_any(),
                        })}
                    </datalist>
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
        <details class="filters-drawer" open=drawer_open()>
        <summary class="button">"Filters"</summary>
        <form class="filters" role="search" aria-label="Filters" on:submit=|ev| ev.prevent_default()>
            {runners_only.then(|| text("filter-group", "Runner group", Facet::RunnerGroup))}
            {(!runners_only).then(|| text("filter-runner", "Runner", Facet::Runner))}
            {runners_only.then(|| text("filter-profile", "Profile", Facet::Profile))}
            {text("filter-gpu-type", "GPU type", Facet::GpuType)}
            {text("filter-architecture", "Architecture", Facet::Architecture)}
            {text("filter-ingress", "Ingress mode", Facet::IngressMode)}
            {text("filter-egress", "Egress mode", Facet::EgressMode)}
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
        </details>
    }
}

/// Whether a filters drawer starts open: on a screen wider than a phone, not on a phone.
/// The width is the phone breakpoint of style/app.css (`max-width: 700px`), which also
/// hides an open drawer's handle above it.
pub fn drawer_open() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(min-width: 701px)").ok().flatten())
        .is_some_and(|m| m.matches())
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
                            let text = describe_filter(key, &value);
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
