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
    /// The form's label for a field path, so violations read in the form's words.
    #[prop(optional)]
    labels: Option<fn(&str) -> Option<&'static str>>,
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
    // The message of a refused request repeats its violations: said once, below.
    let message = if violations.is_empty() {
        message
    } else {
        "Some fields need a change:".to_owned()
    };
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
                                    let label = labels.and_then(|l| l(&v.field));
                                    match label {
                                        Some(label) => view! { <li>{violation_text(label, &v.field, &v.description)}</li> }.into_any(),
                                        None => view! {
                                            <li><code>{v.field.clone()}</code>" "{without_path(&v.field, &v.description).to_owned()}</li>
                                        }.into_any(),
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

/// `description` without a leading repeat of `field` ("runner.identity.zone is
/// required" under the field `runner.identity.zone` reads "is required").
fn without_path<'a>(field: &str, description: &'a str) -> &'a str {
    description
        .strip_prefix(field)
        .map(|rest| rest.trim_start_matches(':').trim_start())
        .filter(|rest| !rest.is_empty())
        .unwrap_or(description)
}

/// A violation as a sentence in the form's words: "Command is required".
pub fn violation_text(label: &str, field: &str, description: &str) -> String {
    let description = without_path(field, description);
    let verb = ["is ", "must ", "has ", "cannot ", "can "]
        .iter()
        .any(|v| description.starts_with(v));
    if verb {
        format!("{label} {description}")
    } else {
        format!("{label}: {description}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_read_in_words_without_repeating_the_path() {
        assert_eq!(
            violation_text(
                "Zone",
                "runner.identity.zone",
                "runner.identity.zone is required"
            ),
            "Zone is required"
        );
        assert_eq!(
            violation_text("Image", "container_image", "not a valid reference: spaces"),
            "Image: not a valid reference: spaces"
        );
        assert_eq!(without_path("a.b", "a.b: must be set"), "must be set");
        assert_eq!(without_path("a.b", "a.b"), "a.b");
    }
}
