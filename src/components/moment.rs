//! A moment in time as people read it: how long ago, with the exact time (UTC) on
//! hover and for assistive technology's `datetime`.

use leptos::prelude::*;
use sandbox_api::format::format_ago;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, by the browser's clock.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp((js_sys::Date::now() / 1000.0) as i64)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `at` to the second, in UTC: `2026-12-07 03:42:06 UTC`.
pub fn exact(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        at.date(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[component]
pub fn Moment(at: OffsetDateTime) -> impl IntoView {
    let ago = format_ago((now() - at).whole_seconds());
    view! {
        <time datetime=at.format(&Rfc3339).unwrap_or_default() title=exact(at)>{ago}</time>
    }
}
