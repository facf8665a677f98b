//! Runners: where a developer can run, with what is free right now. Every filter and
//! the sort live in the URL. Filtering runs in the browser with the same code the
//! gateway uses (`DiscoveryFilter`), so typing in a filter never waits for the network,
//! and only the rows in view are in the DOM, so 10,000 runners scroll like fifty.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use sandbox_api::discovery::{AvailableRunner, ProfileSummary};
use sandbox_api::filter_choices::{Facet, runner_choices};
use sandbox_api::filters::DiscoveryFilter;
use sandbox_api::format::{format_bytes, format_cpu};

use crate::api::{ApiError, use_api};
use crate::components::capacity_bar::{CapacityBar, format_count};
use crate::components::discovery_filters::{DiscoveryFilters, FilterChips};
use crate::components::error_panel::ErrorPanel;
use crate::connectivity::use_connectivity;
use crate::embed::Embedding;
use crate::query::{Sort, discovery_filter, go, link, rel_for, sort_link};
use crate::virtual_window::{scroll_to_show, visible_rows};

/// How often the list refreshes itself, at most.
const REFRESH_EVERY: Duration = Duration::from_secs(5);
/// Every row is this many pixels tall (the stylesheet reads it from `--row-height`),
/// which keeps the virtual window's arithmetic exact. Whole pixels, so styles are
/// written without float formatting.
const ROW_HEIGHT_PX: u32 = 48;
const ROW_HEIGHT: f64 = ROW_HEIGHT_PX as f64;
/// Profile chips a row shows before "+N" (the cell's title lists them all): one long
/// name and the "+N" fit the column at any width the table allows.
const CHIPS_SHOWN: usize = 1;

/// A runner with its profile summaries. `revision` changes only when the runner's data
/// does, so a refresh re-renders only the rows that changed (keeping text selection and
/// focus in the others).
#[derive(Clone, PartialEq)]
struct Row {
    runner: AvailableRunner,
    profiles: Vec<ProfileSummary>,
    revision: u64,
}

type Rows = Arc<Vec<Row>>;

#[component]
pub fn RunnersPage() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(discovery_filter));
    let sort = Memo::new(move |_| query.with(|q| Sort::parse(q.get_str("sort"), "runner")));
    let will_it_fit = link("/will-it-fit", &[], expect_context::<Embedding>().embedded);

    let refreshes = RwSignal::new(0u64);
    let fetched = LocalResource::new(move || {
        refreshes.track();
        connectivity.recoveries();
        let api = api.clone();
        async move {
            let started = js_sys::Date::now();
            let everything = DiscoveryFilter::default();
            // Both lists page sequentially; fetching them side by side halves the wait.
            let (runners, profiles) = futures_util::future::join(
                api.list_available_runners(&everything),
                api.list_profiles(&everything),
            )
            .await;
            let (runners, profiles) = (runners?, profiles?);
            let took = Duration::from_secs_f64((js_sys::Date::now() - started).max(0.0) / 1000.0);
            Ok::<_, ApiError>((runners, profiles, took))
        }
    });
    // The next refresh comes REFRESH_EVERY after this one, or later for a fleet so large
    // that fetching it takes a while: refreshing never takes more than a tenth of the
    // time. A refresh asked for meanwhile (the button) supersedes the timer.
    let schedule_refresh = move |took: Duration| {
        let at = refreshes.get_untracked();
        set_timeout(
            move || {
                if refreshes.try_get_untracked() == Some(at) {
                    refreshes.update(|n| *n += 1);
                }
            },
            REFRESH_EVERY.max(took * 10),
        );
    };
    // The last good list stays on screen while a refresh fails; `failure` says why it
    // is not changing.
    let rows = RwSignal::new(None::<Rows>);
    let failure = RwSignal::new(None::<ApiError>);
    let next_revision = StoredValue::new(0u64);
    Effect::new(move |_| match fetched.get() {
        Some(Ok((runners, profiles, took))) => {
            let previous = rows.get_untracked();
            let merged = next_revision.try_update_value(|revision| {
                merge(
                    previous.as_deref().map(Vec::as_slice),
                    runners,
                    profiles,
                    revision,
                )
            });
            rows.set(merged.map(Arc::new));
            failure.set(None);
            schedule_refresh(took);
        }
        Some(Err(error)) => {
            failure.set(Some(error));
            schedule_refresh(Duration::ZERO);
        }
        None => {}
    });
    let choices = Callback::new(move |(facet, filter): (Facet, DiscoveryFilter)| {
        rows.with(|rows| {
            rows.as_deref().map_or_else(Vec::new, |rows| {
                let runners = rows.iter().map(|r| (&r.runner, r.profiles.as_slice()));
                runner_choices(&filter, facet, runners)
            })
        })
    });
    let shown = Memo::new(move |_| {
        let (filter, sort) = (filter.get(), sort.get());
        rows.with(|rows| {
            rows.as_deref()
                .map(|rows| filtered_and_sorted(rows, &filter, &sort))
                .unwrap_or_default()
        })
    });

    view! {
        <section class="page" aria-labelledby="runners-heading">
            <header class="page-header">
                <h1 id="runners-heading">"Runners"</h1>
                <div class="header-actions">
                    <a class="button" href=will_it_fit.clone() rel=rel_for(&will_it_fit)>"Will it fit?"</a>
                    <button class="button" on:click=move |_| refreshes.update(|n| *n += 1)>"Refresh"</button>
                </div>
            </header>
            <DiscoveryFilters path="/runners" filter sort choices counted=["runner", "runners"] />
            <FilterChips path="/runners" filter sort />
            {move || match (failure.get(), rows.with(Option::is_some)) {
                (None, false) => Some(view! { <p class="loading" role="status">"Loading runners…"</p> }.into_any()),
                (Some(ApiError::Unreachable(_)), true) => Some(
                    view! { <p class="hint stale" role="status">"Showing the runners as of the last successful refresh."</p> }.into_any(),
                ),
                (Some(error), _) => Some(view! { <ErrorPanel title="Could not load runners" error /> }.into_any()),
                (None, true) => None,
            }}
            <Show when=move || rows.with(Option::is_some)>
                <RunnerTable rows shown filter sort />
            </Show>
        </section>
    }
}

