//! A profile as text (the CLI's YAML form or the API JSON, in Monaco, loaded on this
//! page only) or as a form (`profile_form`), both on the same text. Every mistake `sandbox_api` finds is underlined at its line while you
//! type and listed; a problem in the list takes you to it. The text can be formatted or
//! converted between the two forms, is kept as a draft across reloads, and is saved
//! after a review of the changes, with the etag it started from: when another
//! administrator saved meanwhile, their change is shown and the edit is re-applied on
//! their copy (`sandbox_api::profile_merge`) or deliberately written over it.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use sandbox_api::profile::ProfileTemplate;
use sandbox_api::profile_document::{
    ParsedProfile, ProfileDocument, ProfileForm, TextFormat, parse_profile, write_profile,
};
use sandbox_api::profile_merge::reapply;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::api::{Api, ApiError, use_api};
use crate::components::copy_block::{CopyBlock, curl_command};
use crate::components::error_panel::ErrorPanel;
use crate::components::profile_form::ProfileFormView;
use crate::components::text_diff::TextDiff;
use crate::components::toasts::use_toasts;
use crate::drafts;
use crate::embed::Embedding;
use crate::monaco;
use crate::query::{go, link, rel_for};

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

/// A mistake in the text, where it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Problem {
    line: u32,
    column: u32,
    message: String,
}

fn problems_of(parsed: &ParsedProfile, server: Option<&ProfileTemplate>) -> Vec<Problem> {
    let mut problems: Vec<Problem> = parsed
        .violations
        .iter()
        .map(|located| Problem {
            line: located.position.line,
            column: located.position.column,
            message: if located.violation.field.is_empty() {
                located.violation.message.clone()
            } else {
                format!("{}: {}", located.violation.field, located.violation.message)
            },
        })
        .collect();
    if let (Some(server), Some(document)) = (server, &parsed.document)
        && document.display_name != server.display_name
    {
        problems.push(Problem {
            line: 1,
            column: 1,
            message: format!(
                "display_name: is {:?} and cannot change after create",
                server.display_name
            ),
        });
    }
    problems
}

