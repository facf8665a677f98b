//! One row of the log pane: the line's number, its time, and its text as styled runs
//! (classes for the 16 theme colours, inline colours for the others), never markup.

use leptos::prelude::*;
use sandbox_api::ansi::{Color, Span, Style};

use super::layout::LINE_HEIGHT;

/// How one row of the pane looks.
pub struct RowLook {
    pub number: u64,
    /// Rows of text it takes (more than one when a long line wraps).
    pub rows: u32,
    pub time: Option<String>,
    pub spans: Vec<Span>,
    pub hit: bool,
    /// The search match moved to last.
    pub current: bool,
    /// Colours left out.
    pub plain: bool,
    /// A dropped line being read again.
    pub loading: bool,
}

#[component]
pub fn LineView(look: RowLook) -> impl IntoView {
    let RowLook {
        number,
        rows,
        time,
        spans,
        hit,
        current,
        plain,
        loading,
    } = look;
    let text = if loading {
        view! { <span class="log-text log-loading">"…"</span> }.into_any()
    } else if plain {
        let text: String = spans.into_iter().map(|span| span.text).collect();
        view! { <span class="log-text">{text}</span> }.into_any()
    } else {
        view! {
            <span class="log-text">
                {spans.into_iter().map(|span| {
                    let (class, style) = span_style(&span.style);
                    view! { <span class=class style=style>{span.text}</span> }
                }).collect_view()}
            </span>
        }
        .into_any()
    };
    view! {
        <div
            class="log-line"
            class:hit=hit
            class:current=current
            style=(rows > 1).then(|| format!("min-height: {}px", f64::from(rows) * LINE_HEIGHT))
        >
            <span class="log-number" aria-hidden="true">{number}</span>
            {time.map(|t| view! { <span class="log-time">{t}</span> })}
            {text}
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
