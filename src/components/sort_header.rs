//! A column header that sorts its table: it says how the table is sorted by its column
//! (`aria-sort`) and links to the view sorted by it (the other way round when it
//! already is). The sort lives in the URL, so the link is the whole interaction. (The
//! runners list, whose table stays mounted while the sort changes, writes the same
//! markup out with reactive attributes.)

use leptos::prelude::*;

use crate::query::Sort;

#[component]
pub fn SortHeader(
    label: &'static str,
    column: &'static str,
    /// How the table is sorted now.
    #[prop(into)]
    sort: Signal<Sort>,
    /// The view sorted by this column.
    #[prop(into)]
    href: Signal<String>,
) -> impl IntoView {
    view! {
        <th scope="col" aria-sort=move || sort.with(|s| s.aria_sort(column))>
            <a class="sort" href=href>{label}</a>
        </th>
    }
}
