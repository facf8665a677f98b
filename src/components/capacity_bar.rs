//! How much of a resource is free, as a bar and in the Python client's units.

use leptos::prelude::*;

#[component]
pub fn CapacityBar(
    /// What is measured, e.g. "CPU".
    label: &'static str,
    available: i64,
    max: i64,
    /// Formats an amount (`format_cpu`, `format_bytes`, or a plain count).
    format: fn(i64) -> String,
    /// Shows the label above the bar (where no column header names it).
    #[prop(optional)]
    labelled: bool,
    /// Shows only what is free (narrow table cells); the full text is in the tooltip.
    #[prop(optional)]
    compact: bool,
) -> impl IntoView {
    // Whole percent: a bar has no finer resolution, and integers format cheaply.
    let free_percent = if max > 0 {
        (available.clamp(0, max) as f64 / max as f64 * 100.0).round() as u32
    } else {
        0
    };
    let text = if max > 0 {
        format!("{} of {} free", format(available), format(max))
    } else {
        "none".to_owned()
    };
    let (title, value_text) = (text.clone(), text.clone());
    let shown = if compact && max > 0 {
        format!("{} free", format(available))
    } else {
        text
    };
    let level = match free_percent {
        0..=10 => "low",
        11..=35 => "medium",
        _ => "high",
    };
    view! {
        <div
            class="capacity"
            role="meter"
            aria-label=format!("{label} free")
            aria-valuemin="0"
            aria-valuemax=max.to_string()
            aria-valuenow=available.to_string()
            aria-valuetext=value_text
            title=title
        >
            {labelled.then(|| view! { <span class="capacity-label">{label}</span> })}
            <div class="capacity-track">
                <div class=format!("capacity-fill {level}") style=format!("width: {free_percent}%")></div>
            </div>
            <span class="capacity-text">{shown}</span>
        </div>
    }
}

/// A count as the tables show it.
pub fn format_count(n: i64) -> String {
    n.to_string()
}
