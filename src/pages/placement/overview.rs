//! The overview, where a signed-in user lands: the fleet's health and capacity in use
//! (with the last hour's usage charted), sandboxes by state, the runners that need
//! someone, and the latest sandboxes. Every figure links to the list it counts.

use std::time::Duration;

use leptos::prelude::*;
use sandbox_api::discovery::AvailableRunner;
use sandbox_api::filters::DiscoveryFilter;
use sandbox_api::format::{format_bytes, format_cpu, format_enum};
use sandbox_api::overview::{
    Attention, FleetFigures, SandboxFigures, fleet_figures, needing_attention, percent,
    sandbox_figures,
};
use sandbox_api::sandbox::SandboxInfo;

use crate::api::{ApiError, SandboxQuery, UsageOf, use_api};
use crate::components::error_panel::ErrorPanel;
use crate::components::moment::Moment;
use crate::components::usage_charts::UsageCharts;
use crate::connectivity::use_connectivity;
use crate::query::rel_for;
use crate::repeat;

/// How often the figures refresh while the overview is open.
const REFRESH_EVERY: Duration = Duration::from_secs(10);
/// How many of the latest sandboxes are listed.
const RECENT: usize = 5;

#[derive(Clone)]
struct Figures {
    fleet: FleetFigures,
    sandboxes: SandboxFigures,
    attention: Vec<Attention>,
    recent: Vec<SandboxInfo>,
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let refreshes = RwSignal::new(0u64);
    repeat::every(REFRESH_EVERY, move || refreshes.update(|n| *n += 1));
    let figures = LocalResource::new(move || {
        refreshes.track();
        connectivity.recoveries();
        let api = api.clone();
        async move {
            let runners: Vec<AvailableRunner> = api
                .list_available_runners(&DiscoveryFilter::default())
                .await?;
            let all = SandboxQuery {
                include_stopped: true,
                ..SandboxQuery::default()
            };
            let sandboxes = api.list_sandboxes(&all).await?;
            // The control plane's view of installs; a gateway without one has none.
            let managed = api.list_managed_runners().await.unwrap_or_default();
            Ok::<_, ApiError>(Figures {
                fleet: fleet_figures(&runners),
                sandboxes: sandbox_figures(&sandboxes),
                attention: needing_attention(&managed),
                recent: sandboxes.into_iter().take(RECENT).collect(),
            })
        }
    });
    view! {
        <section class="page" aria-labelledby="overview-heading">
            <header class="page-header">
                <h1 id="overview-heading">"Overview"</h1>
                <button class="button" on:click=move |_| refreshes.update(|n| *n += 1)>"Refresh"</button>
            </header>
            {move || match figures.get() {
                None => view! { <p class="loading" role="status">"Loading the overview…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel title="Could not load the overview" error /> }.into_any(),
                Some(Ok(figures)) => view! { <Figures figures /> }.into_any(),
            }}
            <h2 id="fleet-usage">"Fleet usage, last hour"</h2>
            <UsageCharts
                of=UsageOf::Fleet
                window=Duration::from_secs(3600)
                empty="No sandbox has run in the last hour."
            />
        </section>
    }
}

/// A figure that links to the list it counts.
#[component]
fn Tile(
    href: String,
    value: String,
    #[prop(into)] label: String,
    #[prop(optional)] tone: &'static str,
) -> impl IntoView {
    view! {
        <a class=format!("tile {tone}") href=href.clone() rel=rel_for(&href)>
            <span class="tile-value">{value}</span>
            <span class="tile-label">{label}</span>
        </a>
    }
}

#[component]
fn Figures(figures: Figures) -> impl IntoView {
    let Figures {
        fleet,
        sandboxes,
        attention,
        recent,
    } = figures;
    let unhealthy = fleet.runners - fleet.healthy;
    let capacity = |in_use: i64, total: i64, format: fn(i64) -> String| {
        format!(
            "{} of {} ({}%)",
            format(in_use),
            format(total),
            percent(in_use, total)
        )
    };
    view! {
        <div class="tiles" role="list">
            <div role="listitem">
                <Tile href="/runners".into() value=fleet.runners.to_string() label="runners" />
            </div>
            <div role="listitem">
                <Tile href="/runners?healthyOnly=true".into() value=fleet.healthy.to_string() label="healthy" tone="ok" />
            </div>
            <div role="listitem">
                <Tile href="/runners".into() value=unhealthy.to_string() label="unhealthy or disconnected" tone={if unhealthy > 0 { "bad" } else { "" }} />
            </div>
            <div role="listitem">
                <Tile href="/sandboxes?status=SANDBOX_STATUS_RUNNING".into() value=sandboxes.running.to_string() label="sandboxes running" tone="ok" />
            </div>
            <div role="listitem">
                <Tile href="/sandboxes?status=SANDBOX_STATUS_FAILED&includeStopped=true".into() value=sandboxes.failed.to_string() label="sandboxes failed" tone={if sandboxes.failed > 0 { "bad" } else { "" }} />
            </div>
        </div>
        <div class="cards">
            <div class="card">
                <h2>"Capacity in use"</h2>
                <dl class="facts">
                    <dt>"CPU"</dt>
                    <dd><a href="/runners" rel=rel_for("/runners")>{capacity(fleet.cpu_in_use, fleet.cpu_total, format_cpu)}</a></dd>
                    <dt>"Memory"</dt>
                    <dd><a href="/runners" rel=rel_for("/runners")>{capacity(fleet.memory_in_use, fleet.memory_total, format_bytes)}</a></dd>
                    <dt>"GPUs"</dt>
                    <dd><a href="/runners" rel=rel_for("/runners")>{capacity(fleet.gpus_in_use, fleet.gpus_total, |n| n.to_string())}</a></dd>
                </dl>
            </div>
            <div class="card attention-card">
                <h2>"Runners needing attention"</h2>
                {if attention.is_empty() {
                    view! { <p class="hint">"None: every runner is installed, connected and up to date."</p> }.into_any()
                } else {
                    view! {
                        <ul class="attention">
                            {attention.into_iter().map(|a| {
                                let href = format!("/managed-runners/{}", a.runner_id);
                                view! {
                                    <li>
                                        <a href=href.clone() rel=rel_for(&href)>{a.runner_id}</a>
                                        ": " <span class="attention-why">{a.why}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </div>
        </div>
        <h2>"Latest sandboxes"</h2>
        {if recent.is_empty() {
            view! { <p class="hint">"No sandbox yet. " <a href="/sandboxes/new" rel=rel_for("/sandboxes/new")>"Launch one"</a>"."</p> }.into_any()
        } else {
            view! {
                <table class="data-table recent-sandboxes">
                    <thead>
                        <tr>
                            <th scope="col">"Sandbox"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Runner"</th>
                            <th scope="col">"Started"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {recent.into_iter().map(|s| {
                            let href = format!("/sandboxes/{}", s.sandbox_id);
                            let runner = format!("/runners/{}", s.runner_id);
                            view! {
                                <tr>
                                    <th scope="row" class="name"><a href=href.clone() rel=rel_for(&href)>{s.sandbox_id.clone()}</a></th>
                                    <td data-label="Status">{format_enum(s.sandbox_status.as_str(), "SANDBOX_STATUS_")}</td>
                                    <td data-label="Runner"><a href=runner.clone() rel=rel_for(&runner)>{s.runner_id.clone()}</a></td>
                                    <td data-label="Started">{s.started_at_time.map(|at| view! { <Moment at /> })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
