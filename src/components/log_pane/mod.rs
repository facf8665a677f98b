//! A sandbox's log, live. It follows the output and scrolls with it until the reader
//! scrolls up (scrolling back to the bottom follows again); a dropped connection is
//! resumed from the last session and byte offset, so nothing is lost or repeated;
//! colours are read into styled text (never markup) or left out; only the lines in view
//! are in the DOM and at most `CAPACITY` lines in memory, and lines dropped from memory
//! are read again from the server, a block at a time, when the reader scrolls back to
//! them. The DOM is updated at most once an animation frame however fast lines arrive.

mod layout;
mod line;
mod search;
mod settings;
mod stream;

use std::collections::BTreeSet;

use futures_util::future::{AbortHandle, abortable};
use leptos::prelude::*;
use sandbox_api::ansi::{Span, Style};
use wasm_bindgen::JsCast;

use crate::api::use_api;
use crate::components::toasts::use_toasts;
use crate::log_buffer::{LogBuffer, block_start};
use crate::wrapped_rows::rows_for;
use layout::{
    LINE_HEIGHT, Viewport, fixed_geometry, follows_after_scroll, number_width, scroll_to_reveal,
    wrapped_geometry,
};
use line::{LineView, RowLook};
use search::{match_summary, next_match};
use settings::{Settings, setting_toggle};
use stream::{CAPACITY, Connection, PaneState, follow, read_again, whole_log};

/// The "start at the last N lines" choices.
const TAIL_CHOICES: [u64; 3] = [100, 1_000, 10_000];

