//! One sandbox: what it was placed with (profile, modes, runner, resources), how it
//! ended (exit code, reason), any flag such as unenforced egress, and its live log.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use sandbox_api::format::{format_duration, format_enum};
use sandbox_api::sandbox::{GetSandboxResponse, SandboxStatus};

use super::list::status_class;
use crate::api::{HistoryQuery, UsageOf, use_api};
use crate::components::error_panel::ErrorPanel;
use crate::components::exec_panel::ExecPanel;
use crate::components::history::HistoryList;
use crate::components::log_pane::LogPane;
use crate::components::moment::{Moment, now};
use crate::components::sandbox_actions::{Change, SandboxActions, SandboxChanges};
use crate::components::terminal::TerminalPanel;
use crate::components::usage_charts::UsageCharts;
use crate::connectivity::use_connectivity;
use crate::embed::Embedding;
use crate::query::{link, rel_for};
use crate::repeat;

/// How often the facts refresh while the sandbox has not ended.
const REFRESH_EVERY: Duration = Duration::from_secs(2);

#[component]
pub fn SandboxDetailPage() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("sandbox").unwrap_or_default()));
    let refreshes = RwSignal::new(0u64);
    let profile_names = {
        let api = api.clone();
        LocalResource::new(move || {
            let api = api.clone();
            async move { api.profile_names().await.unwrap_or_default() }
        })
    };
    let sandbox = LocalResource::new(move || {
        refreshes.track();
        connectivity.recoveries();
        let (api, id) = (api.clone(), id.get());
        async move { api.get_sandbox(&id).await }
    });
    repeat::every(REFRESH_EVERY, move || {
        let running = sandbox
            .with_untracked(|s| matches!(s, Some(Ok(s)) if !s.info.sandbox_status.is_terminal()));
        if running {
            refreshes.update(|n| *n += 1);
        }
    });
    // Whether it runs, once loaded: the actions are drawn again only when that changes,
    // not at every refresh (which would take the focus from a confirmation).
    let running = Memo::new(move |_| {
        sandbox.with(|s| match s {
            Some(Ok(s)) => Some(!s.info.sandbox_status.is_terminal()),
            _ => None,
        })
    });
    let status = Memo::new(move |_| {
        sandbox.with(|s| match s {
            Some(Ok(s)) => Some(s.info.sandbox_status),
            _ => None,
        })
    });
    // Stopping refreshes the facts; deleting leaves for the list, where it is gone.
    let navigate = use_navigate();
    let embedded = expect_context::<Embedding>().embedded;
    let changes = SandboxChanges::new(move |_, change| match change {
        Change::Stop => refreshes.update(|n| *n += 1),
        Change::Delete => navigate(&link("/sandboxes", &[], embedded), Default::default()),
    });
    view! {
        <section class="page" aria-labelledby="sandbox-heading">
            <header class="page-header">
                <h1 id="sandbox-heading">{move || format!("Sandbox {}", id.get())}</h1>
                <div class="header-actions">
                    {move || running.get().map(|running| view! {
                        <SandboxActions changes sandbox_id=id.get() running delete_running=true />
                    })}
                </div>
            </header>
            {move || match sandbox.get() {
                None => view! { <p class="loading" role="status">"Loading the sandbox…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel title="Could not load this sandbox" error /> }.into_any(),
                Some(Ok(sandbox)) => {
                    let profile = profile_names
                        .with(|names| names.as_ref().and_then(|n| n.get(&sandbox.info.profile_id).cloned()))
                        .unwrap_or_else(|| sandbox.info.profile_id.clone());
                    view! { <Facts sandbox profile /> }.into_any()
                }
            }}
            // Kept mounted while the sandbox runs, so refreshes keep the history.
            <Show when=move || sandbox.with(|s| matches!(s, Some(Ok(s)) if s.info.sandbox_status == SandboxStatus::Running))>
                {move || view! { <ExecPanel sandbox_id=id.get() /> <TerminalPanel sandbox_id=id.get() /> }}
            </Show>
            // A sandbox that cannot be read (deleted, or never there) is explained once,
            // above; it has no log, usage or history to show.
            <Show when=move || !sandbox.with(|s| matches!(s, Some(Err(_))))>
            // Outside the facts, so their refreshes do not restart the stream.
            {move || view! { <LogPane sandbox_id=id.get() /> }}
            <h2 id="usage">"Usage"</h2>
            {move || view! {
                <UsageCharts
                    of=UsageOf::Sandbox(id.get())
                    empty="Nothing measured yet: usage is measured every few seconds while the sandbox runs in a container."
                />
            }}
            <h2 id="history">"History"</h2>
            // Loaded again when the status moves on, which adds an entry.
            {move || {
                status.track();
                view! {
                    <HistoryList
                        query=HistoryQuery::of(&id.get())
                        empty="No change to this sandbox has been recorded."
                    />
                }
            }}
            </Show>
        </section>
    }
}

