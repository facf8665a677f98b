//! Activity: the organization's history, newest first, filtered by kind of object and
//! by what happened; the filters live in the URL (`?kind=RUNNER&action=UPDATED`).

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use sandbox_api::history::{HistoryAction, ObjectKind};

use crate::api::HistoryQuery;
use crate::components::history::HistoryList;
use crate::embed::Embedding;
use crate::query::link;

const KINDS: [ObjectKind; 3] = [
    ObjectKind::ProfileTemplate,
    ObjectKind::Runner,
    ObjectKind::Sandbox,
];

const ACTIONS: [(HistoryAction, &str); 5] = [
    (HistoryAction::Created, "Created or started"),
    (HistoryAction::Updated, "Changed"),
    (HistoryAction::Deleted, "Deleted"),
    (HistoryAction::StopRequested, "Asked to stop"),
    (HistoryAction::StatusChanged, "Status changed"),
];

#[component]
pub fn ActivityPage() -> impl IntoView {
    let url = use_query_map();
    let navigate = use_navigate();
    let embedded = expect_context::<Embedding>().embedded;
    let query = Memo::new(move |_| {
        url.with(|q| HistoryQuery {
            object_kind: q.get_str("kind").and_then(ObjectKind::parse),
            action: q.get_str("action").and_then(HistoryAction::parse),
            object_id: String::new(),
        })
    });
    // A changed filter is a new URL (so it can be shared and survives a reload).
    let set = move |name: &'static str, value: String| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for key in ["kind", "action"] {
            let current = if key == name {
                value.clone()
            } else {
                url.with_untracked(|q| q.get_str(key).unwrap_or_default().to_owned())
            };
            if !current.is_empty() {
                pairs.push((key, current));
            }
        }
        navigate(&link("/activity", &pairs, embedded), Default::default());
    };
    let set_kind = set.clone();
    view! {
        <section class="page" aria-labelledby="activity-heading">
            <header class="page-header">
                <h1 id="activity-heading">"Activity"</h1>
            </header>
            <p class="hint">"Who changed profiles, runners and sandboxes in your organization, and what, newest first."</p>
            <form class="filters" role="search" aria-label="Activity filters" on:submit=|ev| ev.prevent_default()>
                <div class="field">
                    <label for="activity-kind">"Kind"</label>
                    <select
                        id="activity-kind"
                        prop:value=move || query.with(|q| q.object_kind.map(|k| k.as_str().to_owned()).unwrap_or_default())
                        on:change=move |ev| set_kind("kind", event_target_value(&ev))
                    >
                        <option value="">"Everything"</option>
                        {KINDS.iter().map(|kind| view! { <option value=kind.as_str()>{capitalized(kind.noun())}"s"</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="activity-action">"What happened"</label>
                    <select
                        id="activity-action"
                        prop:value=move || query.with(|q| q.action.map(|a| a.as_str().to_owned()).unwrap_or_default())
                        on:change=move |ev| set("action", event_target_value(&ev))
                    >
                        <option value="">"Anything"</option>
                        {ACTIONS.iter().map(|(action, words)| view! { <option value=action.as_str()>{*words}</option> }).collect_view()}
                    </select>
                </div>
            </form>
            <HistoryList query show_object=true empty="Nothing recorded matches these filters." />
        </section>
    }
}

fn capitalized(word: &str) -> String {
    let mut text = word.to_owned();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}
