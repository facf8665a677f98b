//! Which rows of a long list to put in the DOM: only those in view plus a margin, so a
//! table of 10,000 runners costs what a table of fifty does. Rows have one fixed height,
//! which makes the arithmetic exact and scrolling free of jumps.

use std::ops::Range;

/// Rows rendered beyond each edge of the viewport, so fast scrolling shows no gap.
const OVERSCAN: usize = 8;

/// The rows to render when the viewport starts `scroll_top` pixels down a list of
/// `count` rows of `row_height` pixels and is `viewport_height` pixels tall.
pub fn visible_rows(
    scroll_top: f64,
    viewport_height: f64,
    row_height: f64,
    count: usize,
) -> Range<usize> {
    if count == 0 || row_height <= 0.0 {
        return 0..0;
    }
    let first = (scroll_top.max(0.0) / row_height).floor() as usize;
    let in_view = (viewport_height.max(0.0) / row_height).ceil() as usize + 1;
    let start = first.saturating_sub(OVERSCAN).min(count);
    let end = first
        .saturating_add(in_view)
        .saturating_add(OVERSCAN)
        .min(count);
    start..end
}

/// The scroll position that brings row `index` into view, if it is not already: the
/// least movement from `scroll_top`.
pub fn scroll_to_show(
    index: usize,
    scroll_top: f64,
    viewport_height: f64,
    row_height: f64,
) -> Option<f64> {
    let top = index as f64 * row_height;
    let bottom = top + row_height;
    if top < scroll_top {
        Some(top)
    } else if bottom > scroll_top + viewport_height {
        Some(bottom - viewport_height)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_rows_in_view_with_a_margin() {
        // 40 px rows, 400 px viewport scrolled to row 100.
        assert_eq!(visible_rows(4000.0, 400.0, 40.0, 10_000), 92..119);
    }

    #[test]
    fn clamps_at_both_ends() {
        assert_eq!(visible_rows(0.0, 400.0, 40.0, 10_000), 0..19);
        assert_eq!(visible_rows(0.0, 400.0, 40.0, 5), 0..5);
        assert_eq!(visible_rows(1e9, 400.0, 40.0, 100), 100..100);
        assert_eq!(visible_rows(-50.0, 400.0, 40.0, 100), 0..19);
        assert_eq!(visible_rows(0.0, 400.0, 40.0, 0), 0..0);
        assert_eq!(visible_rows(0.0, 400.0, 0.0, 10), 0..0);
    }

    #[test]
    fn the_last_row_is_reachable() {
        let (count, row, viewport) = (10_000, 44.0, 600.0);
        let bottom = count as f64 * row - viewport;
        assert!(visible_rows(bottom, viewport, row, count).contains(&(count - 1)));
    }

    #[test]
    fn scrolls_only_as_far_as_needed() {
        assert_eq!(scroll_to_show(5, 0.0, 400.0, 40.0), None);
        assert_eq!(scroll_to_show(10, 0.0, 400.0, 40.0), Some(40.0));
        assert_eq!(scroll_to_show(2, 200.0, 400.0, 40.0), Some(80.0));
    }
}
