//! One managed runner for administrators: its installation (with updates), its
//! settings, its profile bindings and their overrides, and deleting it, which names
//! the sandboxes that will stop and follows the runner until it is gone.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use sandbox_api::role::Role;
use sandbox_api::runner::Runner;
use sandbox_api::runner_rules::{changed_settings, validate_runner_state};

use crate::api::{ApiError, use_api};
use crate::components::admin_only::AdminOnly;
use crate::components::binding_manager::BindingManager;
use crate::components::error_panel::ErrorPanel;
use crate::components::installation::{Installation, channel_text};
use crate::components::runner_settings::{FieldProblems, RunnerSettings};
use crate::components::toasts::use_toasts;
use crate::drafts;
use crate::embed::Embedding;
use crate::query::{link, rel_for};
use crate::session::use_session;
use crate::sleep::sleep;

/// How often a deletion in progress is looked at.
const FOLLOW_DELETE_EVERY: Duration = Duration::from_secs(1);

#[component]
pub fn ManagedRunnerPage() -> impl IntoView {
    let api = use_api();
    let params = use_params_map();
    let runner_id = Memo::new(move |_| params.with(|p| p.get("runner").unwrap_or_default()));
    let reloads = RwSignal::new(0u32);
    let runner = LocalResource::new(move || {
        reloads.track();
        let (api, id) = (api.clone(), runner_id.get());
        async move { api.get_managed_runner(&id).await }
    });
    let discovery = move || format!("/runners/{}", runner_id.get());
    view! {
        <section class="page" aria-labelledby="runner-admin-heading">
            <header class="page-header">
                <h1 id="runner-admin-heading">{move || format!("Runner {}", runner_id.get())}</h1>
                <a class="button" href=discovery rel=move || rel_for(&discovery())>"Capacity and sandboxes"</a>
            </header>
            {move || match runner.get() {
                None => view! { <p class="loading" role="status">"Loading the runner…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel title="Could not load this runner" error /> }.into_any(),
                Some(Ok(current)) => {
                    let id = runner_id.get_untracked();
                    let (bindings_id, delete_id) = (id.clone(), id.clone());
                    let reload = Callback::new(move |()| reloads.update(|n| *n += 1));
                    view! {
                        <div class="cards">
                            <div class="card">
                                <h2>"Installation"</h2>
                                <Installation runner_id=id.clone() />
                            </div>
                        </div>
                        <SettingsCard runner=current on_saved=reload />
                        <AdminOnly what="change a runner's profile bindings">
                            <BindingManager runner_id=bindings_id.clone() on_applied=reload />
                        </AdminOnly>
                        <AdminOnly what="delete runners">
                            <DeleteRunner runner_id=delete_id.clone() />
                        </AdminOnly>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

#[component]
fn SettingsCard(runner: Runner, on_saved: Callback<()>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let original = StoredValue::new(runner.clone());
    // An unsaved edit survives a reload while the runner has not changed since.
    let key = format!(
        "settings:{}",
        runner
            .identity
            .as_ref()
            .map_or("", |i| i.runner_id.as_str())
    );
    let restored = drafts::load_json::<Runner>(&key).filter(|saved| saved.etag == runner.etag);
    let draft = RwSignal::new(restored.unwrap_or(runner));
    let changed =
        Memo::new(move |_| draft.with(|d| original.with_value(|o| changed_settings(o, d))));
    Effect::new(move |_| {
        if changed.with(Vec::is_empty) {
            drafts::discard(&key);
        } else {
            drafts::save_json(&key, &draft.get());
        }
    });
    let changed =
        Memo::new(move |_| draft.with(|d| original.with_value(|o| changed_settings(o, d))));
    let rule_problems = Memo::new(move |_| {
        draft.with(|d| {
            // The bindings have their own editor; only the settings count here.
            let settings_only = Runner {
                profile_bindings: Vec::new(),
                ..d.clone()
            };
            validate_runner_state(&settings_only, |_| None)
                .into_iter()
                .filter(|v| !v.field.starts_with("runner.profile_bindings"))
                .map(|v| (v.field, v.message))
                .collect::<Vec<_>>()
        })
    });
    let save = Action::new_local(move |runner: &Runner| {
        let api = api.clone();
        let runner = runner.clone();
        let fields = changed.get_untracked();
        async move {
            let id = runner
                .identity
                .as_ref()
                .map(|i| i.runner_id.clone())
                .unwrap_or_default();
            let mask: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
            let etag = runner.etag.clone();
            api.update_managed_runner(&id, runner, &mask, &etag).await
        }
    });
    let server_problems = Signal::derive(move || {
        let mut all = rule_problems.get();
        if let Some(Err(error)) = save.value().get() {
            all.extend(error.status().into_iter().flat_map(|s| {
                s.field_violations()
                    .map(|v| (v.field.clone(), v.description.clone()))
                    .collect::<Vec<_>>()
            }));
        }
        all
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            toasts.success("The settings were saved");
            on_saved.run(());
        }
    });
    view! {
        <section class="card runner-form" aria-labelledby="settings-heading">
            <h2 id="settings-heading">"Settings"</h2>
            {move || (use_session().role() != Some(Role::Admin)).then(|| original.with_value(settings_facts))}
            <AdminOnly what="change a runner's settings">
                <form class="stack" novalidate on:submit=move |ev| {
                    ev.prevent_default();
                    if rule_problems.with_untracked(Vec::is_empty) && !changed.with_untracked(Vec::is_empty) {
                        save.dispatch(draft.get_untracked());
                    }
                }>
                    <RunnerSettings runner=draft problems=FieldProblems(server_problems) />
                    {move || match save.value().get() {
                        Some(Err(error)) if error.is_stale_etag() => Some(view! {
                            <div class="error-panel" role="alert">
                                <p class="error-title">"Someone changed this runner since you opened it; nothing was saved"</p>
                                <p>"Load their version to edit it again (your edits here are dropped)."</p>
                                <button type="button" class="button" on:click=move |_| on_saved.run(())>"Load their version"</button>
                            </div>
                        }.into_any()),
                        Some(Err(error)) => Some(view! { <ErrorPanel title="The settings were not saved; your edits are kept" error /> }.into_any()),
                        _ => None,
                    }}
                    <div class="form-actions">
                        <button type="submit" class="button primary" disabled=move || changed.with(Vec::is_empty) || !rule_problems.with(Vec::is_empty) || save.pending().get()>
                            {move || if save.pending().get() { "Saving…" } else { "Save settings" }}
                        </button>
                        <button type="button" class="button quiet" disabled=move || changed.with(Vec::is_empty) on:click=move |_| draft.set(original.get_value())>
                            "Undo my changes"
                        </button>
                    </div>
                </form>
            </AdminOnly>
        </section>
    }
}

/// The settings as facts, for those who may read but not change them.
fn settings_facts(runner: &Runner) -> impl IntoView + use<> {
    let identity = runner.identity.clone().unwrap_or_default();
    let windows: Vec<String> = runner
        .managed_spec
        .as_ref()
        .and_then(|s| s.maintenance_policy.as_ref())
        .map(|p| {
            p.windows
                .iter()
                .map(|w| format!("{} for {} min", w.cron, w.duration_seconds / 60))
                .collect()
        })
        .unwrap_or_default();
    let or_none = |text: String| {
        if text.is_empty() {
            "none".to_owned()
        } else {
            text
        }
    };
    view! {
        <dl class="facts">
            <dt>"Display name"</dt>
            <dd>{or_none(runner.display_name.clone())}</dd>
            <dt>"Zone"</dt>
            <dd>{identity.zone}</dd>
            <dt>"Runner group"</dt>
            <dd>{or_none(identity.runner_group_id)}</dd>
            <dt>"Release channel"</dt>
            <dd>{channel_text(runner)}</dd>
            <dt>"Maintenance windows"</dt>
            <dd>{if windows.is_empty() { "any time".to_owned() } else { windows.join("; ") }}</dd>
        </dl>
    }
}

/// Where a deletion is.
#[derive(Clone, PartialEq)]
enum Deletion {
    Idle,
    /// Asked to confirm, naming the sandboxes that will stop.
    Confirming(Result<Vec<String>, ApiError>),
    Deleting,
    Failed(ApiError),
}

#[component]
fn DeleteRunner(runner_id: String) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let embedded = expect_context::<Embedding>().embedded;
    let state = RwSignal::new(Deletion::Idle);
    let ask = {
        let (api, runner_id) = (api.clone(), runner_id.clone());
        move |_| {
            let (api, runner_id) = (api.clone(), runner_id.clone());
            leptos::task::spawn_local(async move {
                let sandboxes = api
                    .list_sandboxes_on(&runner_id)
                    .await
                    .map(|list| list.into_iter().map(|s| s.sandbox_id).collect());
                state.set(Deletion::Confirming(sandboxes));
            });
        }
    };
    let delete = {
        let runner_id = runner_id.clone();
        move |_| {
            state.set(Deletion::Deleting);
            let (api, runner_id, navigate) = (api.clone(), runner_id.clone(), navigate.clone());
            leptos::task::spawn_local(async move {
                if let Err(error) = api.delete_managed_runner(&runner_id).await {
                    state.set(Deletion::Failed(error));
                    return;
                }
                // The runner passes through DELETING while its sandboxes stop.
                loop {
                    match api.get_managed_runner(&runner_id).await {
                        Err(ApiError::Rejected(status)) if status.http_status() == 404 => break,
                        Err(error) if !matches!(error, ApiError::Unreachable(_)) => {
                            state.set(Deletion::Failed(error));
                            return;
                        }
                        _ => sleep(FOLLOW_DELETE_EVERY).await,
                    }
                }
                toasts.success(format!("Runner {runner_id} was deleted"));
                navigate(&link("/managed-runners", &[], embedded), Default::default());
            });
        }
    };
    let runner_label = runner_id.clone();
    view! {
        <section class="card danger-zone" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete this runner"</h2>
            {move || match state.get() {
                Deletion::Idle => view! {
                    <p class="hint">"Every sandbox on it stops; the profiles it binds remain."</p>
                    <button type="button" class="button danger" on:click=ask.clone()>"Delete runner…"</button>
                }
                .into_any(),
                Deletion::Confirming(sandboxes) => {
                    let listing = match sandboxes {
                        Ok(ids) if ids.is_empty() => view! { <p>"No sandbox runs on it."</p> }.into_any(),
                        Ok(ids) => view! {
                            <p>{if ids.len() == 1 { "This sandbox will stop:".to_owned() } else { format!("These {} sandboxes will stop:", ids.len()) }}</p>
                            <ul class="doomed" aria-label="Sandboxes that will stop">
                                {ids.into_iter().map(|id| view! { <li><code>{id}</code></li> }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Err(error) => view! { <ErrorPanel title="Could not list the sandboxes that would stop" error /> }.into_any(),
                    };
                    view! {
                        <div class="confirm" role="group" aria-label="Confirm the deletion">
                            <p>{format!("Delete runner {runner_label}?")}</p>
                            {listing}
                            <button type="button" class="button danger" on:click=delete.clone()>{format!("Delete {runner_label}")}</button>
                            <button type="button" class="button quiet" on:click=move |_| state.set(Deletion::Idle)>"Cancel"</button>
                        </div>
                    }
                    .into_any()
                }
                Deletion::Deleting => view! { <p class="loading" role="status">"Deleting: stopping its sandboxes…"</p> }.into_any(),
                Deletion::Failed(error) => view! {
                    <ErrorPanel title="The runner was not deleted" error />
                    <button type="button" class="button" on:click=move |_| state.set(Deletion::Idle)>"Back"</button>
                }
                .into_any(),
            }}
        </section>
    }
}