fn language(format: TextFormat) -> &'static str {
    match format {
        TextFormat::Yaml => "yaml",
        TextFormat::Json => "json",
    }
}

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
    let heading = match &id {
        Some(_) => "Edit profile",
        None => "New profile",
    };
    view! {
        <section class="page" aria-labelledby="editor-heading">
            <header class="page-header">
                <h1 id="editor-heading">{heading}</h1>
            </header>
            {move || match server.get() {
                None => view! { <p class="loading" role="status">"Loading the profile…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel title="Could not load the profile" error /> }.into_any(),
                Some(Ok(template)) => view! { <Editor id=id.clone() server=template /> }.into_any(),
            }}
        </section>
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
        |template| {
            let (document, _) = ProfileDocument::from_template(template);
            write_profile(&document, ProfileForm::Cli, TextFormat::Yaml)
        },
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

    // Monaco: loaded here, on first use; a plain text area if it cannot be.
    let host = NodeRef::<leptos::html::Div>::new();
    let editor = StoredValue::new_local(None::<JsValue>);
    let callbacks =
        StoredValue::new_local(None::<(Closure<dyn FnMut(String)>, Closure<dyn FnMut()>)>);
    let monaco_state = RwSignal::new(MonacoState::Loading);
    Effect::new(move |_| {
        let Some(element) = host.get() else {
            return;
        };
        leptos::task::spawn_local(async move {
            if JsFuture::from(monaco::load_monaco()).await.is_err() {
                let _ = monaco_state.try_set(MonacoState::Failed);
                return;
            }
            let on_change = Closure::<dyn FnMut(String)>::new(move |value: String| {
                let _ = text.try_set(value);
            });
            let on_escape = Closure::<dyn FnMut()>::new(move || {
                // Out of the editor, to what follows it.
                if let Some(next) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id("editor-problems-heading"))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = next.focus();
                }
            });
            let (initial, format) = (text.get_untracked(), parsed.with_untracked(|p| p.format));
            let created = monaco::create_editor(
                &element,
                &initial,
                language(format),
                is_dark(),
                &on_change,
                &on_escape,
            );
            editor.set_value(Some(created));
            callbacks.set_value(Some((on_change, on_escape)));
            let _ = monaco_state.try_set(MonacoState::Ready);
        });
    });
    on_cleanup(move || {
        if let Some(handle) = editor.try_get_value().flatten() {
            monaco::dispose(&handle);
        }
    });
    // The text changed from outside the editor (format, convert): show it there too.
    Effect::new(move |_| {
        let value = text.get();
        let format = parsed.with(|p| p.format);
        if let Some(handle) = editor.get_value() {
            monaco::set_value(&handle, &value);
            monaco::set_language(&handle, language(format));
        }
    });
    Effect::new(move |_| {
        monaco_state.track();
        let markers = problems.with(|p| serde_json::to_string(p).unwrap_or_default());
        if let Some(handle) = editor.get_value() {
            monaco::set_markers(&handle, &markers);
        }
    });
    let go_to = move |problem: &Problem| {
        if let Some(handle) = editor.get_value() {
            monaco::reveal(&handle, problem.line, problem.column);
        }
    };
    let rewrite = move |form: ProfileForm, format: TextFormat| {
        if let Some(document) = parsed.with_untracked(|p| p.document.clone()) {
            text.set(write_profile(&document, form, format));
        }
    };

    // Saving: a review of the changes first; the etag of the copy the edit is against;
    // when someone else saved meanwhile, their change is shown and the edit is either
    // re-applied on their copy or deliberately written over it.
    let base = RwSignal::new(server.clone());
    let reviewing = RwSignal::new(false);
    let theirs = RwSignal::new(None::<ProfileTemplate>);
    let collisions = RwSignal::new(Vec::<String>::new());
    let mine_text = move || {
        parsed.with(|p| {
            p.document
                .as_ref()
                .map(|d| write_profile(d, ProfileForm::Cli, TextFormat::Yaml))
                .unwrap_or_default()
        })
    };
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
            let mut template = document.to_template();
            template.etag =
                base.with_untracked(|b| b.as_ref().map(|b| b.etag.clone()).unwrap_or_default());
            save.dispatch(template);
        }
    };
    let reapply_mine = move |_| {
        let Some(latest) = theirs.get_untracked() else {
            return;
        };
        let (Some(mine), Some(before)) = (
            parsed.with_untracked(|p| p.document.clone()),
            base.get_untracked(),
        ) else {
            return;
        };
        let result = reapply(
            &ProfileDocument::from_template(&before).0,
            &mine,
            &ProfileDocument::from_template(&latest).0,
        );
        text.set(result.to_yaml());
        collisions.set(result.conflicts);
        base.set(Some(latest));
        theirs.set(None);
        save.value().set(None);
    };
    let overwrite = move |_| {
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
    let id_for_export = id.clone();
    let export_api = api.clone();

    view! {
        {had_draft.then(|| view! {
            <p class="hint" role="status">
                "Restored your unsaved draft. "
                <button type="button" class="link" on:click=discard.clone()>"Discard it"</button>
            </p>
        })}
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
        <div
            class="editor-host"
            node_ref=host
            class:hidden=move || monaco_state.get() == MonacoState::Failed || showing_form.get()
            on:dragover=move |ev: web_sys::DragEvent| ev.prevent_default()
            on:drop=move |ev: web_sys::DragEvent| {
                if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|files| files.get(0)) {
                    ev.prevent_default();
                    import_file(file, text);
                }
            }
        >
            {move || (monaco_state.get() == MonacoState::Loading).then(|| view! { <p class="loading" role="status">"Loading the editor…"</p> })}
        </div>
        <Show when=move || monaco_state.get() == MonacoState::Failed && !showing_form.get()>
            <p class="hint">"The editor could not be loaded; edit the text here instead."</p>
            <textarea class="editor-fallback" aria-label="Profile text" prop:value=text on:input=move |ev| text.set(event_target_value(&ev))></textarea>
        </Show>
        <h2 id="editor-problems-heading" tabindex="-1">
            {move || match problems.with(Vec::len) {
                0 => "No problems".to_owned(),
                1 => "1 problem".to_owned(),
                n => format!("{n} problems"),
            }}
        </h2>
        <ul class="problems" aria-labelledby="editor-problems-heading">
            {move || problems.get().into_iter().map(|problem| {
                let label = format!("Line {}, column {}: {}", problem.line, problem.column, problem.message);
                view! { <li><button type="button" class="link" on:click=move |_| go_to(&problem)>{label}</button></li> }
            }).collect_view()}
        </ul>
        {move || save.value().get().and_then(Result::err).filter(|e| !e.is_stale_etag()).map(|error| view! { <ErrorPanel title="The profile was not saved; your text is kept" error /> })}
        {move || theirs.get().map(|latest| view! {
            <div class="review conflict" role="alert">
                <p class="error-title">"Someone saved this profile after you opened it"</p>
                <p>"Your text is kept. This is what changed on the server meanwhile:"</p>
                <TextDiff before=normalized(base.get_untracked().as_ref()) after=normalized(Some(&latest)) label="Changes saved on the server".to_owned() />
                <div class="form-actions">
                    <button type="button" class="button primary" on:click=reapply_mine>"Re-apply my edit on their copy"</button>
                    <button type="button" class="button danger" on:click=overwrite>"Overwrite their changes with mine"</button>
                </div>
            </div>
        })}
        <Show when=move || reviewing.get() && theirs.with(Option::is_none)>
            <div class="review">
                <h2>"Your changes"</h2>
                {move || {
                    let both = collisions.get();
                    (!both.is_empty()).then(|| view! { <p class="hint">{format!("You and the server both changed {}; your values are kept.", both.join(", "))}</p> })
                }}
                {move || view! { <TextDiff before=normalized(base.get().as_ref()) after=mine_text() label="Your changes against the saved copy".to_owned() /> }}
            </div>
        </Show>
        <details class="copy-block">
            <summary>"Export"</summary>
            {move || parsed.with(|p| p.document.clone()).map(|document| {
                let yaml = write_profile(&document, ProfileForm::Cli, TextFormat::Yaml);
                let json = write_profile(&document, ProfileForm::Api, TextFormat::Json);
                let curl = as_curl(&export_api, &document, id_for_export.as_deref());
                view! {
                    <CopyBlock summary="The CLI's YAML" text=Signal::derive(move || yaml.clone()) />
                    <CopyBlock summary="The API's JSON" text=Signal::derive(move || json.clone()) />
                    <CopyBlock summary="A curl command (the token left out)" text=Signal::derive(move || curl.clone()) />
                }
            })}
        </details>
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
    let (method, path) = match id {
        Some(id) => (
            "PATCH",
            format!("profile-templates/{id}?updateMask=description,labels,spec"),
        ),
        None => ("POST", "profile-templates".to_owned()),
    };
    let body = serde_json::json!({ "profileTemplate": document.to_template() });
    curl_command(method, &api.control_plane_absolute(&path), &body)
}

