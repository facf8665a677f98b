//! Who is signed in: the bearer token, kept in memory and in `sessionStorage` (so a
//! reload in the same tab keeps the session), never in `localStorage` or a URL.

use leptos::prelude::*;

use sandbox_api::role::Role;

const STORAGE_KEY: &str = "sandbox-console.token";
const ROLE_KEY: &str = "sandbox-console.role";

#[derive(Clone, Copy)]
pub struct Session {
    token: RwSignal<Option<String>>,
    /// What the token may do, learned at sign-in; `None` until known.
    role: RwSignal<Option<Role>>,
    /// The user signed out with the button (rather than the token being dropped): the
    /// next sign-in starts afresh instead of returning to where this user was.
    left: RwSignal<bool>,
}

impl Session {
    /// The session saved by an earlier page load of this tab, if any.
    pub fn restore() -> Session {
        let read = |key: &str| storage().and_then(|s| s.get_item(key).ok().flatten());
        Session {
            token: RwSignal::new(read(STORAGE_KEY).filter(|t| !t.is_empty())),
            role: RwSignal::new(read(ROLE_KEY).and_then(|r| r.parse().ok())),
            left: RwSignal::new(false),
        }
    }

    pub fn token_untracked(&self) -> Option<String> {
        self.token.get_untracked()
    }

    pub fn is_signed_in(&self) -> bool {
        self.token.with(Option::is_some)
    }

    pub fn role(&self) -> Option<Role> {
        self.role.get()
    }

    pub fn sign_in(&self, token: String, role: Role) {
        if let Some(storage) = storage() {
            // Without storage the session still works; it just ends with the page.
            let _ = storage.set_item(STORAGE_KEY, &token);
            let _ = storage.set_item(ROLE_KEY, role.as_str());
        }
        self.role.set(Some(role));
        self.token.set(Some(token));
        self.left.set(false);
    }

    /// Signs out for good: whoever signs in next starts on the start page.
    pub fn leave(&self) {
        self.left.set(true);
        self.sign_out();
    }

    /// Whether the last sign-out was [`Session::leave`].
    pub fn has_left_untracked(&self) -> bool {
        self.left.get_untracked()
    }

    pub fn sign_out(&self) {
        if let Some(storage) = storage() {
            let _ = storage.remove_item(STORAGE_KEY);
            let _ = storage.remove_item(ROLE_KEY);
        }
        self.role.set(None);
        self.token.set(None);
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
