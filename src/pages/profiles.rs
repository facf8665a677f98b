//! Profiles: the organization's profile templates.

use leptos::prelude::*;
use sandbox_api::profile::ProfileTemplate;

use crate::api::use_api;
use crate::components::error_panel::ErrorPanel;
use crate::session::use_session;

#[component]
pub fn ProfilesPage() -> impl IntoView {
    let api = use_api();
    let templates = LocalResource::new(move || {
        let api = api.clone();
        async move { api.list_profile_templates().await }
    });

    view! {
        <section class="page" aria-labelledby="profiles-heading">
            <header class="page-header">
                <h1 id="profiles-heading">"Profiles"</h1>
                <button class="button" on:click=move |_| templates.refetch()>"Refresh"</button>
            </header>
            {move || match templates.get() {
                None => view! { <p class="loading" role="status">"Loading profiles…"</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <EmptyProfiles /> }.into_any(),
                Some(Ok(list)) => view! { <ProfileTable templates=list /> }.into_any(),
                Some(Err(error)) if error.is_unauthenticated() => view! { <SessionEnded error /> }.into_any(),
                Some(Err(error)) => {
                    let retry = Callback::new(move |()| templates.refetch());
                    view! { <ErrorPanel title="Could not load profiles" error on_retry=retry /> }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn ProfileTable(templates: Vec<ProfileTemplate>) -> impl IntoView {
    let count = templates.len();
    view! {
        <table class="data-table">
            <caption>{format!("{count} profile{}", if count == 1 { "" } else { "s" })}</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col">"Labels"</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || templates.clone() key=|t| t.id.clone() let:template>
                    <tr>
                        <th scope="row" class="name">{template.display_name}</th>
                        <td>{template.description}</td>
                        <td>
                            <ul class="chips" aria-label="Labels">
                                {template
                                    .labels
                                    .into_iter()
                                    .map(|(key, value)| {
                                        view! { <li class="chip">{format!("{key}={value}")}</li> }
                                    })
                                    .collect_view()}
                            </ul>
                        </td>
                    </tr>
                </For>
            </tbody>
        </table>
    }
}

#[component]
fn EmptyProfiles() -> impl IntoView {
    view! {
        <div class="empty-state">
            <p class="empty-title">"No profiles yet"</p>
            <p>
                "A profile is a set of guardrails (image, resources, network) that runners expose to developers. "
                "An administrator creates them with the API or the CLI."
            </p>
        </div>
    }
}

/// The token stopped working (revoked, or the gateway's data was reset).
#[component]
fn SessionEnded(error: crate::api::ApiError) -> impl IntoView {
    let session = use_session();
    // Signing out makes the shell send the user to sign-in, and back here afterwards.
    let sign_in_again = move |_| session.sign_out();
    view! {
        <div class="stack">
            <ErrorPanel title="Your session is no longer valid" error />
            <button class="button primary" on:click=sign_in_again>"Sign in again"</button>
        </div>
    }
}
