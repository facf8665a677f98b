//! "Will it fit?" as a page of its own, so placement's code is not part of the runners
//! list's download.

use leptos::prelude::*;

use crate::components::will_it_fit::WillItFit;

#[component]
pub fn WillItFitPage() -> impl IntoView {
    view! {
        <section class="page" aria-labelledby="will-it-fit-heading">
            <header class="page-header">
                <h1 id="will-it-fit-heading">"Will it fit?"</h1>
            </header>
            <p class="hint">"Describe a sandbox to see which runner would take it now, and why the others would not. This runs the placement the gateway runs when a sandbox starts."</p>
            <WillItFit />
        </section>
    }
}
