//! The gateway stopped answering: say so, retry on a timer, and disappear by itself
//! once it answers again (views reload through `Connectivity::recoveries`).

use std::time::Duration;

use leptos::prelude::*;

use crate::api::use_api;
use crate::connectivity::use_connectivity;
use crate::repeat;

const RETRY_EVERY: Duration = Duration::from_secs(2);

#[component]
pub fn UnreachableBanner() -> impl IntoView {
    let connectivity = use_connectivity();
    move || (!connectivity.is_reachable()).then(|| view! { <Retrying /> })
}

#[component]
fn Retrying() -> impl IntoView {
    let api = use_api();
    let attempts = RwSignal::new(0u32);
    let retry = move || {
        let api = api.clone();
        attempts.update(|n| *n += 1);
        leptos::task::spawn_local(async move {
            api.ping().await;
        });
    };
    repeat::every(RETRY_EVERY, retry.clone());
    view! {
        <div class="banner warning" role="alert">
            <strong>"The gateway cannot be reached."</strong>
            " Your data is safe; the console retries every 2 seconds and resumes by itself. "
            <span class="hint">{move || format!("Attempts so far: {}.", attempts.get())}</span>
            <button class="button" on:click=move |_| retry()>"Retry now"</button>
        </div>
    }
}
