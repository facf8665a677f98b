//! Administrative actions show only for SANDBOX_ADMIN tokens. Anyone else sees, in
//! their place, what the action would need, so a missing button never looks like a bug.
//! The gateway enforces the roles; this only keeps the UI honest about them.

use leptos::prelude::*;
use sandbox_api::role::Role;

use crate::session::use_session;

#[component]
pub fn AdminOnly(
    /// What the hidden actions do, e.g. "apply updates".
    what: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let session = use_session();
    move || {
        if session.role() == Some(Role::Admin) {
            children().into_any()
        } else {
            let reason = format!("Only an administrator (SANDBOX_ADMIN) can {what}.");
            let title = reason.clone();
            view! { <p class="hint read-only" title=title>"Read-only: " {reason}</p> }.into_any()
        }
    }
}
