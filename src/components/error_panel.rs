//! The one way the console shows a failed call: what went wrong in words, the
//! gateway's reason code, and every field violation. All of it rendered as text.

use leptos::prelude::*;

use crate::api::ApiError;

#[component]
pub fn ErrorPanel(
    /// What the user was trying to do, e.g. "Could not load profiles".
    #[prop(into)]
    title: String,
    error: ApiError,
    /// Offered as a "Try again" button when given.
    #[prop(optional)]
    on_retry: Option<Callback<()>>,
) -> impl IntoView {
    let reason = error.status().and_then(|s| s.reason()).map(str::to_owned);
    // A placement refusal's message lists, after the summary, each runner's reasons
    // ("summary; runner/profile: reason, reason; …"): shown one runner a line.
    let message = error.to_string();
    let per_runner = matches!(
        reason.as_deref(),
        Some("CWSANDBOX_NO_SUITABLE_RUNNER" | "CWSANDBOX_PROFILE_MISMATCH")
    );
    let (message, runners): (String, Vec<String>) = if per_runner {
        let mut parts = message.split("; ").map(str::to_owned);
        (parts.next().unwrap_or_default(), parts.collect())
    } else {
        (message, Vec::new())
    };
    let violations: Vec<_> = error
        .status()
        .map(|s| s.field_violations().cloned().collect())
        .unwrap_or_default();
    view! {
        <div class="error-panel" role="alert">
            <p class="error-title">{title}</p>
            <p class="error-message">{message}</p>
            {(!runners.is_empty()).then(|| view! {
                <ul class="rejections" aria-label="Why each runner said no">
                    {runners.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                </ul>
            })}
            {reason.map(|r| view! { <p class="error-reason">"Reason: " <code>{r}</code></p> })}
            {(!violations.is_empty())
                .then(|| {
                    view! {
                        <ul class="violations">
                            {violations
                                .into_iter()
                                .map(|v| {
                                    view! {
                                        <li>
                                            <code>{v.field}</code>
                                            " "
                                            {v.description}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            {on_retry
                .map(|retry| {
                    view! {
                        <button class="button" on:click=move |_| retry.run(())>
                            "Try again"
                        </button>
                    }
                })}
        </div>
    }
}
