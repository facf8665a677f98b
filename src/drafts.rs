//! Unsaved work (and other state that must outlive the page, never secrets) kept in
//! `sessionStorage`, so a reload loses nothing; it stays with the tab and never goes to
//! `localStorage`.

/// The text saved under `key`, if any.
pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

pub fn save(key: &str, text: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, text);
    }
}

pub fn discard(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// The value saved under `key` as JSON, if any and still readable.
pub fn load_json<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    load(key).and_then(|text| serde_json::from_str(&text).ok())
}

pub fn save_json<T: serde::Serialize>(key: &str, value: &T) {
    if let Ok(text) = serde_json::to_string(value) {
        save(key, &text);
    }
}
