//! Sign-in: the user pastes a bearer token; the console checks it with the gateway
//! before keeping it, then returns to the page that sent the user here.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::use_api;
use crate::components::error_panel::ErrorPanel;
use crate::embed::Embedding;
use crate::query::go;
use crate::session::use_session;

#[component]
pub fn SignInPage() -> impl IntoView {
    let api = use_api();
    let session = use_session();
    let navigate = use_navigate();
    let query = use_query_map();
    let token = RwSignal::new(String::new());

    let check = Action::new_local(move |token: &String| {
        let api = api.clone();
        let token = token.trim().to_owned();
        async move {
            api.check_token(&token).await?;
            let role = api.probe_role(&token).await?;
            Ok::<_, crate::api::ApiError>((token, role))
        }
    });

    Effect::new(move |_| {
        if let Some(Ok((accepted, role))) = check.value().get() {
            session.sign_in(accepted, role);
        }
    });

    // Signed in, here or by an embedding host: go where the user was going.
    let embedded = expect_context::<Embedding>().embedded;
    Effect::new(move |_| {
        if !session.is_signed_in() {
            return;
        }
        let next = query
            .with_untracked(|q| q.get("next"))
            .filter(|p| is_local_path(p))
            .unwrap_or_else(|| "/runners".to_owned());
        let target = match (embedded, next.contains('?')) {
            (false, _) => next,
            (true, true) => format!("{next}&embed=1"),
            (true, false) => format!("{next}?embed=1"),
        };
        go(&navigate, &target, true);
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !token.with_untracked(|t| t.trim().is_empty()) {
            check.dispatch(token.get_untracked());
        }
    };

    view! {
        <main id="main" class="centered">
            <form class="card sign-in" on:submit=on_submit>
                <h1>"Sign in to Sandbox Console"</h1>
                <p class="hint">
                    {if embedded {
                        "Waiting for the host console to sign you in. You can also paste a bearer token."
                    } else {
                        "Paste a bearer token for your organization. It is kept only for this tab's session."
                    }}
                </p>
                <label for="token">"Bearer token"</label>
                <input
                    id="token"
                    name="token"
                    type="password"
                    autocomplete="off"
                    spellcheck="false"
                    required
                    prop:value=token
                    on:input=move |ev| token.set(event_target_value(&ev))
                />
                <button class="button primary" type="submit" disabled=move || check.pending().get()>
                    {move || if check.pending().get() { "Checking…" } else { "Sign in" }}
                </button>
                {move || {
                    check
                        .value()
                        .get()
                        .and_then(Result::err)
                        .map(|error| {
                            let title = if error.is_unauthenticated() {
                                "That token was not accepted"
                            } else {
                                "Could not check the token"
                            };
                            view! { <ErrorPanel title error /> }
                        })
                }}
            </form>
        </main>
    }
}

/// Only paths on this site: `next` must not send the user elsewhere.
fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.contains('\\')
}
