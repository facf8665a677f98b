//! Work a view repeats on a beat while it lives (live refresh, following an install,
//! retrying the gateway).

use std::time::Duration;

use leptos::prelude::{on_cleanup, set_interval_with_handle};

/// Runs `tick` every `period` until the calling view is cleaned up.
pub fn every(period: Duration, tick: impl Fn() + 'static) {
    let timer = set_interval_with_handle(tick, period).ok();
    on_cleanup(move || {
        if let Some(timer) = timer {
            timer.clear();
        }
    });
}
