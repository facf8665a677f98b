//! Launch a sandbox: pick a profile by what it offers, describe the sandbox, see
//! before submitting whether it fits (the gateway's placement, run here) and every
//! rule it breaks, then start it. The draft survives a reload; the request can be
//! copied as a curl command or as Python for the `cwsandbox` client (the token left
//! out of both).

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use sandbox_api::discovery::ProfileSummary;
use sandbox_api::filters::DiscoveryFilter;
use sandbox_api::sandbox::StartSandboxRequest;
use sandbox_api::sdk_snippet::python_snippet;
use sandbox_api::start_rules::validate_start_request;

use crate::api::{ApiError, use_api};
use crate::components::copy_block::{CopyBlock, curl_command};
use crate::components::error_panel::{ErrorPanel, violation_text};
use crate::components::field::{SelectField, TextField};
use crate::components::placement_preview::{Verdict, candidates};
use crate::connectivity::use_connectivity;
use crate::drafts;
use crate::embed::Embedding;
use crate::query::link;

mod draft;
mod fixes;
mod offer;

use draft::Draft;
use fixes::fixes;
use offer::{Offer, modes_on_offer, offers};

/// Where the draft is kept between reloads (this tab only).
const DRAFT_KEY: &str = "sandbox-console.launch-draft";

/// Discovery's (profile, runner) pairs, once loaded.
type Profiles = LocalResource<Result<Vec<ProfileSummary>, ApiError>>;

/// Every profile's offer, empty until the profiles are loaded.
fn loaded_offers(profiles: Profiles) -> BTreeMap<String, Offer> {
    profiles.with(|p| match p {
        Some(Ok(list)) => offers(list),
        _ => BTreeMap::new(),
    })
}

#[component]
pub fn LaunchPage() -> impl IntoView {
    let api = use_api();
    let connectivity = use_connectivity();
    let embedded = expect_context::<Embedding>().embedded;
    let navigate = use_navigate();
    let restored = drafts::load(DRAFT_KEY)
        .and_then(|text| serde_json::from_str::<Draft>(&text).ok())
        .unwrap_or_default();
    let draft = RwSignal::new(restored);
    Effect::new(move |_| {
        let text = draft.with(|d| serde_json::to_string(d).unwrap_or_default());
        drafts::save(DRAFT_KEY, &text);
    });
    let profiles: Profiles = {
        let api = api.clone();
        LocalResource::new(move || {
            connectivity.recoveries();
            let api = api.clone();
            async move { api.list_profiles(&DiscoveryFilter::default()).await }
        })
    };
    let offer = Memo::new(move |_| {
        let name = draft.with(|d| d.profile.clone());
        loaded_offers(profiles).remove(&name).unwrap_or_default()
    });
    let parsed = Memo::new(move |_| draft.with(Draft::request).0);
    let problems = Memo::new(move |_| {
        let (request, mut problems) = draft.with(Draft::request);
        problems.extend(validate_start_request(&request).into_iter().map(|v| {
            match draft::label(&v.field) {
                Some(label) => violation_text(label, &v.field, &v.message),
                None => format!("{}: {}", v.field, v.message),
            }
        }));
        problems
    });
    let api_base = api.data_plane_base();
    let curl_url = api.data_plane_absolute("sandboxes");
    let start = Action::new_local(move |request: &StartSandboxRequest| {
        let (api, request) = (api.clone(), request.clone());
        async move { api.start_sandbox(&request).await }
    });
    // A refusal is about the request it refused: once the draft changes (a one-click
    // fix, say), it no longer applies and goes.
    Effect::new(move |_| {
        parsed.track();
        start.value().set(None);
    });
    Effect::new(move |_| {
        if let Some(Ok(started)) = start.value().get() {
            drafts::discard(DRAFT_KEY);
            let path = format!(
                "/sandboxes/{}",
                js_sys::encode_uri_component(&started.sandbox_id)
            );
            navigate(&link(&path, &[], embedded), Default::default());
        }
    });
    let profile_names =
        Signal::derive(move || loaded_offers(profiles).into_keys().collect::<Vec<_>>());
    let runners = Signal::derive(move || offer.with(|o| o.runners.iter().cloned().collect()));
    let egress = Signal::derive(move || {
        modes_on_offer(
            &loaded_offers(profiles),
            &draft.with(|d| d.profile.clone()),
            |o| &o.egress,
        )
    });
    let ingress = Signal::derive(move || {
        modes_on_offer(
            &loaded_offers(profiles),
            &draft.with(|d| d.profile.clone()),
            |o| &o.ingress,
        )
    });
    let text = move |id, label, hint, get, put| draft_text(draft, id, label, hint, get, put);
    let choice = move |id, label, none, options, get, put| {
        draft_choice(draft, id, label, none, options, get, put)
    };

    view! {
        <section class="page" aria-labelledby="launch-heading">
            <header class="page-header">
                <h1 id="launch-heading">"Launch a sandbox"</h1>
            </header>
            {move || match profiles.get() {
                Some(Err(error)) => Some(view! { <ErrorPanel title="Could not load the profiles you can use" error /> }),
                _ => None,
            }}
            <form class="card launch" aria-label="Sandbox" on:submit=move |ev| {
                ev.prevent_default();
                if problems.with(Vec::is_empty) {
                    start.dispatch(parsed.get_untracked());
                }
            }>
                <div class="form-grid">
                    {choice("launch-profile", "Profile", "Each runner's default", profile_names, |d| d.profile.clone(), Draft::choose_profile)}
                    {choice("launch-runner", "Runner", "Any runner", runners, |d| d.runner.clone(), |d, v| d.runner = v)}
                </div>
                {move || offer.with(|o| (!o.runners.is_empty()).then(|| view! { <p class="hint offer">{o.summary()}</p> }))}
                <div class="form-grid">
                    {text("launch-image", "Image", "the profile's, if it sets one", |d| d.image.clone(), |d, v| d.image = v)}
                    {text("launch-command", "Command", "e.g. python", |d| d.command.clone(), |d, v| d.command = v)}
                    {text("launch-args", "Arguments", "e.g. -c \"print('hi')\"", |d| d.args.clone(), |d, v| d.args = v)}
                    {text("launch-cpu", "CPU", "e.g. 500m or 2", |d| d.cpu.clone(), |d, v| d.cpu = v)}
                    {text("launch-memory", "Memory", "e.g. 1Gi", |d| d.memory.clone(), |d, v| d.memory = v)}
                    {text("launch-gpus", "GPUs", "0", |d| d.gpus.clone(), |d, v| d.gpus = v)}
                    {text("launch-gpu-type", "GPU type", "e.g. H100", |d| d.gpu_type.clone(), |d, v| d.gpu_type = v)}
                    {choice("launch-egress", "Egress mode", "The profile's default", egress, |d| d.egress.clone(), |d, v| d.egress = v)}
                    {choice("launch-ingress", "Ingress mode", "None", ingress, |d| d.ingress.clone(), |d, v| d.ingress = v)}
                    {text("launch-ports", "Exposed ports", "e.g. 8080, 8443", |d| d.ports.clone(), |d, v| d.ports = v)}
                    {text("launch-tags", "Tags", "e.g. experiment, team-a", |d| d.tags.clone(), |d, v| d.tags = v)}
                    {text("launch-lifetime", "Max lifetime (seconds)", "the platform's default", |d| d.max_lifetime_seconds.clone(), |d, v| d.max_lifetime_seconds = v)}
                </div>
                <div class="field">
                    <label for="launch-env">"Environment (NAME=value per line)"</label>
                    <textarea id="launch-env" rows="3" prop:value=move || draft.with(|d| d.env.clone())
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            draft.update(|d| d.env = value);
                        }></textarea>
                </div>
                <FitPreview draft parsed profiles />
                {move || {
                    let problems = problems.get();
                    (!problems.is_empty()).then(|| view! {
                        <ul class="violations launch-problems" aria-label="To fix before launching">
                            {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                        </ul>
                    })
                }}
                {move || match start.value().get() {
                    Some(Err(error)) => Some(view! { <ErrorPanel title="The sandbox was not started" error labels=draft::label /> }),
                    _ => None,
                }}
                <div class="form-actions">
                    <button type="submit" class="button primary" disabled=move || !problems.with(Vec::is_empty) || start.pending().get()>
                        {move || if start.pending().get() { "Launching…" } else { "Launch" }}
                    </button>
                    <button type="button" class="button quiet" on:click=move |_| draft.set(Draft::default())>"Clear"</button>
                </div>
                <CopyBlock summary="As a curl command" text=Signal::derive(move || curl_command("POST", &curl_url, &parsed.get())) />
                <CopyBlock summary="As Python (cwsandbox)" text=Signal::derive(move || python_snippet(&parsed.get(), &api_base)) />
            </form>
        </section>
    }
}

