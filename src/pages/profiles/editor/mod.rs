//! A profile as text (the CLI's YAML form or the API JSON, in Monaco, loaded on this
//! page only) or as a form (`profile_form`), both on the same text. Every mistake `sandbox_api`
//! finds is underlined at its line while you type and listed (`text_view`,
//! `problems`); a problem in the list takes you to it. The text can be formatted or
//! converted between the two forms, is kept as a draft across reloads, and is saved
//! after a review of the changes, with the etag it started from: when another
//! administrator saved meanwhile, their change is shown and the edit is re-applied on
//! their copy (`sandbox_api::profile_merge`) or deliberately written over it
//! (`saving`).

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use sandbox_api::profile::ProfileTemplate;
use sandbox_api::profile_document::{
    ParsedProfile, ProfileDocument, ProfileForm, TextFormat, parse_profile, write_profile,
};
use sandbox_api::role::Role;
use wasm_bindgen_futures::JsFuture;

use crate::api::{Api, ApiError, HistoryQuery, use_api};
use crate::components::copy_block::{CopyBlock, curl_command};
use crate::components::error_panel::ErrorPanel;
use crate::components::history::HistoryList;
use crate::components::profile_form::ProfileFormView;
use crate::components::text_diff::TextDiff;
use crate::components::toasts::use_toasts;
use crate::drafts;
use crate::embed::Embedding;
use crate::query::{go, link, rel_for};
use crate::session::use_session;

mod problems;
mod saving;
mod text_view;

use problems::problems_of;
use saving::{cli_yaml, normalized, reapply_edit, save_route, template_to_save};
use text_view::TextView;

/// What a new profile starts as.
const NEW_PROFILE: &str = "display_name: my-profile
description: What sandboxes under this profile are for
spec:
  container_image: python:3.12-slim
  runtime_class: gvisor
  resource_defaults:
    cpuRequest: 500m
    memoryRequest: 512Mi
    cpuLimit: '2'
    memoryLimit: 2Gi
  network:
    egress:
      default: none
      modes:
        none: {type: none}
";

fn draft_key(id: Option<&str>) -> String {
    format!("sandbox-console.profile-draft.{}", id.unwrap_or("new"))
}

