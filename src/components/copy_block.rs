//! A collapsible block of text to copy elsewhere (a curl command, an SDK snippet), with
//! a button that puts it on the clipboard; a copy button for one value (an ID, an
//! image); and the one way the console writes a curl command.

use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::components::toasts::use_toasts;

#[component]
pub fn CopyBlock(
    /// What the block holds, as its summary says it.
    summary: &'static str,
    #[prop(into)] text: Signal<String>,
) -> impl IntoView {
    let toasts = use_toasts();
    let copy = move |_| copy_text(toasts, text.get_untracked(), format!("Copied: {summary}"));
    view! {
        <details class="copy-block">
            <summary>{summary}</summary>
            <button type="button" class="button" on:click=copy>"Copy"</button>
            <pre>{text}</pre>
        </details>
    }
}

/// A small button that copies `text`; `what` says what it is ("the sandbox ID").
#[component]
pub fn CopyButton(#[prop(into)] text: Signal<String>, what: &'static str) -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <button type="button" class="button copy" title=format!("Copy {what}") aria-label=format!("Copy {what}")
            on:click=move |_| copy_text(toasts, text.get_untracked(), format!("Copied {what}"))>
            "Copy"
        </button>
    }
}

/// Puts `text` on the clipboard and says `done` (or that the browser refused).
fn copy_text(toasts: crate::components::toasts::Toasts, text: String, done: String) {
    let Some(clipboard) = web_sys::window().map(|w| w.navigator().clipboard()) else {
        return;
    };
    let promise = clipboard.write_text(&text);
    leptos::task::spawn_local(async move {
        match JsFuture::from(promise).await {
            Ok(_) => toasts.success(done),
            Err(_) => toasts
                .failure("The browser did not allow copying; select the text and copy it instead"),
        }
    });
}

/// `method url` with `body` (JSON) as a curl command for a shell; the token comes from
/// the environment (`$SANDBOX_TOKEN`), never from the page.
pub fn curl_command(method: &str, url: &str, body: &impl serde::Serialize) -> String {
    let body = serde_json::to_string_pretty(body)
        .unwrap_or_default()
        .replace('\'', r"'\''");
    format!(
        "curl -X {method} '{url}' \\\n  -H \"Authorization: Bearer $SANDBOX_TOKEN\" \\\n  -H 'Content-Type: application/json' \\\n  -d '{body}'"
    )
}
