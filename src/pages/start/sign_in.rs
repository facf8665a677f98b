//! Sign-in: the user pastes a bearer token; the console checks it with the gateway
//! before keeping it, then returns to the page that sent the user here.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use sandbox_api::next_path::{ParsedUrl, after_sign_in};

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

    // Signed in, here or by an embedding host: go where the user was going, if that is
    // a page of this console (`sandbox_api::next_path`), else to the start page.
    let embedded = expect_context::<Embedding>().embedded;
    Effect::new(move |_| {
        if !session.is_signed_in() {
            return;
        }
        let next = query.with_untracked(|q| q.get("next"));
        let own_origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_else(|| "null".to_owned());
        let target = after_sign_in(&own_origin, next.as_deref(), embedded, browser_url);
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

/// `input` read against `base` by the browser's own URL parser, the one its navigation
/// uses, so that `next` is judged exactly as it will be followed
/// (`sandbox_api::next_path`).
fn browser_url(input: &str, base: &str) -> Option<ParsedUrl> {
    let url = web_sys::Url::new_with_base(input, base).ok()?;
    Some(ParsedUrl {
        origin: url.origin(),
        pathname: url.pathname(),
        search: url.search(),
        hash: url.hash(),
    })
}
