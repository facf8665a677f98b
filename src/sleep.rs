//! Waiting in async code without blocking the page: a timer the browser resolves.

use std::time::Duration;

/// Resolves after `duration`; with `Duration::ZERO`, after the browser has had a turn
/// to paint and handle input.
pub async fn sleep(duration: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let millis = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