#[component]
pub fn ProfileEditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("profile"));
    let api = use_api();
    let server = LocalResource::new({
        let (api, id) = (api.clone(), id.clone());
        move || {
            let (api, id) = (api.clone(), id.clone());
            async move {
                match id {
                    Some(id) => api.get_profile_template(&id).await.map(Some),
                    None => Ok(None),
                }
            }
        }
    });
    let session = use_session();
    let is_admin = Memo::new(move |_| session.role() == Some(Role::Admin));
    let existing = id.is_some();
    let heading = move || match (existing, is_admin.get()) {
        (true, true) => "Edit profile",
        (true, false) => "Profile",
        (false, _) => "New profile",
    };
    view! {
        <section class="page" aria-labelledby="editor-heading">
            <header class="page-header">
                <h1 id="editor-heading">{heading}</h1>
            </header>
            {move || match server.get() {
                None => view! { <p class="loading" role="status">"Loading the profile…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel title="Could not load the profile" error /> }.into_any(),
                // Only administrators change profiles (the gateway says so too); others
                // read it, with nothing to edit or save.
                Some(Ok(template)) if !is_admin.get() => view! {
                    <p class="hint read-only">"Read-only: only an administrator (SANDBOX_ADMIN) can create or change profiles."</p>
                    {template.map(|template| {
                        let uuid = template.id.clone();
                        view! {
                            <ReadOnlyProfile template />
                            <h2 id="history">"History"</h2>
                            <HistoryList
                                query=HistoryQuery::of(&uuid)
                                empty="No change to this profile has been recorded."
                            />
                        }
                    })}
                }
                .into_any(),
                Some(Ok(template)) => {
                    let uuid = template.as_ref().map(|t| t.id.clone());
                    view! {
                        <Editor id=id.clone() server=template />
                        {uuid.map(|uuid| view! {
                            <h2 id="history">"History"</h2>
                            <HistoryList
                                query=HistoryQuery::of(&uuid)
                                empty="No change to this profile has been recorded."
                            />
                        })}
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

/// A profile for those who may not change it: its text in the CLI's YAML form.
#[component]
fn ReadOnlyProfile(template: ProfileTemplate) -> impl IntoView {
    let text = cli_yaml(&ProfileDocument::from_template(&template).0);
    view! {
        <pre class="profile-text" aria-label="The profile in the CLI's YAML form" tabindex="0"><code>{text}</code></pre>
    }
}

#[component]
fn Editor(id: Option<String>, server: Option<ProfileTemplate>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let embedded = expect_context::<Embedding>().embedded;
    let key = draft_key(id.as_deref());
    let server_text = server.as_ref().map_or_else(
        || NEW_PROFILE.to_owned(),
        |template| cli_yaml(&ProfileDocument::from_template(template).0),
    );
    let restored = drafts::load(&key).filter(|draft| *draft != server_text);
    let had_draft = restored.is_some();
    let text = RwSignal::new(restored.unwrap_or_else(|| server_text.clone()));
    let parsed = Memo::new(move |_| text.with(|t| parse_profile(t)));
    let problems = {
        let server = server.clone();
        Memo::new(move |_| parsed.with(|p| problems_of(p, server.as_ref())))
    };
    {
        let key = key.clone();
        Effect::new(move |_| text.with(|t| drafts::save(&key, t)));
    }

    // Saving: a review of the changes first; the etag of the copy the edit is against;
    // when someone else saved meanwhile, their change is shown and the edit is either
    // re-applied on their copy or deliberately written over it.
    let base = RwSignal::new(server.clone());
    let reviewing = RwSignal::new(false);
    let theirs = RwSignal::new(None::<ProfileTemplate>);
    let collisions = RwSignal::new(Vec::<String>::new());
    let save = {
        let (api, id, key) = (api.clone(), id.clone(), key.clone());
        Action::new_local(move |template: &ProfileTemplate| {
            let (api, id, key, template) = (api.clone(), id.clone(), key.clone(), template.clone());
            async move {
                let saved = match id {
                    Some(id) => api.update_profile_template(&id, template).await,
                    None => api.create_profile_template(template).await,
                }?;
                drafts::discard(&key);
                Ok::<_, ApiError>(saved)
            }
        })
    };
    {
        let (api, id) = (api.clone(), id.clone());
        Effect::new(move |_| match save.value().get() {
            Some(Ok(saved)) => {
                let list = link("/profiles", &[("q", saved.display_name.clone())], embedded);
                toasts.success_before_going_to(
                    &list,
                    format!("Saved profile {}", saved.display_name),
                );
                go(&navigate, &list, false);
            }
            Some(Err(error)) if error.is_stale_etag() => {
                let (api, id) = (api.clone(), id.clone().unwrap_or_default());
                leptos::task::spawn_local(async move {
                    if let Ok(latest) = api.get_profile_template(&id).await {
                        let _ = theirs.try_set(Some(latest));
                    }
                });
            }
            _ => {}
        });
    }
    let on_save = move |_| {
        if let Some(document) = parsed.with_untracked(|p| p.document.clone()) {
            save.dispatch(base.with_untracked(|b| template_to_save(&document, b.as_ref())));
        }
    };
    let reapply_mine = move || {
        let Some(latest) = theirs.get_untracked() else {
            return;
        };
        let (Some(mine), Some(before)) = (
            parsed.with_untracked(|p| p.document.clone()),
            base.get_untracked(),
        ) else {
            return;
        };
        let result = reapply_edit(&before, &mine, &latest);
        text.set(result.text);
        collisions.set(result.collisions);
        base.set(Some(latest));
        theirs.set(None);
        save.value().set(None);
    };
    let overwrite = move || {
        base.set(theirs.get_untracked());
        collisions.set(Vec::new());
        theirs.set(None);
        save.value().set(None);
    };
    let discard = move |_| text.set(server_text.clone());
    let showing_form = RwSignal::new(false);
    let has_document = Memo::new(move |_| parsed.with(|p| p.document.is_some()));
    let problem_messages = Signal::derive(move || {
        problems.with(|p| p.iter().map(|p| p.message.clone()).collect::<Vec<_>>())
    });
    let locked_name = server.is_some();

    view! {
        {had_draft.then(|| view! {
            <p class="hint" role="status">
                "Restored your unsaved draft. "
                <button type="button" class="link" on:click=discard.clone()>"Discard it"</button>
            </p>
        })}
        <Toolbar text parsed />
        <div class="tabs" role="tablist" aria-label="Edit the profile as">
            <button type="button" role="tab" id="tab-text" aria-selected=move || (!showing_form.get()).to_string() on:click=move |_| showing_form.set(false)>"Text"</button>
            <button type="button" role="tab" id="tab-form" aria-selected=move || showing_form.get().to_string() on:click=move |_| showing_form.set(true)>"Form"</button>
        </div>
        <Show when=move || showing_form.get()>
            <Show
                when=move || has_document.get()
                fallback=|| view! { <p class="hint">"The text does not parse yet; fix the syntax error in the text to use the form."</p> }
            >
                <ProfileFormView parsed text problems=problem_messages locked_name />
            </Show>
        </Show>
        <TextView text parsed problems hidden=showing_form />
        {move || save.value().get().and_then(Result::err).filter(|e| !e.is_stale_etag()).map(|error| view! { <ErrorPanel title="The profile was not saved; your text is kept" error /> })}
        {move || theirs.get().map(|latest| view! {
            <SavedMeanwhile base=base.get_untracked() latest on_reapply=Callback::new(move |()| reapply_mine()) on_overwrite=Callback::new(move |()| overwrite()) />
        })}
        <Show when=move || reviewing.get() && theirs.with(Option::is_none)>
            <div class="review">
                <h2>"Your changes"</h2>
                {move || {
                    let both = collisions.get();
                    (!both.is_empty()).then(|| view! { <p class="hint">{format!("You and the server both changed {}; your values are kept.", both.join(", "))}</p> })
                }}
                {move || {
                    let mine = parsed.with(|p| p.document.as_ref().map(cli_yaml).unwrap_or_default());
                    view! { <TextDiff before=normalized(base.get().as_ref()) after=mine label="Your changes against the saved copy".to_owned() /> }
                }}
            </div>
        </Show>
        <Export parsed api=api.clone() id=id.clone() />
        <div class="form-actions">
            <Show
                when=move || reviewing.get()
                fallback=move || view! {
                    <button type="button" class="button primary" on:click=move |_| reviewing.set(true) disabled=move || !problems.with(Vec::is_empty)>"Review and save"</button>
                }
            >
                <button type="button" class="button primary" on:click=on_save disabled=move || !problems.with(Vec::is_empty) || save.pending().get() || theirs.with(Option::is_some)>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
                <button type="button" class="button" on:click=move |_| reviewing.set(false)>"Keep editing"</button>
            </Show>
            <a class="button quiet" href=link("/profiles", &[], embedded) rel=rel_for("/profiles")>"Back to profiles"</a>
        </div>
    }
}

/// Formatting, converting between the two forms, and importing a file.
#[component]
fn Toolbar(text: RwSignal<String>, parsed: Memo<ParsedProfile>) -> impl IntoView {
    let rewrite = move |form: ProfileForm, format: TextFormat| {
        if let Some(document) = parsed.with_untracked(|p| p.document.clone()) {
            text.set(write_profile(&document, form, format));
        }
    };
    view! {
        <div class="editor-toolbar" role="toolbar" aria-label="Profile text">
            <button type="button" class="button" on:click=move |_| {
                let (form, format) = parsed.with_untracked(|p| (p.form, p.format));
                rewrite(form, format);
            }>"Format"</button>
            <button type="button" class="button" on:click=move |_| rewrite(ProfileForm::Cli, TextFormat::Yaml)>"As YAML (CLI form)"</button>
            <button type="button" class="button" on:click=move |_| rewrite(ProfileForm::Api, TextFormat::Json)>"As API JSON"</button>
            <label class="button file-pick">
                "Import a file…"
                <input type="file" accept=".yaml,.yml,.json,application/json,text/yaml" class="visually-hidden" on:change=move |ev| {
                    let input: web_sys::HtmlInputElement = event_target(&ev);
                    if let Some(file) = input.files().and_then(|files| files.get(0)) {
                        import_file(file, text);
                    }
                    input.set_value("");
                } />
            </label>
            <span class="hint">"YAML or JSON, in the CLI's form or the API's; or drop a file on the editor. Escape leaves the editor."</span>
        </div>
    }
}

/// Someone saved the profile after the edit started from `base`: what they changed,
/// and the two ways on.
#[component]
fn SavedMeanwhile(
    base: Option<ProfileTemplate>,
    latest: ProfileTemplate,
    on_reapply: Callback<()>,
    on_overwrite: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="review conflict" role="alert">
            <p class="error-title">"Someone saved this profile after you opened it"</p>
            <p>"Your text is kept. This is what changed on the server meanwhile:"</p>
            <TextDiff before=normalized(base.as_ref()) after=normalized(Some(&latest)) label="Changes saved on the server".to_owned() />
            <div class="form-actions">
                <button type="button" class="button primary" on:click=move |_| on_reapply.run(())>"Re-apply my edit on their copy"</button>
                <button type="button" class="button danger" on:click=move |_| on_overwrite.run(())>"Overwrite their changes with mine"</button>
            </div>
        </div>
    }
}

/// The profile as the CLI's YAML, the API's JSON and the curl command that saves it.
#[component]
fn Export(parsed: Memo<ParsedProfile>, api: Api, id: Option<String>) -> impl IntoView {
    view! {
        <details class="copy-block">
            <summary>"Export"</summary>
            {move || parsed.with(|p| p.document.clone()).map(|document| {
                let yaml = cli_yaml(&document);
                let json = write_profile(&document, ProfileForm::Api, TextFormat::Json);
                let curl = as_curl(&api, &document, id.as_deref());
                view! {
                    <CopyBlock summary="The CLI's YAML" text=Signal::derive(move || yaml.clone()) />
                    <CopyBlock summary="The API's JSON" text=Signal::derive(move || json.clone()) />
                    <CopyBlock summary="A curl command (the token left out)" text=Signal::derive(move || curl.clone()) />
                }
            })}
        </details>
    }
}

/// Replaces the text with a file's, once the browser has read it.
fn import_file(file: web_sys::File, text: RwSignal<String>) {
    leptos::task::spawn_local(async move {
        if let Ok(content) = JsFuture::from(file.text()).await
            && let Some(content) = content.as_string()
        {
            let _ = text.try_set(content);
        }
    });
}

/// The request that saves `document` (create, or update of `id`) as a curl command.
fn as_curl(api: &Api, document: &ProfileDocument, id: Option<&str>) -> String {
    let (method, path) = save_route(id);
    let body = serde_json::json!({ "profileTemplate": document.to_template() });
    curl_command(method, &api.control_plane_absolute(&path), &body)
}
