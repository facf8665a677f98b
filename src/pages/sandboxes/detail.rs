//! One sandbox: what it runs (image, command), what it was placed with (profile,
//! modes, runner, resources asked for and reserved), when it was created, started and
//! ended, how it ended (exit code, reason), any flag such as unenforced egress; then its
//! live log (near the top, so it is on screen), exec, terminal, usage, the whole record
//! as YAML or JSON, and its history.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use sandbox_api::format::{format_bytes, format_cpu, format_duration, format_enum};
use sandbox_api::sandbox::{GetSandboxResponse, ResourceRequest, SandboxStatus};

use super::list::status_class;
use crate::api::{HistoryQuery, UsageOf, use_api};
use crate::components::copy_block::CopyButton;
use crate::components::error_panel::ErrorPanel;
use crate::components::exec_panel::ExecPanel;
use crate::components::history::HistoryList;
use crate::components::log_pane::LogPane;
use crate::components::moment::{Moment, now};
use crate::components::raw_view::RawView;
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
    // The record as the API gives it, for its YAML/JSON view.
    let record = Signal::derive(move || {
        sandbox.with(|s| match s {
            Some(Ok(s)) => serde_json::to_value(s).unwrap_or_default(),
            _ => serde_json::Value::Null,
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
                <div class="title">
                    <h1 id="sandbox-heading">{move || format!("Sandbox {}", id.get())}</h1>
                    {move || view! { <CopyButton text=id.get() what="the sandbox ID" /> }}
                </div>
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
            // A sandbox that cannot be read (deleted, or never there) is explained once,
            // above; it has no log, usage or history to show.
            <Show when=move || !sandbox.with(|s| matches!(s, Some(Err(_))))>
            // Outside the facts, so their refreshes do not restart the stream; above exec
            // and the terminal, so what they print never pushes it off the screen.
            {move || view! { <LogPane sandbox_id=id.get() /> }}
            </Show>
            // Kept mounted while the sandbox runs, so refreshes keep the history.
            <Show when=move || sandbox.with(|s| matches!(s, Some(Ok(s)) if s.info.sandbox_status == SandboxStatus::Running))>
                {move || view! { <ExecPanel sandbox_id=id.get() /> <TerminalPanel sandbox_id=id.get() /> }}
            </Show>
            <Show when=move || !sandbox.with(|s| matches!(s, Some(Err(_))))>
            <h2 id="usage">"Usage"</h2>
            {move || view! {
                <UsageCharts
                    of=UsageOf::Sandbox(id.get())
                    empty="Nothing measured yet: usage is measured every few seconds while the sandbox runs in a container."
                />
            }}
            <h2 id="record">"Record"</h2>
            <RawView value=record what="this sandbox" />
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
    let details = sandbox.details.clone().unwrap_or_default();
    let status = info.sandbox_status;
    let usage = info.current_resource_usage.map(|u| {
        let gpus = if u.gpu_count_used > 0 {
            format!(", {} GPUs", u.gpu_count_used)
        } else {
            String::new()
        };
        // The schema counts memory in (decimal) megabytes.
        format!(
            "{} CPU, {} memory{gpus}",
            format_cpu(u.cpu_millicores_used),
            format_bytes(u.memory_mb_used * 1_000_000)
        )
    });
    // Only from the local gateway's `details`; an API without them shows none of these.
    let has_details = sandbox.details.is_some();
    let command = command_line(&details.command, &details.args);
    let reserved = &details.reserved;
    let reserved = has_details.then(|| {
        format!(
            "{}, {}{}",
            format_cpu(reserved.cpu_millicores),
            format_bytes(reserved.memory_bytes),
            if reserved.gpu_count > 0 {
                format!(", {} GPUs", reserved.gpu_count)
            } else {
                String::new()
            }
        )
    });
    let requested = requested(
        details.resource_requests.as_ref(),
        details.resource_limits.as_ref(),
    );
    // How long it ran (ended) or has run (still going); not known for an ended
    // sandbox whose end time the API does not give.
    let until = match (status.is_terminal(), details.ended_at_time) {
        (_, Some(ended)) => Some(ended),
        (false, None) => Some(now()),
        (true, None) => None,
    };
    let ran = info
        .started_at_time
        .zip(until)
        .map(|(at, until)| format_duration((until - at).whole_seconds()));
    let fact =
        |label: &'static str, value: AnyView| view! { <div><dt>{label}</dt><dd>{value}</dd></div> };
    view! {
        <div class="card">
            <dl class="facts grid">
                <div>
                    <dt>"Status"</dt>
                    <dd>
                        <span class=format!("status {}", status_class(status))>{format_enum(status.as_str(), "SANDBOX_STATUS_")}</span>
                        {info.unisolated.then(|| view! { " " <span class="badge warning" title="It runs as a plain process of its runner's machine, not in a container: it can read that machine's files and reach its network">"unisolated"</span> })}
                    </dd>
                </div>
                {(!sandbox.status_reason.is_empty()).then(|| view! { <div><dt>"Reason"</dt><dd class="status-reason">{sandbox.status_reason.clone()}</dd></div> })}
                {sandbox.exit_code.map(|code| view! { <div><dt>"Exit code"</dt><dd class="exit-code">{code}</dd></div> })}
                {details.created_at_time.map(|at| fact("Created", view! { <Moment at /> }.into_any()))}
                {info.started_at_time.map(|at| fact("Started", view! { <Moment at /> }.into_any()))}
                {details.ended_at_time.map(|at| fact("Ended", view! { <Moment at /> }.into_any()))}
                {ran.map(|ran| fact(if status.is_terminal() { "Ran for" } else { "Running for" }, view! { <span class="duration">{ran}</span> }.into_any()))}
                {(!details.container_image.is_empty()).then(|| {
                    let image = details.container_image.clone();
                    view! { <div class="wide"><dt>"Image"</dt><dd class="image"><code>{image.clone()}</code><CopyButton text=image what="the image" /></dd></div> }
                })}
                {(!command.is_empty()).then(|| view! {
                    <div class="wide"><dt>"Command"</dt><dd class="command"><code>{command.clone()}</code><CopyButton text=command.clone() what="the command" /></dd></div>
                })}
                <div>
                    <dt>"Runner"</dt>
                    <dd>{
                        let href = format!("/runners/{}", info.runner_id);
                        view! { <a href=href.clone() rel=rel_for(&href)>{info.runner_id.clone()}</a> }
                    }</dd>
                </div>
                <div>
                    <dt>"Profile"</dt>
                    <dd class="profile-name">{
                        let href = format!("/profiles/{}", info.profile_id);
                        view! { <a href=href.clone() rel=rel_for(&href)>{profile}</a> }
                    }</dd>
                </div>
                {requested.map(|r| fact("Requested", view! { <span class="requested">{r}</span> }.into_any()))}
                {reserved.map(|r| fact(if status.is_terminal() { "Reserved while it ran" } else { "Reserved" }, view! { <span class="reserved">{r}</span> }.into_any()))}
                {usage.map(|u| fact("Using now", u.into_any()))}
                <div>
                    <dt>"Egress"</dt>
                    <dd>
                        {info.applied_egress_mode.clone()}
                        {info.unenforced_egress.then(|| view! { " " <span class="badge warning" title="The local runner cannot enforce this egress mode; traffic is not restricted">"not enforced"</span> })}
                    </dd>
                </div>
                {fact("Ingress", if info.applied_ingress_mode.is_empty() { "none".to_owned() } else { info.applied_ingress_mode.clone() }.into_any())}
                {(!info.service_address.is_empty()).then(|| fact("Address", view! { <code>{info.service_address.clone()}</code> }.into_any()))}
                {(!info.exposed_ports.is_empty()).then(|| {
                    let ports: Vec<String> = info.exposed_ports.iter().map(|p| {
                        let name = if p.name.is_empty() { String::new() } else { format!(" ({})", p.name) };
                        format!("{}{name}", p.container_port)
                    }).collect();
                    fact("Exposed ports", ports.join(", ").into_any())
                })}
                {(!details.tags.is_empty()).then(|| fact("Tags", view! {
                    <ul class="chips">{details.tags.iter().map(|t| view! { <li class="chip">{t.clone()}</li> }).collect_view()}</ul>
                }.into_any()))}
            </dl>
        </div>
    }
}

/// The command and its arguments as one line, each word quoted when a shell would need
/// it, so the line can be pasted.
fn command_line(command: &str, args: &[String]) -> String {
    if command.is_empty() {
        return String::new();
    }
    std::iter::once(command)
        .chain(args.iter().map(String::as_str))
        .map(|word| {
            // An empty word stays, as '' (dropping it would change the command).
            let plain = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
            if plain {
                word.to_owned()
            } else {
                format!("'{}'", word.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the request asked for, as `cpu 500m, memory 1Gi (limits: cpu 1)`; `None` when it
/// asked for nothing (the profile's defaults apply).
fn requested(
    requests: Option<&ResourceRequest>,
    limits: Option<&ResourceRequest>,
) -> Option<String> {
    let words = |r: &ResourceRequest| {
        let mut parts = Vec::new();
        if !r.cpu.is_empty() {
            parts.push(format!("cpu {}", r.cpu));
        }
        if !r.memory.is_empty() {
            parts.push(format!("memory {}", r.memory));
        }
        if let Some(gpu) = r.gpu.as_ref().filter(|g| g.gpu_count > 0) {
            parts.push(format!("{} {} GPUs", gpu.gpu_count, gpu.gpu_type).replace("  ", " "));
        }
        parts.join(", ")
    };
    let asked = requests.map(words).unwrap_or_default();
    let capped = limits.map(words).unwrap_or_default();
    match (asked.is_empty(), capped.is_empty()) {
        (true, true) => None,
        (false, true) => Some(asked),
        (true, false) => Some(format!("limits: {capped}")),
        (false, false) => Some(format!("{asked} (limits: {capped})")),
    }
}
