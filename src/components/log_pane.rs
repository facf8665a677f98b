//! A sandbox's log, live. It follows the output and scrolls with it until the reader
//! scrolls up (scrolling back to the bottom follows again); a dropped connection is
//! resumed from the last session and byte offset, so nothing is lost or repeated;
//! colours are read into styled text (never markup); only the lines in view are in the
//! DOM and at most `CAPACITY` lines in memory.

use std::time::Duration;

use futures_util::future::{AbortHandle, abortable};
use leptos::prelude::*;
use sandbox_api::ansi::{Color, Span, Style};
use wasm_bindgen::JsCast;

use crate::api::{ApiError, LogCursor, LogEnd, use_api};
use crate::log_buffer::LogBuffer;
use crate::virtual_window::visible_rows;

/// Lines kept in memory; older ones are dropped (and counted).
const CAPACITY: usize = 200_000;
/// Every line is this tall (the stylesheet reads `--line-height`).
const LINE_HEIGHT: f64 = 20.0;
/// Reconnection waits grow to this.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Where the pane's settings are remembered (not secret: display preferences only).
const SETTINGS_KEY: &str = "sandbox-console.log-pane";

#[derive(Clone, Debug, PartialEq)]
enum Connection {
    Connecting,
    Following,
    Reconnecting { attempt: u32 },
    Ended,
    Failed(String),
}

#[component]
pub fn LogPane(sandbox_id: String) -> impl IntoView {
    let api = use_api();
    let buffer = StoredValue::new_local(LogBuffer::new(CAPACITY));
    // Bumped whenever the buffer changes; the buffer itself is not reactive.
    let version = RwSignal::new(0u64);
    let connection = RwSignal::new(Connection::Connecting);
    let timestamps = RwSignal::new(remembered_timestamps());
    let following = RwSignal::new(true);
    let search = RwSignal::new(String::new());
    let scroll_top = RwSignal::new(0.0);
    let viewport = RwSignal::new(600.0);
    let scroller = NodeRef::<leptos::html::Div>::new();

    let (task, stop) = abortable(async move {
        let mut cursor: Option<LogCursor> = None;
        let mut attempt = 0u32;
        loop {
            let from = cursor.clone();
            let end = api
                .follow_logs(
                    &sandbox_id,
                    from.as_ref(),
                    || connection.set(Connection::Following),
                    |data| {
                        let timestamp = data.timestamp.and_then(|t| {
                            t.format(&time::format_description::well_known::Rfc3339)
                                .ok()
                        });
                        buffer.update_value(|b| b.push(&data.data, timestamp));
                        cursor = Some(LogCursor {
                            session_id: data.session_id,
                            offset: data.offset,
                        });
                        attempt = 0;
                        connection.set(Connection::Following);
                        version.update(|v| *v += 1);
                    },
                )
                .await;
            match end {
                Ok(LogEnd::Complete) => {
                    buffer.update_value(LogBuffer::finish);
                    version.update(|v| *v += 1);
                    connection.set(Connection::Ended);
                    return;
                }
                Ok(LogEnd::Refused { code, message }) => {
                    connection.set(Connection::Failed(format!("{message} ({code})")));
                    return;
                }
                Ok(LogEnd::Cut) | Err(ApiError::Unreachable(_)) => {
                    attempt += 1;
                    connection.set(Connection::Reconnecting { attempt });
                    let wait =
                        Duration::from_millis(250 * 2u64.pow(attempt.min(5))).min(MAX_BACKOFF);
                    sleep(wait).await;
                }
                Err(error) => {
                    connection.set(Connection::Failed(error.to_string()));
                    return;
                }
            }
        }
    });
    leptos::task::spawn_local(async move {
        let _ = task.await;
    });
    on_cleanup(move || AbortHandle::abort(&stop));

    // Follow: after every change, stay at the bottom while following.
    Effect::new(move |_| {
        version.track();
        if following.get_untracked()
            && let Some(element) = scroller.get_untracked()
        {
            element.set_scroll_top(element.scroll_height());
        }
    });
    let on_scroll = move |_| {
        if let Some(element) = scroller.get_untracked() {
            let top = element.scroll_top() as f64;
            let height = element.client_height() as f64;
            scroll_top.set(top);
            viewport.set(height);
            // Within a line of the bottom counts as at the bottom.
            let at_bottom = top + height >= element.scroll_height() as f64 - LINE_HEIGHT;
            if following.get_untracked() != at_bottom {
                following.set(at_bottom);
            }
        }
    };
    let count = move || {
        version.track();
        buffer.with_value(|b| b.len() + usize::from(!b.partial().is_empty()))
    };
    let window =
        Memo::new(move |_| visible_rows(scroll_top.get(), viewport.get(), LINE_HEIGHT, count()));
    let matches = Memo::new(move |_| {
        version.track();
        let needle = search.get();
        buffer.with_value(|b| b.find(&needle).len())
    });
    let lines = move || {
        version.track();
        let range = window.get();
        let (show_time, needle) = (timestamps.get(), search.get().to_lowercase());
        buffer.with_value(|b| {
            range
                .map(|i| match b.line(i) {
                    Some(line) => {
                        let hit =
                            !needle.is_empty() && line.text().to_lowercase().contains(&needle);
                        let time = show_time.then(|| line.timestamp.clone().unwrap_or_default());
                        view! { <LineView number=line.number time spans=line.spans.clone() hit /> }
                            .into_any()
                    }
                    None => {
                        let spans = vec![Span {
                            text: b.partial(),
                            style: Style::default(),
                        }];
                        let number = b.dropped() + b.len() as u64 + 1;
                        view! { <LineView number time=None spans hit=false /> }.into_any()
                    }
                })
                .collect_view()
        })
    };
    let status = move || match connection.get() {
        Connection::Connecting => "Connecting…".to_owned(),
        Connection::Following => "Following".to_owned(),
        Connection::Reconnecting { attempt } => format!("Reconnecting… (attempt {attempt})"),
        Connection::Ended => "Ended: this is the whole log".to_owned(),
        Connection::Failed(reason) => format!("Stopped: {reason}"),
    };
    let dropped = move || {
        version.track();
        let dropped = buffer.with_value(LogBuffer::dropped);
        (dropped > 0).then(|| view! { <p class="hint">{format!("The first {dropped} lines are not kept in memory; the download holds the rest.")}</p> })
    };
    let download = move |_| {
        let text = buffer.with_value(LogBuffer::plain_text);
        save_text(&text, "sandbox.log");
    };
    let jump_to_end = move |_| {
        following.set(true);
        if let Some(element) = scroller.get_untracked() {
            element.set_scroll_top(element.scroll_height());
        }
    };

    view! {
        <section class="log-pane" aria-label="Log">
            <div class="log-toolbar">
                <span class="log-status" role="status">{status}</span>
                <label class="field checkbox">
                    <input
                        type="checkbox"
                        prop:checked=timestamps
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            timestamps.set(on);
                            remember_timestamps(on);
                        }
                    />
                    "Timestamps"
                </label>
                <span class="log-search">
                    <label for="log-search">"Search"</label>
                    " "
                    <input id="log-search" type="search" prop:value=search on:input=move |ev| search.set(event_target_value(&ev)) />
                </span>
                <span class="hint">{move || (!search.get().is_empty()).then(|| format!("{} matching lines", matches.get()))}</span>
                <button type="button" class="button" on:click=download>"Download"</button>
                <Show when=move || !following.get()>
                    <button type="button" class="button primary" on:click=jump_to_end>"Follow"</button>
                </Show>
            </div>
            {dropped}
            <div
                class="log-lines"
                style=format!("--line-height: {LINE_HEIGHT}px")
                node_ref=scroller
                tabindex="0"
                role="log"
                aria-label="Sandbox output"
                on:scroll=on_scroll
            >
                {move || (count() == 0 && connection.get() != Connection::Connecting).then(|| view! { <p class="log-empty">"No output yet."</p> })}
                <div style=move || format!("height: {}px", window.get().start as f64 * LINE_HEIGHT)></div>
                {lines}
                <div style=move || format!("height: {}px", count().saturating_sub(window.get().end) as f64 * LINE_HEIGHT)></div>
            </div>
        </section>
    }
}