#[component]
pub fn LogPane(sandbox_id: String) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let state = PaneState::new();
    let PaneState {
        buffer,
        history,
        version,
        connection,
        ..
    } = state;
    let settings = RwSignal::new(Settings::remembered());
    Effect::new(move |_| settings.get().remember());
    let following = RwSignal::new(true);
    let search = RwSignal::new(String::new());
    let current_match = RwSignal::new(None::<u64>);
    let downloading = RwSignal::new(false);
    let scroll_top = RwSignal::new(0.0);
    let viewport = RwSignal::new(600.0);
    let scroller = NodeRef::<leptos::html::Div>::new();

    // The stream, started again from scratch when where it starts changes.
    let tail = Memo::new(move |_| settings.get().tail);
    let running = StoredValue::new_local(None::<AbortHandle>);
    let id = sandbox_id.clone();
    let stream_api = api.clone();
    Effect::new(move |_| {
        let tail = tail.get();
        if let Some(previous) = running.get_value() {
            previous.abort();
        }
        // Back to the top before the rows go, so that the browser's own scroll (the
        // content shrinking) is not taken for the reader scrolling up.
        if let Some(element) = scroller.get_untracked() {
            element.set_scroll_top(0);
        }
        scroll_top.set(0.0);
        state.reset();
        following.set(true);
        let (task, handle) = abortable(follow(stream_api.clone(), id.clone(), tail, state));
        running.set_value(Some(handle));
        leptos::task::spawn_local(async move {
            let _ = task.await;
        });
    });
    on_cleanup(move || {
        if let Some(handle) = running.get_value() {
            handle.abort();
        }
    });

    // Follow: after every change, stay at the bottom while following. The rows are
    // laid out by then only at the next frame.
    // Wrapping needs the width in characters, measured again whenever it may change.
    let columns = RwSignal::new(80u32);
    let measure = move || {
        if settings.try_get_untracked().is_some_and(|s| s.wrap)
            && let Some(element) = scroller.try_get_untracked().flatten()
            && let Some(measured) = measure_columns(&element)
            && columns.get_untracked() != measured
        {
            columns.set(measured);
        }
    };
    Effect::new(move |_| {
        version.track();
        settings.track();
        request_animation_frame(move || {
            measure();
            if following.try_get_untracked() == Some(true)
                && let Some(element) = scroller.try_get_untracked().flatten()
            {
                element.set_scroll_top(element.scroll_height());
            }
        });
    });
    let resizing = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resizing.remove());
    let on_scroll = move |_| {
        if let Some(element) = scroller.get_untracked() {
            let view = Viewport {
                top: element.scroll_top() as f64,
                height: element.client_height() as f64,
            };
            let follow = follows_after_scroll(
                view,
                element.scroll_height() as f64,
                scroll_top.get_untracked(),
                following.get_untracked(),
            );
            scroll_top.set(view.top);
            viewport.set(view.height);
            if following.get_untracked() != follow {
                following.set(follow);
            }
        }
    };
    // Rows: every line from the first read (held, dropped, or the unfinished last).
    let count = move || {
        version.track();
        buffer.with_value(|b| {
            (b.first_held() - b.first_number()) as usize + b.len() + usize::from(b.has_partial())
        })
    };
    // Where the rows go: every row one line tall, or (wrapping) as tall as its line
    // needs at the measured width.
    let geometry = Memo::new(move |_| {
        let rows = count();
        let view = Viewport {
            top: scroll_top.get(),
            height: viewport.get(),
        };
        if !settings.get().wrap {
            return fixed_geometry(view, rows);
        }
        let columns = columns.get();
        let partial_rows = buffer.with_value(|b| {
            if b.has_partial() {
                let width = u16::try_from(b.partial().chars().count()).unwrap_or(u16::MAX);
                rows_for(width, columns)
            } else {
                0
            }
        });
        state
            .wrapped
            .update_value(|w| buffer.with_value(|b| w.update(columns, b.widths())));
        state
            .wrapped
            .with_value(|w| wrapped_geometry(view, rows, w, partial_rows))
    });
    // Where row `row` starts, in pixels from the top.
    let row_top = move |row: usize| {
        if settings.get_untracked().wrap {
            state.wrapped.with_value(|w| f64::from(w.start_of(row))) * LINE_HEIGHT
        } else {
            row as f64 * LINE_HEIGHT
        }
    };

    // Dropped lines that come into view are read again.
    let read_api = api.clone();
    let read_id = sandbox_id.clone();
    Effect::new(move |_| {
        version.track();
        let range = geometry.get().range;
        let Some(session_id) = state
            .cursor
            .with_value(|c| c.as_ref().map(|c| c.session_id.clone()))
        else {
            return;
        };
        let wanted: BTreeSet<u64> = buffer.with_value(|b| {
            history.with_value(|h| {
                range
                    .map(|row| b.first_number() + row as u64)
                    .filter(|&number| number < b.first_held() && h.line(number).is_none())
                    .map(block_start)
                    .collect()
            })
        });
        for block in wanted {
            let busy = state.reading.with_value(|r| r.contains(&block))
                || state.unreadable.with_value(|u| u.contains(&block));
            let Some(checkpoint) = buffer.with_value(|b| b.checkpoint_for(block)) else {
                continue;
            };
            if busy {
                continue;
            }
            state.reading.update_value(|r| {
                r.insert(block);
            });
            let (api, id, session_id) = (read_api.clone(), read_id.clone(), session_id.clone());
            leptos::task::spawn_local(read_again(api, id, session_id, checkpoint, state));
        }
    });

    let matches = Memo::new(move |_| {
        version.track();
        let needle = search.get();
        buffer.with_value(|b| b.find(&needle))
    });
    let go_to_match = move |forward: bool| {
        let first = buffer.with_value(LogBuffer::first_number);
        let top_row = (scroll_top.get_untracked() / LINE_HEIGHT) as u64;
        let from = current_match.get_untracked().unwrap_or(first + top_row);
        let Some(number) = matches.with_untracked(|found| next_match(found, from, forward)) else {
            return;
        };
        current_match.set(Some(number));
        following.set(false);
        if let Some(element) = scroller.get_untracked() {
            let view = Viewport {
                top: element.scroll_top() as f64,
                height: element.client_height() as f64,
            };
            if let Some(top) = scroll_to_reveal(row_top((number - first) as usize), view) {
                element.set_scroll_top(top as i32);
            }
        }
    };

    let lines = move || {
        version.track();
        let range = geometry.get().range;
        let Settings {
            timestamps,
            plain,
            wrap,
            ..
        } = settings.get();
        let needle = search.get().to_lowercase();
        let current = current_match.get();
        buffer.with_value(|b| {
            history.with_value(|h| {
                range
                    .map(|row| {
                        let number = b.first_number() + row as u64;
                        let line = if number < b.first_held() {
                            h.line(number)
                        } else {
                            b.get(number)
                        };
                        let rows = if wrap {
                            state.wrapped.with_value(|w| w.rows_of(row))
                        } else {
                            1
                        };
                        let mut look = RowLook {
                            number,
                            rows,
                            time: None,
                            spans: Vec::new(),
                            hit: false,
                            current: false,
                            plain,
                            loading: false,
                        };
                        match line {
                            Some(line) => {
                                look.time =
                                    timestamps.then(|| line.timestamp.clone().unwrap_or_default());
                                look.hit = !needle.is_empty()
                                    && line.text().to_lowercase().contains(&needle);
                                look.current = current == Some(number);
                                look.spans = line.spans.clone();
                            }
                            None if number >= b.first_held() => {
                                look.spans = vec![Span {
                                    text: b.partial(),
                                    style: Style::default(),
                                }];
                            }
                            None => look.loading = true,
                        }
                        view! { <LineView look /> }
                    })
                    .collect_view()
            })
        })
    };
    let notes = move || {
        version.track();
        let dropped = buffer.with_value(LogBuffer::dropped);
        let unreadable = state.unreadable.with_value(|u| !u.is_empty());
        view! {
            {settings.get().tail.map(|n| view! {
                <p class="hint">
                    {format!("Started at the last {n} lines. ")}
                    <button type="button" class="link" on:click=move |_| settings.update(|s| s.tail = None)>"Read the whole log"</button>
                </p>
            })}
            {(dropped > 0).then(|| view! { <p class="hint">{format!("The first {dropped} lines are read again from the server when you scroll to them; search covers the last {CAPACITY}.")}</p> })}
            {unreadable.then(|| view! { <p class="hint error-text">"Some earlier lines could not be read again; they show as …"</p> })}
        }
    };
    let download_id = sandbox_id.clone();
    let download = move |()| {
        let (api, id) = (api.clone(), download_id.clone());
        downloading.set(true);
        leptos::task::spawn_local(async move {
            match whole_log(&api, &id).await {
                Ok(text) => save_text(&text, &format!("{id}.log")),
                Err(error) => toasts.failure(format!("The log could not be downloaded: {error}")),
            }
            let _ = downloading.try_set(false);
        });
    };
    let jump_to_end = move |()| {
        following.set(true);
        current_match.set(None);
        if let Some(element) = scroller.get_untracked() {
            element.set_scroll_top(element.scroll_height());
        }
    };
    view! {
        <section class="log-pane" aria-label="Log">
            <Toolbar
                connection
                settings
                search
                current_match
                matches
                on_go_to=Callback::new(go_to_match)
                downloading
                on_download=Callback::new(download)
                following
                on_follow=Callback::new(jump_to_end)
            />
            {notes}
            <div
                class="log-lines"
                class:wrap=move || settings.get().wrap
                style=move || format!("--line-height: {LINE_HEIGHT}px; --number-width: {}ch", number_width(count()))
                node_ref=scroller
                tabindex="0"
                role="log"
                aria-label="Sandbox output"
                on:scroll=on_scroll
            >
                {move || (count() == 0 && connection.get() != Connection::Connecting).then(|| view! { <p class="log-empty">"No output yet."</p> })}
                <span class="log-measure" aria-hidden="true">"0000000000"</span>
                <div style=move || format!("height: {}px", geometry.get().above)></div>
                {lines}
                <div style=move || format!("height: {}px", geometry.get().below)></div>
            </div>
        </section>
    }
}

