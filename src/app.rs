//! The shell: routes, the signed-in frame around every page (hidden when embedded),
//! and what shows when the console cannot start.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;
use sandbox_api::console_pages::ConsolePage;

use crate::api::{Api, ApiError};
use crate::components::error_panel::ErrorPanel;
use crate::components::toasts::{ToastRegion, Toasts};
use crate::components::unreachable_banner::UnreachableBanner;
use crate::config::ConsoleConfig;
use crate::connectivity::Connectivity;
use crate::embed::{self, Embedding};
use crate::pages::administration::managed_runner::ManagedRunnerPage;
use crate::pages::administration::managed_runners::ManagedRunnersPage;
use crate::pages::administration::new_runner::NewRunnerPage;
use crate::pages::administration::rollout::RolloutPage;
use crate::pages::placement::activity::ActivityPage;
use crate::pages::placement::availability::AvailabilityPage;
use crate::pages::placement::overview::OverviewPage;
use crate::pages::placement::runner_detail::RunnerDetailPage;
use crate::pages::placement::runners::RunnersPage;
use crate::pages::placement::will_it_fit::WillItFitPage;
use crate::pages::profiles::editor::ProfileEditorPage;
use crate::pages::profiles::list::ProfilesPage;
use crate::pages::sandboxes::detail::SandboxDetailPage;
use crate::pages::sandboxes::launch::LaunchPage;
use crate::pages::sandboxes::list::SandboxesPage;
use crate::pages::start::sign_in::SignInPage;
use crate::query::{link, rel_for};
use crate::session::{Session, use_session};

/// What every page of the console shares: configuration, session, connectivity,
/// embedding and toasts; `children` is the page's router.
#[component]
pub fn App(config: ConsoleConfig, page: ConsolePage, children: Children) -> impl IntoView {
    let session = Session::restore();
    let connectivity = Connectivity::new();
    let embedding = Embedding::from_location();
    let allowed_origins = config.embed_allowed_origins.clone();
    let api = Api::new(config, session, connectivity);
    provide_context(page);
    provide_context(session);
    provide_context(connectivity);
    provide_context(embedding);
    provide_context(api.clone());
    provide_context(Toasts::new());
    if embedding.embedded {
        embed::listen_to_host(api, session);
        embed::report_height(allowed_origins);
    } else {
        crate::theme::choose(&crate::theme::chosen());
    }
    children()
}

/// The first page's views: sign-in, and `/`, which sends a signed-in visitor on to the
/// start page.
#[component]
pub fn StartRoutes() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/sign-in") view=SignInPage />
                <ParentRoute path=path!("") view=SignedInShell>
                    <Route path=path!("") view=StartPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The placement page's views.
#[component]
pub fn PlacementRoutes() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/sign-in") view=SignInPage />
                <ParentRoute path=path!("") view=SignedInShell>
                    <Route path=path!("runners") view=RunnersPage />
                    <Route path=path!("runners/:runner") view=RunnerDetailPage />
                    <Route path=path!("availability") view=AvailabilityPage />
                    <Route path=path!("will-it-fit") view=WillItFitPage />
                    <Route path=path!("activity") view=ActivityPage />
                    <Route path=path!("overview") view=OverviewPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The profiles page's views (and sign-in, which any page may need).
#[component]
pub fn ProfilesRoutes() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/sign-in") view=SignInPage />
                <ParentRoute path=path!("") view=SignedInShell>
                    <Route path=path!("profiles") view=ProfilesPage />
                    <Route path=path!("profiles/new") view=ProfileEditorPage />
                    <Route path=path!("profiles/:profile") view=ProfileEditorPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The sandboxes page's views.
#[component]
pub fn SandboxesRoutes() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/sign-in") view=SignInPage />
                <ParentRoute path=path!("") view=SignedInShell>
                    <Route path=path!("sandboxes") view=SandboxesPage />
                    <Route path=path!("sandboxes/new") view=LaunchPage />
                    <Route path=path!("sandboxes/:sandbox") view=SandboxDetailPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The runner administration page's views.
#[component]
pub fn RunnerAdminRoutes() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/sign-in") view=SignInPage />
                <ParentRoute path=path!("") view=SignedInShell>
                    <Route path=path!("managed-runners") view=ManagedRunnersPage />
                    <Route path=path!("managed-runners/new") view=NewRunnerPage />
                    <Route path=path!("managed-runners/:runner") view=ManagedRunnerPage />
                    <Route path=path!("rollout") view=RolloutPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// A link in the navigation: the router's own when this page serves `href`, else a
