//! An object's history, or the organization's: who changed what and when, newest
//! first, each change field by field (a secret only as "changed"), a page at a time.

use leptos::prelude::*;
use sandbox_api::history::{FieldChange, HistoryEntry, value_text};

use crate::api::{ApiError, HistoryQuery, use_api};
use crate::components::error_panel::ErrorPanel;
use crate::components::moment::Moment;
use crate::query::rel_for;

/// Changes past this many start folded (a created sandbox lists all it was asked).
const OPEN_CHANGES: usize = 6;

/// What has been loaded so far.
#[derive(Clone, Default)]
struct Loaded {
    entries: Vec<HistoryEntry>,
    /// The next (older) page's token; empty after the last.
    next: String,
}

#[component]
pub fn HistoryList(
    #[prop(into)] query: Signal<HistoryQuery>,
    /// Name each entry's object (the organization's history), not only what changed.
    #[prop(optional)]
    show_object: bool,
    /// Said when there is nothing to show.
    #[prop(into)]
    empty: String,
) -> impl IntoView {
    let api = use_api();
    let reloads = RwSignal::new(0u32);
    let first = {
        let api = api.clone();
        LocalResource::new(move || {
            reloads.track();
            let (api, query) = (api.clone(), query.get());
            async move {
                api.list_history(&query, "").await.map(|page| Loaded {
                    entries: page.entries,
                    next: page.next_page_token,
                })
            }
        })
    };
    // Older pages, appended to the first as they are asked for.
    let older = RwSignal::new(Loaded::default());
    let older_error = RwSignal::new(None::<ApiError>);
    let loading_older = RwSignal::new(false);
    Effect::new(move |_| {
        first.track();
        older.set(Loaded::default());
        older_error.set(None);
    });
    let next_token = move || {
        let from_older = older.with(|o| (!o.entries.is_empty()).then(|| o.next.clone()));
        from_older.or_else(|| {
            first.with(|f| {
                f.as_ref()
                    .and_then(|f| f.as_ref().ok())
                    .map(|f| f.next.clone())
            })
        })
    };
    let load_older = move |_| {
        let Some(token) = next_token().filter(|t| !t.is_empty()) else {
            return;
        };
        let (api, query) = (api.clone(), query.get_untracked());
        loading_older.set(true);
        leptos::task::spawn_local(async move {
            match api.list_history(&query, &token).await {
                Ok(page) => older.update(|o| {
                    o.entries.extend(page.entries);
                    o.next = page.next_page_token;
                }),
                Err(error) => older_error.set(Some(error)),
            }
            loading_older.set(false);
        });
    };
    view! {
        <div class="history">
            <p class="history-tools">
                <button class="button" on:click=move |_| reloads.update(|n| *n += 1)>"Refresh history"</button>
            </p>
            {move || match first.get() {
                None => view! { <p class="loading" role="status">"Loading the history…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel title="Could not load the history" error /> }.into_any(),
                Some(Ok(page)) if page.entries.is_empty() => view! { <p class="hint">{empty.clone()}</p> }.into_any(),
                Some(Ok(page)) => view! {
                    <ol class="history-entries">
                        {page.entries.into_iter().map(|entry| view! { <Entry entry show_object /> }).collect_view()}
                        {move || older.get().entries.into_iter().map(|entry| view! { <Entry entry show_object /> }).collect_view()}
                    </ol>
                }.into_any(),
            }}
            {move || older_error.get().map(|error| view! { <ErrorPanel title="Could not load older entries" error /> })}
            {move || next_token().filter(|t| !t.is_empty()).map(|_| view! {
                <button class="button" on:click=load_older.clone() disabled=loading_older>
                    {move || if loading_older.get() { "Loading…" } else { "Load older entries" }}
                </button>
            })}
        </div>
    }
}

#[component]
fn Entry(entry: HistoryEntry, show_object: bool) -> impl IntoView {
    let verb = entry.action.describe(entry.object_kind);
    let object = show_object.then(|| {
        let text = format!("{} {}", entry.object_kind.noun(), entry.object_name);
        match entry
            .object_kind
            .console_path(&entry.object_id, &entry.object_name)
        {
            Some(href) => view! { <a href=href.clone() rel=rel_for(&href)>{text}</a> }.into_any(),
            None => text.into_any(),
        }
    });
    let count = entry.changes.len();
    view! {
        <li class="history-entry">
            <p class="history-summary">
                {entry.time.map(|at| view! { <Moment at /> })}
                " · "
                <span class="history-actor">{entry.actor.describe()}</span>
                " " {verb} " " {object}
            </p>
            {(count > 0).then(|| view! {
                <details class="history-changes" open=count <= OPEN_CHANGES>
                    <summary>{if count == 1 { "1 field".to_owned() } else { format!("{count} fields") }}</summary>
                    <table class="data-table">
                        <thead>
                            <tr>
                                <th scope="col">"Field"</th>
                                <th scope="col">"Before"</th>
                                <th scope="col">"After"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {entry.changes.into_iter().map(|change| view! { <ChangeRow change /> }).collect_view()}
                        </tbody>
                    </table>
                </details>
            })}
        </li>
    }
}

#[component]
fn ChangeRow(change: FieldChange) -> impl IntoView {
    let cell = |label: &'static str, value: Option<serde_json::Value>| match value {
        Some(value) => {
            view! { <td class="history-value" data-label=label>{value_text(&value)}</td> }
                .into_any()
        }
        None => view! { <td class="history-value absent" data-label=label>"—"</td> }.into_any(),
    };
    view! {
        <tr>
            <th scope="row" class="history-path"><code>{change.path}</code></th>
            {if change.redacted {
                view! { <td colspan="2" class="history-value secret">"Changed (a secret: its value is not kept)"</td> }.into_any()
            } else {
                view! { {cell("Before", change.before)} {cell("After", change.after)} }.into_any()
            }}
        </tr>
    }
}