/// The draft's text field that `get` reads and `put` writes as it is typed.
fn draft_text(
    draft: RwSignal<Draft>,
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    get: fn(&Draft) -> String,
    put: fn(&mut Draft, String),
) -> impl IntoView {
    view! {
        <TextField id label placeholder=hint no_autocomplete=true
            value=Signal::derive(move || draft.with(get))
            on_input=Callback::new(move |value| draft.update(|d| put(d, value))) />
    }
}

/// The draft's choice among `options` that `get` reads and `put` writes.
fn draft_choice(
    draft: RwSignal<Draft>,
    id: &'static str,
    label: &'static str,
    none: &'static str,
    options: Signal<Vec<String>>,
    get: fn(&Draft) -> String,
    put: fn(&mut Draft, String),
) -> impl IntoView {
    view! {
        <SelectField id label none options
            value=Signal::derive(move || draft.with(get))
            on_change=Callback::new(move |value| draft.update(|d| put(d, value))) />
    }
}

/// Where the request would be placed now, and the one-click fixes when nowhere.
#[component]
fn FitPreview(
    draft: RwSignal<Draft>,
    parsed: Memo<StartSandboxRequest>,
    profiles: Profiles,
) -> impl IntoView {
    let connectivity = use_connectivity();
    let api = use_api();
    let fleet = LocalResource::new(move || {
        connectivity.recoveries();
        candidates(api.clone())
    });
    view! {
        <div class="fit-line" aria-live="polite">
            {move || match fleet.get() {
                Some(Ok(candidates)) => {
                    let fixes = fixes(&parsed.get(), &candidates, &loaded_offers(profiles), &draft.with(|d| d.profile.clone()));
                    view! {
                        <Verdict request=parsed.get() candidates />
                        {(!fixes.is_empty()).then(|| view! {
                            <div class="fixes" role="group" aria-label="Ways to make it fit">
                                {fixes.into_iter().map(|fix| view! {
                                    <button type="button" class="button" on:click=move |_| draft.update(|d| fix.apply(d))>{fix.label()}</button>
                                }).collect_view()}
                            </div>
                        })}
                    }
                    .into_any()
                }
                Some(Err(_)) => view! { <p class="hint">"Placement preview unavailable."</p> }.into_any(),
                None => view! { <p class="hint">"Checking where it would fit…"</p> }.into_any(),
            }}
        </div>
    }
}
