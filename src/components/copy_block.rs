//! A collapsible block of text to copy elsewhere (a curl command, an SDK snippet), with
//! a button that puts it on the clipboard; and the one way the console writes a curl
//! command.

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
    let copy = move |_| {
        let Some(clipboard) = web_sys::window().map(|w| w.navigator().clipboard()) else {
            return;
        };
        let promise = clipboard.write_text(&text.get_untracked());
        leptos::task::spawn_local(async move {
            match JsFuture::from(promise).await {
                Ok(_) => toasts.success(format!("Copied: {summary}")),
                Err(_) => toasts.failure(
                    "The browser did not allow copying; select the text and copy it instead",
                ),
            }
        });
    };
    view! {
        <details class="copy-block">
            <summary>{summary}</summary>
            <button type="button" class="button" on:click=copy>"Copy"</button>
            <pre>{text}</pre>
        </details>
    }
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
