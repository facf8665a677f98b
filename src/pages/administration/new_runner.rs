//! Creating a managed runner: its ID, display name, zone, cluster (by ID or by name,
//! exactly one), group, release channel, maintenance windows and the profiles it binds
//! (at least one, exactly one default). `sandbox_api::runner_rules` checks the request
//! as it is typed; the server's violations land on the same fields. Nothing is sent
//! while a rule is broken. The draft survives a reload.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use sandbox_api::runner::{
    ClusterRef, CreateRunnerRequest, ManagedSpec, ManagementMode, ProfileBinding, ReleaseChannel,
    Runner, RunnerIdentity,
};
use sandbox_api::runner_rules::validate_new_runner;
use wasm_bindgen::JsCast;

use crate::api::{ApiError, use_api};
use crate::components::admin_only::AdminOnly;
use crate::components::binding_list::{BindingList, Templates, template_name};
use crate::components::binding_overrides::UnreadOverrides;
use crate::components::error_panel::{ErrorPanel, violation_text};
use crate::components::runner_settings::{FieldProblems, RunnerSettings, identity};
use crate::components::toasts::use_toasts;
use crate::drafts;
use crate::embed::Embedding;
use crate::query::link;

const DRAFT_KEY: &str = "new-runner";
/// Overrides text that does not read yet, kept beside the draft.
const UNREAD_OVERRIDES_KEY: &str = "new-runner:unread-overrides";

#[component]
pub fn NewRunnerPage() -> impl IntoView {
    let api = use_api();
    let templates = LocalResource::new(move || {
        let api = api.clone();
        async move { api.list_profile_templates().await }
    });
    view! {
        <section class="page runner-form" aria-labelledby="new-runner-heading">
            <header class="page-header">
                <h1 id="new-runner-heading">"New runner"</h1>
            </header>
            <AdminOnly what="create runners">
                {move || match templates.get() {
                    None => view! { <p class="loading" role="status">"Loading the profiles…"</p> }.into_any(),
                    Some(Err(error)) => view! { <ErrorPanel title="Could not load the profiles to bind" error /> }.into_any(),
                    Some(Ok(list)) => view! { <NewRunnerForm templates=StoredValue::new(list) /> }.into_any(),
                }}
            </AdminOnly>
        </section>
    }
}

/// Focuses the control of the first field that shows a problem.
fn focus_first_problem() {
    let control = leptos::prelude::document()
        .query_selector(".runner-form .field:has(.field-error) :is(input, select)")
        .ok()
        .flatten();
    if let Some(control) = control.and_then(|c| c.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = control.focus();
    }
}

/// The saved draft, or a new request on the stable channel.
fn restore_draft() -> CreateRunnerRequest {
    drafts::load_json(DRAFT_KEY).unwrap_or_else(|| CreateRunnerRequest {
        runner: fresh_runner(),
        ..CreateRunnerRequest::default()
    })
}

fn fresh_runner() -> Runner {
    Runner {
        managed_spec: Some(ManagedSpec {
            release_channel: ReleaseChannel::Stable,
            ..ManagedSpec::default()
        }),
        ..Runner::default()
    }
}