#[component]
fn Facts(
    sandbox: GetSandboxResponse,
    /// The profile's name, or its template ID when the name is not known.
    profile: String,
) -> impl IntoView {
    let info = sandbox.info;
    let status = info.sandbox_status;
    let resources = info.current_resource_usage.map(|u| {
        format!(
            "{} millicores CPU, {} MB memory, {} GPUs in use",
            u.cpu_millicores_used, u.memory_mb_used, u.gpu_count_used
        )
    });
    view! {
        <div class="card">
            <dl class="facts">
                <dt>"Status"</dt>
                <dd>
                    <span class=format!("status {}", status_class(status))>{format_enum(status.as_str(), "SANDBOX_STATUS_")}</span>
                    {info.unisolated.then(|| view! { " " <span class="badge warning" title="It runs as a plain process of its runner's machine, not in a container: it can read that machine's files and reach its network">"unisolated"</span> })}
                </dd>
                {(!sandbox.status_reason.is_empty()).then(|| view! { <dt>"Reason"</dt><dd class="status-reason">{sandbox.status_reason.clone()}</dd> })}
                {sandbox.exit_code.map(|code| view! { <dt>"Exit code"</dt><dd class="exit-code">{code}</dd> })}
                {info.started_at_time.map(|at| {
                    let running = (!status.is_terminal()).then(|| {
                        format!(" (running for {})", format_duration((now() - at).whole_seconds()))
                    });
                    view! { <dt>"Started"</dt><dd><Moment at />{running}</dd> }
                })}
                <dt>"Runner"</dt>
                <dd>{
                    let href = format!("/runners/{}", info.runner_id);
                    view! { <a href=href.clone() rel=rel_for(&href)>{info.runner_id.clone()}</a> }
                }</dd>
                <dt>"Profile"</dt>
                <dd class="profile-name">{
                    let href = format!("/profiles/{}", info.profile_id);
                    view! { <a href=href.clone() rel=rel_for(&href)>{profile}</a> }
                }</dd>
                <dt>"Egress"</dt>
                <dd>
                    {info.applied_egress_mode.clone()}
                    {info.unenforced_egress.then(|| view! { " " <span class="badge warning" title="The local runner cannot enforce this egress mode; traffic is not restricted">"not enforced"</span> })}
                </dd>
                <dt>"Ingress"</dt>
                <dd>{if info.applied_ingress_mode.is_empty() { "none".to_owned() } else { info.applied_ingress_mode.clone() }}</dd>
                {(!info.service_address.is_empty()).then(|| view! { <dt>"Address"</dt><dd><code>{info.service_address.clone()}</code></dd> })}
                {(!info.exposed_ports.is_empty()).then(|| {
                    let ports: Vec<String> = info.exposed_ports.iter().map(|p| {
                        let name = if p.name.is_empty() { String::new() } else { format!(" ({})", p.name) };
                        format!("{}{name}", p.container_port)
                    }).collect();
                    view! { <dt>"Exposed ports"</dt><dd>{ports.join(", ")}</dd> }
                })}
                {resources.map(|r| view! { <dt>"Usage"</dt><dd>{r}</dd> })}
            </dl>
        </div>
    }
}
