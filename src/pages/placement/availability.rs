//! Availability: which profile can be used on which runner, with what it offers (one
//! row per binding). Filters and sort live in the URL.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sandbox_api::discovery::ProfileSummary;
use sandbox_api::filter_choices::{Facet, profile_choices};
use sandbox_api::filters::DiscoveryFilter;

use crate::api::use_api;
use crate::components::discovery_filters::{DiscoveryFilters, FilterChips, FilterSet};
use crate::components::error_panel::ErrorPanel;
use crate::components::sort_header::SortHeader;
use crate::connectivity::use_connectivity;
use crate::embed::Embedding;
use crate::query::{Sort, discovery_filter, link, sort_link};

#[component]
pub fn AvailabilityPage() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(discovery_filter));
    let sort = Memo::new(move |_| query.with(|q| Sort::parse(q.get_str("sort"), "profile")));
    let profiles = LocalResource::new(move || {
        connectivity.recoveries();
        let api = api.clone();
        async move { api.list_profiles(&DiscoveryFilter::default()).await }
    });
    let choices = Callback::new(move |(facet, filter): (Facet, DiscoveryFilter)| {
        profiles.with(|p| match p {
            Some(Ok(all)) => profile_choices(&filter, facet, all),
            _ => Vec::new(),
        })
    });
    view! {
        <section class="page" aria-labelledby="availability-heading">
            <header class="page-header">
                <h1 id="availability-heading">"Profile availability"</h1>
                <button class="button" on:click=move |_| profiles.refetch()>"Refresh"</button>
            </header>
            <DiscoveryFilters path="/availability" filter sort choices counted=["offer", "offers"] set=FilterSet::Profiles />
            <FilterChips path="/availability" filter sort />
            {move || match profiles.get() {
                        None => view! { <p class="loading" role="status">"Loading profiles…"</p> }.into_any(),
                        Some(Ok(all)) => {
                            let filter = filter.get();
                            let sort = sort.get();
                            let mut shown: Vec<ProfileSummary> = all.iter().filter(|p| filter.matches_profile(p)).cloned().collect();
                            shown.sort_by(|a, b| {
                                let order = match sort.column.as_str() {
                                    "runner" => (&a.runner_id, &a.profile_name).cmp(&(&b.runner_id, &b.profile_name)),
                                    _ => (&a.profile_name, &a.runner_id).cmp(&(&b.profile_name, &b.runner_id)),
                                };
                                if sort.descending { order.reverse() } else { order }
                            });
                            view! { <ProfileTable profiles=shown total=all.len() sort filter /> }.into_any()
                        }
                        Some(Err(error)) => view! { <ErrorPanel title="Could not load profiles" error /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ProfileTable(
    profiles: Vec<ProfileSummary>,
    total: usize,
    sort: Sort,
    filter: DiscoveryFilter,
) -> impl IntoView {
    let embedded = expect_context::<Embedding>().embedded;
    if profiles.is_empty() {
        let message = if total == 0 {
            "No runner offers a profile yet. An administrator binds profiles to runners."
        } else {
            "No profile matches these filters. Remove a filter to see more."
        };
        return view! { <div class="empty-state"><p class="empty-title">"No profiles"</p><p>{message}</p></div> }.into_any();
    }
    let header = move |column: &'static str, label: &'static str| {
        let href = sort_link("/availability", &filter, &sort, column, embedded);
        view! { <SortHeader label column sort=sort.clone() href /> }
    };
    let names = |modes: Vec<String>| {
        if modes.is_empty() {
            "none".to_owned()
        } else {
            modes.join(", ")
        }
    };
    let count = profiles.len();
    view! {
        <table class="data-table">
            <caption>{format!("{count} of {total} profile offers")}</caption>
            <thead>
                <tr>
                    {header("profile", "Profile")}
                    {header("runner", "Runner")}
                    <th scope="col">"GPU types"</th>
                    <th scope="col">"Architectures"</th>
                    <th scope="col">"Ingress levels"</th>
                    <th scope="col">"Egress modes"</th>
                </tr>
            </thead>
            <tbody>
                {profiles
                    .into_iter()
                    .map(|p| {
                        let runner_href = link(&format!("/runners/{}", js_sys::encode_uri_component(&p.runner_id)), &[], embedded);
                        view! {
                            <tr>
                                <th scope="row" class="name">{p.profile_name.clone()}</th>
                                <td data-label="Runner"><a href=runner_href>{p.runner_id.clone()}</a></td>
                                <td data-label="GPU types">{p.supported_gpu_types.join(", ")}</td>
                                <td data-label="Architectures">{p.supported_architectures.join(", ")}</td>
                                <td data-label="Ingress levels">{names(p.service_exposure_modes.into_iter().map(|m| m.name).collect())}</td>
                                <td data-label="Egress modes">{names(p.egress_modes.into_iter().map(|m| m.name).collect())}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
