//! Sandboxes: the organization's sandboxes with their live status, filtered by status
//! (stopped ones included on request), tags, profile and runner, all in the URL; stop
//! (with a grace period) and delete from the list, each confirmed first.

use std::collections::HashMap;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use sandbox_api::format::format_enum;
use sandbox_api::sandbox::SandboxInfo;

use crate::api::{SandboxQuery, use_api};
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
    let sandboxes = {
        let api = api.clone();
        LocalResource::new(move || {
            refreshes.track();
            connectivity.recoveries();
            let (api, query) = (api.clone(), query.get());
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
    let text_filter = {
        let set_query = set_query.clone();
        move |id: &'static str,
              label: &'static str,
              get: fn(&SandboxQuery) -> String,
              put: fn(&mut SandboxQuery, String)| {
            let set_query = set_query.clone();
            view! {
                <div class="field">
                    <label for=id>{label}</label>
                    <input id=id type="text" autocomplete="off" prop:value=move || query.with(get)
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            set_query(&|q| put(q, value.clone()));
                        } />
                </div>
            }
        }
    };
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
            <form class="filters" role="search" aria-label="Filters" on:submit=|ev| ev.prevent_default()>
                {text_filter("sandbox-status", "Status", |q| q.statuses.iter().map(|s| format_enum(s, "SANDBOX_STATUS_")).collect::<Vec<_>>().join(", "),
                    |q, v| q.statuses = v.split(',').map(|s| s.trim().to_ascii_uppercase().replace(' ', "_")).filter(|s| !s.is_empty()).map(|s| format!("SANDBOX_STATUS_{}", s.trim_start_matches("SANDBOX_STATUS_"))).collect())}
                {text_filter("sandbox-tags", "Tags", |q| q.tags.join(", "), |q, v| q.tags = v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())}
                {text_filter("sandbox-profile", "Profile", |q| q.profile_name.clone(), |q, v| q.profile_name = v.trim().to_owned())}
                {text_filter("sandbox-runner", "Runner", |q| q.runner_id.clone(), |q, v| q.runner_id = v.trim().to_owned())}
                <div class="field checkbox">
                    <input id="sandbox-stopped" type="checkbox" prop:checked=move || query.with(|q| q.include_stopped)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            set_stopped(&|q| q.include_stopped = on);
                        } />
                    <label for="sandbox-stopped">"Include stopped"</label>
                </div>
            </form>
            {move || match sandboxes.get() {
                None => view! { <p class="loading" role="status">"Loading sandboxes…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel title="Could not load sandboxes" error /> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <div class="empty-state"><p class="empty-title">"No sandboxes"</p><p>"None matches; stopped sandboxes show with “Include stopped”."</p></div>
                }.into_any(),
                Some(Ok(list)) => {
                    let names = profile_names.get().unwrap_or_default();
                    view! { <SandboxTable sandboxes=list names changes embedded /> }.into_any()
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
                                <td>
                                    <span class=format!("status {}", status_class(status))>{format_enum(status.as_str(), "SANDBOX_STATUS_")}</span>
                                    {s.unisolated.then(|| view! { " " <span class="badge warning" title="It runs as a plain process of its runner's machine, not in a container">"unisolated"</span> })}
                                </td>
                                <td>{names.get(&s.profile_id).cloned().unwrap_or(s.profile_id)}</td>
                                <td>{s.runner_id}</td>
                                <td>
                                    {s.applied_egress_mode}
                                    {s.unenforced_egress.then(|| view! { <span class="badge warning" title="The local runner cannot enforce this egress mode">"not enforced"</span> })}
                                </td>
                                <td>{s.applied_ingress_mode}</td>
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
