//! How the reader likes the pane (timestamps, colours, wrapping, where reading
//! starts), remembered in `localStorage` across pages and reloads, and the checkbox
//! that turns one of them on or off.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Where the pane's settings are remembered (not secret: display preferences only).
const SETTINGS_KEY: &str = "sandbox-console.log-pane";

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub timestamps: bool,
    /// Colours left out.
    pub plain: bool,
    /// Long lines wrap instead of scrolling sideways.
    pub wrap: bool,
    /// Start at the beginning of the last this many lines.
    pub tail: Option<u64>,
}

impl Settings {
    pub fn remembered() -> Settings {
        local_storage()
            .and_then(|s| s.get_item(SETTINGS_KEY).ok().flatten())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    pub fn remember(&self) {
        if let (Some(storage), Ok(text)) = (local_storage(), serde_json::to_string(self)) {
            let _ = storage.set_item(SETTINGS_KEY, &text);
        }
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// A checkbox for one of the pane's on/off settings.
pub fn setting_toggle(
    settings: RwSignal<Settings>,
    label: &'static str,
    field: fn(&mut Settings) -> &mut bool,
) -> impl IntoView {
    view! {
        <label class="field checkbox">
            <input
                type="checkbox"
                prop:checked=move || {
                    let mut current = settings.get();
                    *field(&mut current)
                }
                on:change=move |ev| settings.update(|s| *field(s) = event_target_checked(&ev))
            />
            {label}
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_back_and_missing_ones_take_their_default() {
        let settings = Settings {
            wrap: true,
            tail: Some(1000),
            ..Settings::default()
        };
        let text = serde_json::to_string(&settings).unwrap();
        assert_eq!(serde_json::from_str::<Settings>(&text).unwrap(), settings);
        assert_eq!(
            serde_json::from_str::<Settings>(r#"{"plain":true}"#).unwrap(),
            Settings {
                plain: true,
                ..Settings::default()
            }
        );
    }
}
