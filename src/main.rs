//! Sandbox Console: a client-side Leptos app for the sandbox platform. See ARCHITECTURE.md.

mod api;
mod app;
mod components;
mod config;
mod connectivity;
mod drafts;
mod embed;
mod log_buffer;
mod monaco;
mod pages;
mod query;
mod session;
mod sleep;
mod virtual_window;
mod wrapped_rows;

use leptos::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    // The configuration decides which API every view talks to, so nothing renders
    // before it is known.
    wasm_bindgen_futures::spawn_local(async {
        match api::load_config().await {
            Ok(config) => leptos::mount::mount_to_body(move || view! { <app::App config/> }),
            Err(error) => leptos::mount::mount_to_body(move || {
                view! { <app::ConfigUnavailable error/> }
            }),
        }
    });
}