/// Status, settings, search, download and "follow again".
#[component]
fn Toolbar(
    connection: RwSignal<Connection>,
    settings: RwSignal<Settings>,
    search: RwSignal<String>,
    current_match: RwSignal<Option<u64>>,
    matches: Memo<Vec<u64>>,
    /// Go to the next match (`true`) or the previous one.
    on_go_to: Callback<bool>,
    downloading: RwSignal<bool>,
    on_download: Callback<()>,
    following: RwSignal<bool>,
    on_follow: Callback<()>,
) -> impl IntoView {
    let match_count = move || {
        let needle = search.get();
        (!needle.is_empty())
            .then(|| matches.with(|found| match_summary(found, current_match.get())))
    };
    view! {
        <div class="log-toolbar">
            <span class="log-status" role="status">{move || connection.with(|c| c.status_in_view(following.get()))}</span>
            {setting_toggle(settings, "Timestamps", |s| &mut s.timestamps)}
            {setting_toggle(settings, "Wrap", |s| &mut s.wrap)}
            <label class="field checkbox">
                <input
                    type="checkbox"
                    prop:checked=move || !settings.get().plain
                    on:change=move |ev| settings.update(|s| s.plain = !event_target_checked(&ev))
                />
                "Colours"
            </label>
            <span class="log-start">
                <label for="log-start">"Start at"</label>
                " "
                <select
                    id="log-start"
                    prop:value=move || settings.get().tail.map(|n| n.to_string()).unwrap_or_default()
                    on:change=move |ev| {
                        let tail = event_target_value(&ev).parse().ok();
                        settings.update(|s| s.tail = tail);
                    }
                >
                    <option value="">"the beginning"</option>
                    {TAIL_CHOICES.map(|n| view! { <option value=n.to_string()>{format!("the last {n} lines")}</option> })}
                </select>
            </span>
            <span class="log-search">
                <label for="log-search">"Search"</label>
                " "
                <input
                    id="log-search"
                    type="search"
                    prop:value=search
                    on:input=move |ev| {
                        current_match.set(None);
                        search.set(event_target_value(&ev));
                    }
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            on_go_to.run(!ev.shift_key());
                        }
                    }
                />
                <button type="button" class="button" aria-label="Previous match" title="Previous match (Shift+Enter)" on:click=move |_| on_go_to.run(false)>"↑"</button>
                <button type="button" class="button" aria-label="Next match" title="Next match (Enter)" on:click=move |_| on_go_to.run(true)>"↓"</button>
            </span>
            <span class="hint" aria-live="polite">{match_count}</span>
            <button type="button" class="button" on:click=move |_| on_download.run(()) disabled=downloading>
                {move || if downloading.get() { "Downloading…" } else { "Download" }}
            </button>
            // An ended log has nothing to follow: the same button only goes to its end.
            <Show when=move || !following.get()>
                <button type="button" class="button primary" on:click=move |_| on_follow.run(())>
                    {move || if connection.with(|c| *c == Connection::Ended) { "Go to the end" } else { "Follow" }}
                </button>
            </Show>
        </div>
    }
}

/// How many characters fit on a wrapped row: the text column's width over the width
/// of a character, measured on a probe of ten.
fn measure_columns(pane: &web_sys::HtmlDivElement) -> Option<u32> {
    let width = |selector: &str| {
        pane.query_selector(selector)
            .ok()
            .flatten()
            .map(|e| e.get_bounding_client_rect().width())
    };
    let character = width(".log-measure")? / 10.0;
    let text = width(".log-line .log-text")?;
    (character > 0.0 && text > 0.0).then(|| (text / character).floor() as u32)
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