#[component]
fn LineView(number: u64, time: Option<String>, spans: Vec<Span>, hit: bool) -> impl IntoView {
    view! {
        <div class="log-line" class:hit=hit>
            <span class="log-number" aria-hidden="true">{number}</span>
            {time.map(|t| view! { <span class="log-time">{t}</span> })}
            <span class="log-text">
                {spans.into_iter().map(|span| {
                    let (class, style) = span_style(&span.style);
                    view! { <span class=class style=style>{span.text}</span> }
                }).collect_view()}
            </span>
        </div>
    }
}

/// The classes (for the 16 theme colours and emphasis) and inline colours (for the
/// 256-colour and 24-bit ones) of a styled run.
fn span_style(style: &Style) -> (String, String) {
    let mut classes = Vec::new();
    let mut inline = String::new();
    let (foreground, background) = if style.inverse {
        (style.background, style.foreground)
    } else {
        (style.foreground, style.background)
    };
    for (color, kind, property) in [
        (foreground, "fg", "color"),
        (background, "bg", "background-color"),
    ] {
        match color {
            Some(Color::Indexed(n)) if n < 16 => classes.push(format!("ansi-{kind}-{n}")),
            Some(Color::Indexed(n)) => inline.push_str(&format!("{property}: {};", indexed_rgb(n))),
            Some(Color::Rgb(r, g, b)) => inline.push_str(&format!("{property}: rgb({r} {g} {b});")),
            None => {}
        }
    }
    for (on, class) in [
        (style.bold, "ansi-bold"),
        (style.dim, "ansi-dim"),
        (style.italic, "ansi-italic"),
        (style.underline, "ansi-underline"),
    ] {
        if on {
            classes.push(class.to_owned());
        }
    }
    (classes.join(" "), inline)
}

/// Colours 16–255: the 6×6×6 cube, then 24 greys.
fn indexed_rgb(n: u8) -> String {
    if n >= 232 {
        let level = 8 + (n - 232) as u32 * 10;
        return format!("rgb({level} {level} {level})");
    }
    let cube = n as u32 - 16;
    let level = |v: u32| if v == 0 { 0 } else { 55 + v * 40 };
    format!(
        "rgb({} {} {})",
        level(cube / 36),
        level(cube / 6 % 6),
        level(cube % 6)
    )
}

async fn sleep(duration: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                duration.as_millis() as i32,
            );
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn remembered_timestamps() -> bool {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(SETTINGS_KEY).ok().flatten())
        .is_some_and(|v| v.contains("timestamps"))
}

fn remember_timestamps(on: bool) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(SETTINGS_KEY, if on { "timestamps" } else { "" });
    }
}

/// Offers `text` as a file download.
fn save_text(text: &str, name: &str) {
    let parts = js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/plain;charset=utf-8");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(anchor) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        anchor.set_href(&url);
        anchor.set_download(name);
        anchor.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
