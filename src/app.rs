//! The shell: routes, the signed-in frame around every page, and what shows when the
//! console cannot start.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;

use crate::api::{Api, ApiError};
use crate::components::error_panel::ErrorPanel;
use crate::config::ConsoleConfig;
use crate::pages::profiles::ProfilesPage;
use crate::pages::sign_in::SignInPage;
use crate::session::{Session, use_session};

#[component]
pub fn App(config: ConsoleConfig) -> impl IntoView {
    let session = Session::restore();
    provide_context(session);
    provide_context(Api::new(config, session));
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/sign-in") view=SignInPage />
                <ParentRoute path=path!("") view=SignedInShell>
                    <Route path=path!("") view=|| view! { <Redirect path="/profiles" /> } />
                    <Route path=path!("profiles") view=ProfilesPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The frame of every page that needs a token; without one, the sign-in page, which
/// comes back here afterwards.
#[component]
fn SignedInShell() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    move || {
        if session.is_signed_in() {
            view! {
                <div class="shell">
                    <header class="topbar">
                        <a class="brand" href="/">"Sandbox Console"</a>
                        <nav aria-label="Main">
                            <A href="/profiles">"Profiles"</A>
                        </nav>
                        <button class="button quiet" on:click=move |_| session.sign_out()>
                            "Sign out"
                        </button>
                    </header>
                    <main id="main">
                        <Outlet />
                    </main>
                </div>
            }
            .into_any()
        } else {
            let here = location.pathname.get_untracked();
            let next = js_sys::encode_uri_component(&here);
            view! { <Redirect path=format!("/sign-in?next={next}") /> }.into_any()
        }
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main id="main" class="centered">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <a class="button" href="/">"Go to the console"</a>
        </main>
    }
}

/// Shown when `config.json` cannot be loaded: without it the console does not know
/// which API to call.
#[component]
pub fn ConfigUnavailable(error: ApiError) -> impl IntoView {
    view! {
        <main id="main" class="centered">
            <ErrorPanel
                title="The console could not load its configuration (config.json)"
                error
            />
            <button class="button" on:click=|_| reload()>"Try again"</button>
        </main>
    }
}

fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}
