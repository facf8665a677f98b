//! A record as the API gives it, in YAML (easier to read) or JSON (what a script
//! gets), each with a copy button: for the resources whose pages are made of facts
//! (sandboxes, runners), as profiles have their YAML editor.

use leptos::prelude::*;
use sandbox_api::profile_document::write_fragment;

use crate::components::copy_block::CopyButton;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Yaml,
    Json,
}

/// `value` collapsed under a summary; it stays open while the value refreshes.
#[component]
pub fn RawView(
    #[prop(into)] value: Signal<serde_json::Value>,
    /// What the record is, for the summary ("this sandbox").
    what: &'static str,
) -> impl IntoView {
    let form = RwSignal::new(Form::Yaml);
    let text = Memo::new(move |_| {
        value.with(|value| match form.get() {
            Form::Yaml => write_fragment(value),
            Form::Json => serde_json::to_string_pretty(value).unwrap_or_default(),
        })
    });
    let tab = move |label: &'static str, which: Form| {
        view! {
            <button type="button" role="tab" aria-selected=move || (form.get() == which).to_string()
                on:click=move |_| form.set(which)>{label}</button>
        }
    };
    view! {
        <details class="raw-view">
            <summary>{format!("The record of {what}, as the API gives it")}</summary>
            <div class="raw-view-bar">
                <div class="tabs" role="tablist" aria-label="Format">
                    {tab("YAML", Form::Yaml)}
                    {tab("JSON", Form::Json)}
                </div>
                {move || view! { <CopyButton text=text what=if form.get() == Form::Yaml { "the YAML" } else { "the JSON" } /> }}
            </div>
            <pre class="raw-text" tabindex="0">{text}</pre>
        </details>
    }
}