/// The new list as rows, keeping the revision of every runner whose data is unchanged.
fn merge(
    previous: Option<&[Row]>,
    runners: Vec<AvailableRunner>,
    profiles: Vec<ProfileSummary>,
    next_revision: &mut u64,
) -> Vec<Row> {
    let previous: HashMap<&str, &Row> = previous
        .unwrap_or_default()
        .iter()
        .map(|row| (row.runner.runner_id.as_str(), row))
        .collect();
    let mut by_runner: HashMap<String, Vec<ProfileSummary>> = HashMap::new();
    for profile in profiles {
        by_runner
            .entry(profile.runner_id.clone())
            .or_default()
            .push(profile);
    }
    runners
        .into_iter()
        .map(|runner| {
            let profiles = by_runner.remove(&runner.runner_id).unwrap_or_default();
            let revision = match previous.get(runner.runner_id.as_str()) {
                Some(old) if old.runner == runner && old.profiles == profiles => old.revision,
                _ => {
                    *next_revision += 1;
                    *next_revision
                }
            };
            Row {
                runner,
                profiles,
                revision,
            }
        })
        .collect()
}

/// Positions in `rows` of the runners that pass `filter`, in `sort` order.
fn filtered_and_sorted(rows: &[Row], filter: &DiscoveryFilter, sort: &Sort) -> Vec<u32> {
    let mut shown: Vec<u32> = (0..rows.len() as u32)
        .filter(|&i| {
            let row = &rows[i as usize];
            filter.matches_runner(&row.runner, &row.profiles)
        })
        .collect();
    // Ties are broken by runner ID, so the order is total and an unstable sort (less code)
    // gives the same result.
    shown.sort_unstable_by(|&a, &b| {
        let (a, b) = (&rows[a as usize].runner, &rows[b as usize].runner);
        let (ra, rb) = (resources(a), resources(b));
        let order = match sort.column.as_str() {
            "group" => a.runner_group_id.cmp(&b.runner_group_id),
            "zone" => zone(a).cmp(zone(b)),
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
    shown
}

fn zone(runner: &AvailableRunner) -> &str {
    runner
        .tags
        .iter()
        .find_map(|t| t.strip_prefix("zone:"))
        .unwrap_or_default()
}

fn resources(runner: &AvailableRunner) -> (i64, i64, i64, i32) {
    runner.resources.as_ref().map_or((0, 0, 0, 0), |r| {
        (
            r.available_cpu_millicores,
            r.available_memory_bytes,
            r.available_gpu_count,
            r.running_sandboxes,
        )
    })
}

#[component]
fn RunnerTable(
    rows: RwSignal<Option<Rows>>,
    shown: Memo<Vec<u32>>,
    filter: Memo<DiscoveryFilter>,
    sort: Memo<Sort>,
) -> impl IntoView {
    let embedded = expect_context::<Embedding>().embedded;
    let navigate = use_navigate();
    let scroller = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0.0);
    // Until the first scroll or resize measures it, assume a tall viewport: rendering a
    // few rows too many is harmless, too few would show a gap.
    let viewport = RwSignal::new(1200.0);
    let selected = RwSignal::new(None::<String>);
    let measure = move || {
        if let Some(element) = scroller.get_untracked() {
            scroll_top.set(element.scroll_top() as f64);
            viewport.set(element.client_height() as f64);
        }
    };
    Effect::new(move |_| {
        if scroller.get().is_some() {
            measure();
        }
    });
    let window = Memo::new(move |_| {
        shown.with(|s| visible_rows(scroll_top.get(), viewport.get(), ROW_HEIGHT, s.len()))
    });
    let total = move || rows.with(|r| r.as_ref().map_or(0, |r| r.len()));
    let visible = move || {
        let range = window.get();
        rows.with(|rows| {
            let Some(rows) = rows else { return Vec::new() };
            shown.with(|shown| {
                shown[range.clone()]
                    .iter()
                    .zip(range.clone())
                    .map(|(&i, position)| (position, rows[i as usize].clone()))
                    .collect::<Vec<_>>()
            })
        })
    };
    // Arrow keys move the selection (which survives refreshes and filtering, being a
    // runner ID), Enter opens it.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let step: isize = match ev.key().as_str() {
            "ArrowDown" => 1,
            "ArrowUp" => -1,
            "Enter" => {
                if let Some(id) = selected.get_untracked() {
                    ev.prevent_default();
                    go(&navigate, &runner_link(&id, embedded), false);
                }
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        let next = shown.with_untracked(|shown| {
            let at = selected.with_untracked(|id| {
                id.as_ref().and_then(|id| {
                    rows.with_untracked(|rows| {
                        let rows = rows.as_ref()?;
                        shown
                            .iter()
                            .position(|&i| rows[i as usize].runner.runner_id == *id)
                    })
                })
            });
            let last = shown.len().checked_sub(1)?;
            let index = match at {
                Some(at) => at.saturating_add_signed(step).min(last),
                None => 0,
            };
            let id = rows.with_untracked(|rows| {
                rows.as_ref()
                    .map(|rows| rows[shown[index] as usize].runner.runner_id.clone())
            })?;
            Some((index, id))
        });
        if let Some((index, id)) = next {
            selected.set(Some(id));
            if let Some(element) = scroller.get_untracked()
                && let Some(top) = scroll_to_show(
                    index,
                    element.scroll_top() as f64,
                    element.client_height() as f64 - header_height(&element),
                    ROW_HEIGHT,
                )
            {
                element.set_scroll_top(top as i32);
            }
        }
    };
    // The same markup as `SortHeader`, written out here because this table stays mounted
    // while the sort changes (its rows are a virtual window), so its headers follow the
    // sort reactively; `SortHeader` is made for tables drawn again.
    let header = move |column: &'static str, label: &'static str| {
        let state = move || sort.with(|sort| sort.aria_sort(column));
        let href = move || sort_link("/runners", &filter.get(), &sort.get(), column, embedded);
        view! {
            <th scope="col" aria-sort=state>
                <a class="sort" href=href>{label}</a>
            </th>
        }
    };
    // Stands in for `rows` rows out of view.
    let spacer = move |rows: usize| {
        let height = rows * ROW_HEIGHT_PX as usize;
        (rows > 0).then(|| view! { <tr class="spacer" aria-hidden="true"><td colspan="11" style=format!("height: {height}px")></td></tr> })
    };
    view! {
        {move || {
            let (count, total) = (shown.with(Vec::len), total());
            (count == 0).then(|| {
                let message = if total == 0 {
                    "No runners are available to your organization yet. An administrator creates them."
                } else {
                    "No runner matches these filters. Remove a filter to see more."
                };
                view! { <div class="empty-state"><p class="empty-title">"No runners"</p><p>{message}</p></div> }
            })
        }}
        <div
            class="virtual-scroll"
            class:hidden=move || shown.with(Vec::is_empty)
            style=format!("--row-height: {ROW_HEIGHT_PX}px")
            node_ref=scroller
            tabindex="0"
            role="region"
            aria-label="Runners, use the arrow keys to select and Enter to open"
            on:scroll=move |_| measure()
            on:keydown=on_key
        >
            <table class="data-table runners" aria-rowcount=move || shown.with(Vec::len) + 1>
                <caption>{move || format!("{} of {} runners", shown.with(Vec::len), total())}</caption>
                <colgroup>
                    <col class="col-runner" /><col class="col-group" /><col class="col-zone" /><col class="col-health" />
                    <col class="col-gpus" /><col class="col-arch" /><col class="col-profiles" /><col class="col-running" />
                    <col class="col-capacity" /><col class="col-capacity" /><col class="col-capacity" />
                </colgroup>
                <thead>
                    <tr aria-rowindex="1">
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
                    {move || spacer(window.get().start)}
                    <For
                        each=visible
                        key=|(position, row)| (*position, row.runner.runner_id.clone(), row.revision)
                        children=move |(position, row)| view! { <RunnerRow row position selected embedded /> }
                    />
                    {move || spacer(shown.with(Vec::len).saturating_sub(window.get().end))}
                </tbody>
            </table>
        </div>
    }
}

/// The sticky header's height, which covers the top of the scroll area.
fn header_height(scroller: &web_sys::HtmlDivElement) -> f64 {
    scroller
        .query_selector("thead")
        .ok()
        .flatten()
        .map_or(0.0, |head| head.client_height() as f64)
}

fn runner_link(id: &str, embedded: bool) -> String {
    link(
        &format!("/runners/{}", js_sys::encode_uri_component(id)),
        &[],
        embedded,
    )
}

#[component]
fn RunnerRow(
    row: Row,
    position: usize,
    selected: RwSignal<Option<String>>,
    embedded: bool,
) -> impl IntoView {
    let runner = row.runner;
    let capabilities = runner.capabilities.clone().unwrap_or_default();
    let (cpu, memory, gpus, running) = resources(&runner);
    let id = runner.runner_id.clone();
    let href = runner_link(&id, embedded);
    let is_selected = {
        let id = id.clone();
        move || selected.with(|s| s.as_deref() == Some(id.as_str()))
    };
    let select = {
        let id = id.clone();
        move |_| selected.set(Some(id.clone()))
    };
    view! {
        <tr aria-rowindex=position + 2 class:selected=is_selected.clone() aria-current=move || is_selected().then_some("true") on:click=select>
            <th scope="row" class="name"><a href=href.clone() rel=rel_for(&href)>{id.clone()}</a></th>
            <td>{runner.runner_group_id.clone()}</td>
            <td>{zone(&runner).to_owned()}</td>
            <td>
                {if runner.healthy {
                    view! { <span class="status ok">"Healthy"</span> }
                } else {
                    view! { <span class="status bad">"Unhealthy"</span> }
                }}
            </td>
            <td>{capabilities.supported_gpu_types.join(", ")}</td>
            <td>{capabilities.supported_architectures.join(", ")}</td>
            <td title=runner.profile_names.join(", ")>
                <ul class="chips" aria-label="Profiles">
                    {runner.profile_names.iter().take(CHIPS_SHOWN).map(|name| view! { <li class="chip">{name.clone()}</li> }).collect_view()}
                    {(runner.profile_names.len() > CHIPS_SHOWN).then(|| {
                        let more = runner.profile_names.len() - CHIPS_SHOWN;
                        view! { <li class="chip more" aria-label=format!("and {more} more")>{format!("+{more}")}</li> }
                    })}
                </ul>
            </td>
            <td class="number">{running}</td>
            <td><CapacityBar label="CPU" available=cpu max=capabilities.max_cpu_millicores format=format_cpu compact=true /></td>
            <td><CapacityBar label="Memory" available=memory max=capabilities.max_memory_bytes format=format_bytes compact=true /></td>
            <td><CapacityBar label="GPUs" available=gpus max=capabilities.max_gpu_count format=format_count compact=true /></td>
        </tr>
    }
}
