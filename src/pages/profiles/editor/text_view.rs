//! The profile's text in Monaco (loaded on first use; a plain text area if it cannot
//! be), with every problem marked at its line, and the list of problems, each taking
//! you to its place in the text.

use leptos::prelude::*;
use sandbox_api::profile_document::{ParsedProfile, TextFormat};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::import_file;
use super::problems::{Problem, count_heading};
use crate::monaco;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MonacoState {
    Loading,
    Ready,
    Failed,
}

fn language(format: TextFormat) -> &'static str {
    match format {
        TextFormat::Yaml => "yaml",
        TextFormat::Json => "json",
    }
}

/// The text (`text`, read as `parsed`) and its `problems`; `hidden` while the form is
/// shown instead.
#[component]
pub fn TextView(
    text: RwSignal<String>,
    parsed: Memo<ParsedProfile>,
    problems: Memo<Vec<Problem>>,
    #[prop(into)] hidden: Signal<bool>,
) -> impl IntoView {
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
                crate::theme::is_dark(),
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

    view! {
        <div
            class="editor-host"
            node_ref=host
            class:hidden=move || monaco_state.get() == MonacoState::Failed || hidden.get()
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
        <Show when=move || monaco_state.get() == MonacoState::Failed && !hidden.get()>
            <p class="hint">"The editor could not be loaded; edit the text here instead."</p>
            <textarea class="editor-fallback" aria-label="Profile text" prop:value=text on:input=move |ev| text.set(event_target_value(&ev))></textarea>
        </Show>
        <h2 id="editor-problems-heading" tabindex="-1">
            {move || count_heading(problems.with(Vec::len))}
        </h2>
        <ul class="problems" aria-labelledby="editor-problems-heading">
            {move || problems.get().into_iter().map(|problem| {
                let label = problem.label();
                view! { <li><button type="button" class="link" on:click=move |_| go_to(&problem)>{label}</button></li> }
            }).collect_view()}
        </ul>
    }
}
