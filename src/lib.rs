//! Sandbox Console: a client-side Leptos app for the sandbox platform. It ships as more
//! than one page (see `sandbox_api::console_pages`): each binary in this package mounts
//! the shared shell with its own routes, so a page's bundle holds only what its views
//! use. See ARCHITECTURE.md.

mod api;
mod app;
mod chart;
mod components;
mod config;
mod connectivity;
mod drafts;
mod embed;
mod log_buffer;
mod monaco;
mod pages;
mod query;
mod repeat;
mod session;
mod sleep;
mod theme;
mod virtual_window;
mod wrapped_rows;
mod xterm;

pub use app::{PlacementRoutes, ProfilesRoutes, RunnerAdminRoutes, SandboxesRoutes, StartRoutes};
use leptos::prelude::*;
pub use sandbox_api::console_pages::ConsolePage;

/// Starts console page `page`, whose views `routes` renders.
pub fn start<V: IntoView + 'static>(page: ConsolePage, routes: fn() -> V) {
    console_error_panic_hook::set_once();
    // The configuration decides which API every view talks to, so nothing renders
    // before it is known.
    wasm_bindgen_futures::spawn_local(async move {
        match api::load_config().await {
            Ok(config) => leptos::mount::mount_to_body(move || {
                view! { <app::App config page>{routes()}</app::App> }
            }),
            Err(error) => leptos::mount::mount_to_body(move || {
                view! { <app::ConfigUnavailable error/> }
            }),
        }
    });
}