/// A saved copy as CLI-form YAML, the way both sides of a diff are written so that
/// only real changes show.
fn normalized(template: Option<&ProfileTemplate>) -> String {
    template
        .map(|t| {
            write_profile(
                &ProfileDocument::from_template(t).0,
                ProfileForm::Cli,
                TextFormat::Yaml,
            )
        })
        .unwrap_or_default()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MonacoState {
    Loading,
    Ready,
    Failed,
}

/// Whether the console shows its dark theme (set by a host, else the system's).
fn is_dark() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let forced = window
        .document()
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("data-theme"));
    match forced.as_deref() {
        Some(theme) => theme == "dark",
        None => window
            .match_media("(prefers-color-scheme: dark)")
            .ok()
            .flatten()
            .is_some_and(|m| m.matches()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_profile_is_a_problem_and_the_starting_text_is_valid() {
        let parsed = parse_profile(NEW_PROFILE);
        assert_eq!(problems_of(&parsed, None), []);
        let server = ProfileTemplate {
            display_name: "other".to_owned(),
            ..ProfileTemplate::default()
        };
        let problems = problems_of(&parsed, Some(&server));
        assert!(problems[0].message.contains("cannot change after create"));
    }

    #[test]
    fn mistakes_carry_their_line() {
        let text = NEW_PROFILE.replace("default: none", "default: internet");
        let problems = problems_of(&parse_profile(&text), None);
        let line = text
            .lines()
            .position(|l| l.contains("default: internet"))
            .map(|i| i as u32 + 1);
        assert!(
            problems.iter().any(|p| Some(p.line) == line),
            "{problems:?}"
        );
    }
}
