//! The console's colour theme as pages that draw their own widgets need it (Monaco,
//! the terminal).

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
