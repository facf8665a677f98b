//! Sandboxes: the organization's sandboxes with their live status, filtered by status
//! (stopped ones included on request), tags, profile and runner, all in the URL; stop
//! (with a grace period) and delete from the list, each confirmed first. The gateway
//! filters by status and tags; profile and runner are filtered here, without regard to
//! case, so that their fields can suggest the values the list holds, with counts.

use std::collections::HashMap;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use sandbox_api::filter_choices::{Choice, single_value_choices};
use sandbox_api::filters::names_match as same;
use sandbox_api::format::format_enum;
use sandbox_api::sandbox::{SandboxInfo, SandboxStatus};

use crate::api::{SandboxQuery, use_api};
use crate::components::discovery_filters::drawer_open;
use crate::components::error_panel::ErrorPanel;
use crate::components::sandbox_actions::{SandboxActions, SandboxChanges};
use crate::connectivity::use_connectivity;
use crate::embed::Embedding;
use crate::query::link;
use crate::repeat;

/// How often the list refreshes itself.
const REFRESH_EVERY: Duration = Duration::from_secs(3);

#[component]
pub fn SandboxesPage() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let embedded = expect_context::<Embedding>().embedded;
    let navigate = use_navigate();
    let url = use_query_map();
    let query = Memo::new(move |_| {
        url.with(|q| {
            let pairs: Vec<(String, String)> = q
                .latest_values()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            SandboxQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        })
    });
    let refreshes = RwSignal::new(0u64);
    repeat::every(REFRESH_EVERY, move || refreshes.update(|n| *n += 1));
    // What the gateway filters by: typing a profile or runner filters what is loaded.
    let gateway_side = Memo::new(move |_| SandboxQuery {
        profile_name: String::new(),
        runner_id: String::new(),
        ..query.get()
    });
    let sandboxes = {
        let api = api.clone();
        LocalResource::new(move || {
            refreshes.track();
            connectivity.recoveries();
            let (api, query) = (api.clone(), gateway_side.get());
            async move { api.list_sandboxes(&query).await }
        })
    };
    let profile_names = {
        let api = api.clone();
        LocalResource::new(move || {
            let api = api.clone();
            async move { api.profile_names().await.unwrap_or_default() }
        })
    };
    let set_query = move |change: &dyn Fn(&mut SandboxQuery)| {
        let mut next = query.get_untracked();
        change(&mut next);
        let options = leptos_router::NavigateOptions {
            replace: true,
            scroll: false,
            ..Default::default()
        };
        navigate(&link("/sandboxes", &next.to_pairs(), embedded), options);
    };
    let names = Memo::new(move |_| profile_names.get().unwrap_or_default());
    // The profile and runner each sandbox has, for filtering and suggestions.
    let keys = move |s: &SandboxInfo, names: &HashMap<String, String>| {
        let profile = names
            .get(&s.profile_id)
            .cloned()
            .unwrap_or_else(|| s.profile_id.clone());
        (profile, s.runner_id.clone())
    };
    let suggestions = move |runner_field: bool| -> Vec<Choice> {
        let (q, names) = (query.get(), names.get());
        sandboxes.with(|list| {
            let Some(Ok(list)) = list else {
                return Vec::new();
            };
            let keyed: Vec<(String, String)> = list.iter().map(|s| keys(s, &names)).collect();
            if runner_field {
                let rows = keyed.iter().filter(|(p, _)| same(&q.profile_name, p));
                single_value_choices(rows.map(|(_, r)| r.as_str()), &q.runner_id)
            } else {
                let rows = keyed.iter().filter(|(_, r)| same(&q.runner_id, r));
                single_value_choices(rows.map(|(p, _)| p.as_str()), &q.profile_name)
            }
        })
    };
    let suggesting_filter = {
        let set_query = set_query.clone();
        move |id: &'static str, label: &'static str, runner_field: bool| {
            let set_query = set_query.clone();
            let list = format!("{id}-choices");
            let focused = RwSignal::new(false);
            view! {
                <div class="field">
                    <label for=id>{label}</label>
                    <input id=id type="text" autocomplete="off" list=list.clone()
                        prop:value=move || query.with(|q| if runner_field { q.runner_id.clone() } else { q.profile_name.clone() })
                        on:focus=move |_| focused.set(true)
                        on:input=move |ev| {
                            let value = event_target_value(&ev).trim().to_owned();
                            set_query(&|q| if runner_field { q.runner_id = value.clone() } else { q.profile_name = value.clone() });
                        } />
                    <datalist id=list>
                        {move || focused.get().then(|| suggestions(runner_field).into_iter().map(|c| view! {
                            <option value=c.value label=format!("{} {}", c.count, if c.count == 1 { "sandbox" } else { "sandboxes" }) />
                        }).collect_view())}
                    </datalist>
                </div>
            }
        }
    };
    let set_tags = set_query.clone();
    let set_status = set_query.clone();
    let set_stopped = set_query.clone();
    // Stop and Delete confirm first; the list refreshes after each.
    let changes = SandboxChanges::new(move |_, _| refreshes.update(|n| *n += 1));

    view! {
        <section class="page" aria-labelledby="sandboxes-heading">
            <header class="page-header">
                <h1 id="sandboxes-heading">"Sandboxes"</h1>
                <div class="header-actions">
                    <a class="button primary" href=link("/sandboxes/new", &[], embedded)>"Launch…"</a>
                    <button class="button" on:click=move |_| refreshes.update(|n| *n += 1)>"Refresh"</button>
                </div>
            </header>
            <details class="filters-drawer" open=drawer_open()>
            <summary class="button">"Filters"</summary>
            <form class="filters" role="search" aria-label="Filters" on:submit=|ev| ev.prevent_default()>
                <div class="field">
                    <label for="sandbox-status">"Status"</label>
                    <select id="sandbox-status"
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            // An ended status is listed only with the ended sandboxes.
                            let ended = SandboxStatus::from_name(&value).is_terminal();
                            set_status(&|q| {
                                q.statuses = if value.is_empty() { Vec::new() } else { vec![value.clone()] };
                                q.include_stopped |= ended;
                            });
                        }>
                        <option value="" selected=move || query.with(|q| q.statuses.is_empty())>"Any"</option>
                        {SandboxStatus::LIFECYCLE.iter().map(|status| {
                            let name = status.as_str();
                            view! {
                                <option value=name selected=move || query.with(|q| q.statuses.first().is_some_and(|s| s == name))>
                                    {format_enum(name, "SANDBOX_STATUS_")}
                                </option>
                            }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="sandbox-tags">"Tags"</label>
                    <input id="sandbox-tags" type="text" autocomplete="off" placeholder="All of: a, b"
                        prop:value=move || query.with(|q| q.tags.join(", "))
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            set_tags(&|q| q.tags = value.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect());
                        } />
                </div>
                {suggesting_filter("sandbox-profile", "Profile", false)}
                {suggesting_filter("sandbox-runner", "Runner", true)}
                <div class="field checkbox">
                    <input id="sandbox-stopped" type="checkbox" prop:checked=move || query.with(|q| q.include_stopped)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            set_stopped(&|q| q.include_stopped = on);
                        } />
                    <label for="sandbox-stopped">"Include stopped"</label>
                </div>
            </form>
            </details>
            {move || match sandboxes.get() {
                None => view! { <p class="loading" role="status">"Loading sandboxes…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel title="Could not load sandboxes" error /> }.into_any(),
                Some(Ok(list)) => {
                    let (q, names) = (query.get(), names.get());
                    let list: Vec<SandboxInfo> = list.into_iter().filter(|s| {
                        let (profile, runner) = keys(s, &names);
                        same(&q.profile_name, &profile) && same(&q.runner_id, &runner)
                    }).collect();
                    if list.is_empty() {
                        view! {
                            <div class="empty-state"><p class="empty-title">"No sandboxes"</p><p>"None matches; stopped sandboxes show with “Include stopped”."</p></div>
                        }.into_any()
                    } else {
                        view! { <SandboxTable sandboxes=list names changes embedded /> }.into_any()
                    }
                }
            }}
        </section>
    }
}

