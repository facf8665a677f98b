//! Short notices that do not block: an action done, or one that failed. They stack in
//! a corner, are announced to screen readers, and can be dismissed; successes also go
//! away on their own, failures stay until read.

use std::time::Duration;

use leptos::prelude::*;

use crate::drafts;
use crate::query::rel_for;

/// How long a success stays on screen.
const SUCCESS_SHOWN_FOR: Duration = Duration::from_secs(6);
/// A success to show on the next page, when an action ends by loading another of the
/// console's pages.
const CARRIED_KEY: &str = "sandbox-console.carried-toast";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Success,
    Failure,
}

#[derive(Clone, Debug, PartialEq)]
struct Toast {
    id: u64,
    kind: Kind,
    text: String,
}

#[derive(Clone, Copy)]
pub struct Toasts {
    shown: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

impl Toasts {
    /// The toasts of this page, with any success the previous page carried over.
    pub fn new() -> Toasts {
        let toasts = Toasts {
            shown: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(0),
        };
        if let Some(text) = drafts::load(CARRIED_KEY) {
            drafts::discard(CARRIED_KEY);
            toasts.success(text);
        }
        toasts
    }

    /// A success said just before going to `href`: carried to the page that serves it
    /// when that is another of the console's pages, which starts afresh.
    pub fn success_before_going_to(&self, href: &str, text: impl Into<String>) {
        let text = text.into();
        if rel_for(href).is_some() {
            drafts::save(CARRIED_KEY, &text);
        }
        self.success(text);
    }

    pub fn success(&self, text: impl Into<String>) {
        let id = self.push(Kind::Success, text.into());
        let toasts = *self;
        set_timeout(move || toasts.dismiss(id), SUCCESS_SHOWN_FOR);
    }

    pub fn failure(&self, text: impl Into<String>) {
        self.push(Kind::Failure, text.into());
    }

    fn push(&self, kind: Kind, text: String) -> u64 {
        let id = self.next_id.try_update_value(|n| {
            *n += 1;
            *n
        });
        let id = id.unwrap_or_default();
        self.shown
            .update(|list| list.push(Toast { id, kind, text }));
        id
    }

    fn dismiss(&self, id: u64) {
        // The shell may be gone (signed out) by the time a timer fires.
        let _ = self.shown.try_update(|list| list.retain(|t| t.id != id));
    }
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

/// Where the toasts appear; the shell renders it once.
#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For
                each=move || toasts.shown.get()
                key=|toast| toast.id
                children=move |toast| {
                    let (class, label) = match toast.kind {
                        Kind::Success => ("toast success", "Done"),
                        Kind::Failure => ("toast failure", "Failed"),
                    };
                    view! {
                        <div class=class>
                            <span class="toast-kind">{label}</span>
                            <span class="toast-text">{toast.text}</span>
                            <button type="button" class="chip-remove" aria-label="Dismiss" on:click=move |_| toasts.dismiss(toast.id)>
                                "×"
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}