/// plain link the browser follows to the page that does.
#[component]
fn NavLink(href: &'static str, children: Children) -> impl IntoView {
    match rel_for(href) {
        None => view! { <A href=href>{children()}</A> }.into_any(),
        Some(rel) => view! { <a href=href rel=rel>{children()}</a> }.into_any(),
    }
}

/// The frame of every page that needs a token; without one, the sign-in page, which
/// comes back here afterwards.
#[component]
fn SignedInShell() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let embedding = expect_context::<Embedding>();
    let api = expect_context::<Api>();
    if embedding.embedded {
        let allowed = api.config().embed_allowed_origins.clone();
        Effect::new(move |_| {
            let path = location.pathname.get();
            embed::report_navigation(&allowed, &path);
        });
    }
    move || {
        if !session.is_signed_in() {
            // Come back to the same view, filters and all (minus the embed flag, which
            // `link` adds again).
            let search = location.search.get_untracked();
            let query: Vec<&str> = search
                .trim_start_matches('?')
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with("embed="))
                .collect();
            let here = if query.is_empty() {
                location.pathname.get_untracked()
            } else {
                format!("{}?{}", location.pathname.get_untracked(), query.join("&"))
            };
            // Signed out with the button: the next user starts afresh, not on this page.
            let next = if session.has_left_untracked() {
                Vec::new()
            } else {
                vec![("next", here)]
            };
            let target = link("/sign-in", &next, embedding.embedded);
            return view! { <Redirect path=target /> }.into_any();
        }
        let content = view! {
            <main id="main">
                <UnreachableBanner />
                <Outlet />
                <ToastRegion />
            </main>
        };
        if embedding.embedded {
            return view! { <div class="shell embedded">{content}</div> }.into_any();
        }
        let role = move || match session.role() {
            Some(sandbox_api::role::Role::Admin) => "Administrator",
            Some(sandbox_api::role::Role::User) => "Developer",
            None => "",
        };
        view! {
            <div class="shell">
                <header class="topbar">
                    <a class="brand" href="/overview" rel=rel_for("/overview")>"Sandbox Console"</a>
                    <nav aria-label="Main">
                        <NavLink href="/overview">"Overview"</NavLink>
                        <NavLink href="/runners">"Runners"</NavLink>
                        <NavLink href="/availability">"Profile availability"</NavLink>
                        <NavLink href="/will-it-fit">"Will it fit?"</NavLink>
                        <NavLink href="/profiles">"Profiles"</NavLink>
                        <NavLink href="/sandboxes">"Sandboxes"</NavLink>
                        <NavLink href="/activity">"Activity"</NavLink>
                        // Administration is for administrators; the gateway refuses the
                        // rest anyway, and a developer need not see a page of refusals.
                        {move || (session.role() == Some(sandbox_api::role::Role::Admin))
                            .then(|| view! { <NavLink href="/managed-runners">"Administration"</NavLink> })}
                    </nav>
                    <span class="role" title="What your token may do">{role}</span>
                    {
                        let chosen = crate::theme::chosen();
                        view! {
                            <select class="theme-switch" aria-label="Theme" on:change=|ev| crate::theme::choose(&event_target_value(&ev))>
                                <option value="system" selected=chosen == "system">"System theme"</option>
                                <option value="light" selected=chosen == "light">"Light"</option>
                                <option value="dark" selected=chosen == "dark">"Dark"</option>
                            </select>
                        }
                    }
                    <button class="button quiet" on:click=move |_| session.leave()>"Sign out"</button>
                </header>
                {content}
            </div>
        }
        .into_any()
    }
}

/// `/`: the start page (the overview), which another page serves, so a full
/// navigation (with `embed=1` kept when embedded).
#[component]
fn StartPage() -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let embedded = expect_context::<Embedding>().embedded;
    let target = link(sandbox_api::next_path::START_PAGE, &[], embedded);
    Effect::new(move |_| crate::query::go(&navigate, &target, true));
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main id="main" class="centered">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <a class="button" href="/" rel=rel_for("/")>"Go to the console"</a>
        </main>
    }
}

/// Shown when `config.json` cannot be loaded: without it the console does not know
/// which API to call.
#[component]
pub fn ConfigUnavailable(error: ApiError) -> impl IntoView {
    view! {
        <main id="main" class="centered">
            <ErrorPanel title="The console could not load its configuration (config.json)" error />
            <button class="button" on:click=|_| reload()>"Try again"</button>
        </main>
    }
}

fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}
