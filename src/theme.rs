//! The console's colour theme: the user's choice (system, light or dark), remembered,
//! and whether it is dark now, for the widgets that draw their own colours (Monaco, the
//! terminal, charts; they take it when they are created). An embedding host's theme
//! wins over the user's choice, which is not offered there.

/// Whether the console shows its dark theme (set by a host, else the system's).
pub fn is_dark() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let forced = window
        .document()
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("data-theme"));
    match forced.as_deref() {
        Some(theme) => theme == "dark",
        None => window
            .match_media("(prefers-color-scheme: dark)")
            .ok()
            .flatten()
            .is_some_and(|m| m.matches()),
    }
}

/// Where the user's choice is kept: a preference, not a secret, so `localStorage`,
/// shared by every page and tab.
const CHOICE_KEY: &str = "sandbox-console.theme";

/// The user's choice: `system`, `light` or `dark`.
pub fn chosen() -> String {
    storage()
        .and_then(|s| s.get_item(CHOICE_KEY).ok().flatten())
        .filter(|t| matches!(t.as_str(), "light" | "dark"))
        .unwrap_or_else(|| "system".to_owned())
}

/// Shows `theme` (`system` follows the OS) and remembers it.
pub fn choose(theme: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(CHOICE_KEY, theme);
    }
    crate::embed::set_theme(theme);
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}