#[component]
fn SandboxTable(
    sandboxes: Vec<SandboxInfo>,
    /// Profile names by template ID; a sandbox whose profile is not there shows the ID.
    names: HashMap<String, String>,
    changes: SandboxChanges,
    embedded: bool,
) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="data-table sandboxes">
                <caption>{format!("{} sandboxes", sandboxes.len())}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Sandbox"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Profile"</th>
                        <th scope="col">"Runner"</th>
                        <th scope="col">"Egress"</th>
                        <th scope="col">"Ingress"</th>
                        <th scope="col">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {sandboxes.into_iter().map(|s| {
                        let status = s.sandbox_status;
                        let ended = status.is_terminal();
                        let href = link(&format!("/sandboxes/{}", js_sys::encode_uri_component(&s.sandbox_id)), &[], embedded);
                        let id = s.sandbox_id.clone();
                        view! {
                            <tr>
                                <th scope="row" class="name"><a href=href>{s.sandbox_id.clone()}</a></th>
                                <td data-label="Status">
                                    <span class=format!("status {}", status_class(status))>{format_enum(status.as_str(), "SANDBOX_STATUS_")}</span>
                                    {s.unisolated.then(|| view! { " " <span class="badge warning" title="It runs as a plain process of its runner's machine, not in a container">"unisolated"</span> })}
                                </td>
                                <td data-label="Profile">{names.get(&s.profile_id).cloned().unwrap_or(s.profile_id)}</td>
                                <td data-label="Runner">{s.runner_id}</td>
                                <td data-label="Egress">
                                    {s.applied_egress_mode}
                                    {s.unenforced_egress.then(|| view! { <span class="badge warning" title="The local runner cannot enforce this egress mode">"not enforced"</span> })}
                                </td>
                                <td data-label="Ingress">{if s.applied_ingress_mode.is_empty() { "none".to_owned() } else { s.applied_ingress_mode }}</td>
                                <td class="actions">
                                    <SandboxActions changes sandbox_id=id running=!ended />
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The colour a status reads in.
pub fn status_class(status: sandbox_api::sandbox::SandboxStatus) -> &'static str {
    use sandbox_api::sandbox::SandboxStatus::*;
    match status {
        Running | Completed => "ok",
        Failed | Terminated => "bad",
        _ => "pending",
    }
}