#[component]
fn NewRunnerForm(templates: Templates) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let embedded = expect_context::<Embedding>().embedded;
    let saved = restore_draft();
    let runner_id = RwSignal::new(saved.runner_id.clone());
    let runner = RwSignal::new(saved.runner.clone());
    let bindings = RwSignal::new(saved.runner.profile_bindings.clone());
    let unread_overrides: UnreadOverrides =
        RwSignal::new(drafts::load_json(UNREAD_OVERRIDES_KEY).unwrap_or_default());
    let saved_cluster = saved.runner.identity.as_ref().map(RunnerIdentity::cluster);
    let by_name =
        RwSignal::new(matches!(saved_cluster, Some(ClusterRef::Name(name)) if !name.is_empty()));
    let cluster = RwSignal::new(
        saved_cluster
            .map(|cluster| cluster.as_str().to_owned())
            .unwrap_or_default(),
    );
    let request = Memo::new(move |_| {
        let mut runner: Runner = runner.get();
        runner.management_mode = ManagementMode::Managed;
        runner.profile_bindings = bindings.get();
        let identity = identity(&mut runner);
        let (cluster, by_name) = (cluster.get(), by_name.get());
        identity.cluster_id = if by_name {
            String::new()
        } else {
            cluster.clone()
        };
        identity.cluster_name = if by_name { cluster } else { String::new() };
        CreateRunnerRequest {
            runner_id: runner_id.get(),
            runner,
        }
    });
    Effect::new(move |_| drafts::save_json(DRAFT_KEY, &request.get()));
    Effect::new(move |_| {
        unread_overrides.with(|unread| {
            if unread.is_empty() {
                drafts::discard(UNREAD_OVERRIDES_KEY);
            } else {
                drafts::save_json(UNREAD_OVERRIDES_KEY, unread);
            }
        })
    });
    let create = Action::new_local(move |request: &CreateRunnerRequest| {
        let (api, request) = (api.clone(), request.clone());
        async move { api.create_managed_runner(&request).await }
    });
    // The server's violations show on their fields until the request changes again.
    let server_problems = RwSignal::new(Vec::<(String, String)>::new());
    let attempted = RwSignal::new(false);
    let rule_problems = Memo::new(move |_| {
        let mut problems: Vec<(String, String)> = request
            .with(|r| {
                validate_new_runner(r, |id| {
                    templates.with_value(|all| {
                        all.iter()
                            .find(|t| t.id == id)
                            .map(|t| t.display_name.clone())
                    })
                })
            })
            .into_iter()
            .map(|v| (v.field, v.message))
            .collect();
        problems.extend(unread_overrides.get().into_keys().map(|id| {
            (
                "runner.profile_bindings".to_owned(),
                format!(
                    "the overrides of {} do not read yet",
                    template_name(templates, &id)
                ),
            )
        }));
        problems
    });
    // Every problem shows once the user has tried to create; before, only the server's.
    let shown = Signal::derive(move || {
        let mut all = server_problems.get();
        if attempted.get() {
            all.extend(rule_problems.get());
        }
        all
    });
    let problems = FieldProblems(shown);
    Effect::new(move |previous: Option<()>| {
        request.track();
        if previous.is_some() {
            server_problems.set(Vec::new());
        }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(created)) => {
            drafts::discard(DRAFT_KEY);
            let id = created.identity.map(|i| i.runner_id).unwrap_or_default();
            toasts.success(format!("Runner {id} was created; its install has started"));
            navigate(
                &link(&format!("/managed-runners/{id}"), &[], embedded),
                Default::default(),
            );
        }
        Some(Err(error)) => {
            let fields = error
                .status()
                .map(|s| {
                    s.field_violations()
                        .map(|v| (v.field.clone(), v.description.clone()))
                        .collect()
                })
                .unwrap_or_default();
            server_problems.set(fields);
        }
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        attempted.set(true);
        if rule_problems.with_untracked(Vec::is_empty) {
            create.dispatch(request.get_untracked());
        } else {
            // The problems render on the next frame; then the keyboard goes to the first
            // field that has one.
            request_animation_frame(focus_first_problem);
        }
    };
    let discard = move |_| {
        drafts::discard(DRAFT_KEY);
        runner_id.set(String::new());
        runner.set(fresh_runner());
        bindings.set(Vec::<ProfileBinding>::new());
        unread_overrides.set(BTreeMap::new());
        cluster.set(String::new());
        attempted.set(false);
    };
    view! {
        <form class="stack" on:submit=submit novalidate>
            <fieldset>
                <legend>"Identity"</legend>
                <div class="form-grid">
                    <div class="field">
                        <label for="runner-id">"Runner ID"</label>
                        <input id="runner-id" type="text" prop:value=runner_id on:input=move |ev| runner_id.set(event_target_value(&ev)) on:change=move |ev| runner_id.set(event_target_value(&ev).trim().to_owned()) />
                        <p class="hint">"Lowercase letters, digits and '-'; unique in your organization; cannot change later."</p>
                        {problems.at("runner_id")}
                    </div>
                    <div class="field">
                        <span class="label" id="cluster-kind">"Cluster"</span>
                        <div role="radiogroup" aria-labelledby="cluster-kind" class="inline">
                            <label><input type="radio" name="cluster-kind" prop:checked=move || !by_name.get() on:change=move |_| by_name.set(false) />" By ID"</label>
                            <label><input type="radio" name="cluster-kind" prop:checked=move || by_name.get() on:change=move |_| by_name.set(true) />" By name"</label>
                        </div>
                        <label class="visually-hidden" for="runner-cluster">{move || if by_name.get() { "Cluster name" } else { "Cluster ID" }}</label>
                        <input id="runner-cluster" type="text" prop:value=cluster on:input=move |ev| cluster.set(event_target_value(&ev)) on:change=move |ev| cluster.set(event_target_value(&ev).trim().to_owned()) />
                        {problems.only("runner.identity")}
                    </div>
                </div>
            </fieldset>
            <fieldset>
                <legend>"Settings"</legend>
                <RunnerSettings runner problems />
            </fieldset>
            <fieldset>
                <legend>"Profile bindings"</legend>
                <p class="hint">"At least one; the default is what sandboxes get when they name no profile."</p>
                <BindingList draft=bindings templates unread_overrides />
                {problems.at("runner.profile_bindings")}
            </fieldset>
            {move || {
                let problems = rule_problems.get();
                (attempted.get() && !problems.is_empty()).then(|| view! {
                    <ul class="violations" aria-label="To fix before creating">
                        {problems.into_iter().map(|(field, message)| view! { <li>{violation_text(field_label(&field), &field, &message)}</li> }).collect_view()}
                    </ul>
                })
            }}
            {move || create.value().get().and_then(Result::err).map(|error: ApiError| view! { <ErrorPanel title="The runner was not created; your form is kept" error /> })}
            <div class="form-actions">
                <button type="submit" class="button primary" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Create runner" }}
                </button>
                <button type="button" class="button quiet" on:click=discard>"Clear the form"</button>
            </div>
        </form>
    }
}

/// The form's label for a create request's field path, so its problems read in the
/// form's words ("Zone is required"); a path the form has no label for stays a path.
fn field_label(field: &str) -> &str {
    let path = field.split('[').next().unwrap_or(field);
    match path {
        "runner_id" => "Runner ID",
        "runner.display_name" => "Display name",
        "runner.identity.zone" => "Zone",
        "runner.identity.runner_group_id" => "Runner group",
        "runner.identity" | "runner.identity.cluster_id" | "runner.identity.cluster_name" => {
            "Cluster"
        }
        "runner.managed_spec.release_channel" => "Release channel",
        "runner.profile_bindings" => "Profile bindings",
        _ if path.starts_with("runner.profile_bindings") => "A profile binding",
        _ if path.contains("maintenance") => "A maintenance window",
        _ => field,
    }
}
