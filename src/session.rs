//! Who is signed in: the bearer token, kept in memory and in `sessionStorage` (so a
//! reload in the same tab keeps the session), never in `localStorage` or a URL.

use leptos::prelude::*;

const STORAGE_KEY: &str = "sandbox-console.token";

#[derive(Clone, Copy)]
pub struct Session {
    token: RwSignal<Option<String>>,
}

impl Session {
    /// The session saved by an earlier page load of this tab, if any.
    pub fn restore() -> Session {
        let token = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
        Session {
            token: RwSignal::new(token.filter(|t| !t.is_empty())),
        }
    }

    pub fn token_untracked(&self) -> Option<String> {
        self.token.get_untracked()
    }

    pub fn is_signed_in(&self) -> bool {
        self.token.with(Option::is_some)
    }

    pub fn sign_in(&self, token: String) {
        if let Some(storage) = storage() {
            // Without storage the session still works; it just ends with the page.
            let _ = storage.set_item(STORAGE_KEY, &token);
        }
        self.token.set(Some(token));
    }

    pub fn sign_out(&self) {
        if let Some(storage) = storage() {
            let _ = storage.remove_item(STORAGE_KEY);
        }
        self.token.set(None);
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
