//! "Will it fit?" as a page of its own, so placement's code is not part of the runners
//! list's download.

use leptos::prelude::*;
use sandbox_api::format::{format_bytes, format_cpu};
use sandbox_api::placement::SandboxCeiling;

use crate::components::placement_preview::WillItFit;

#[component]
pub fn WillItFitPage() -> impl IntoView {
    view! {
        <section class="page" aria-labelledby="will-it-fit-heading">
            <header class="page-header">
                <h1 id="will-it-fit-heading">"Will it fit?"</h1>
            </header>
            <p class="hint">"Describe a sandbox to see which runner would take it now, and why the others would not. This runs the placement the gateway runs when a sandbox starts."</p>
            <WillItFit />
            <p class="hint">{ceiling_note()}</p>
        </section>
    }
}

/// The per-sandbox limit is the platform's configuration, which the console cannot
/// read; the preview assumes the default and says so.
fn ceiling_note() -> String {
    let ceiling = SandboxCeiling::default();
    format!(
        "The preview assumes the platform's default limit for one sandbox: {}, {} of memory and {} GPUs. A platform configured otherwise may refuse what fits here, and says why.",
        format_cpu(ceiling.cpu_millicores),
        format_bytes(ceiling.memory_bytes),
        ceiling.gpus
    )
}
