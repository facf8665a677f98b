//! Where the pane's rows go, and how scrolling moves it: which rows are rendered and
//! the room the others take (every row one line tall, or as tall as its wrapped line),
//! whether the reader still follows the output after a scroll, and where to scroll to
//! show a row. Pure, so it is tested natively.

use std::ops::Range;

use crate::virtual_window::visible_rows;
use crate::wrapped_rows::WrappedRows;

/// Every line is this tall (the stylesheet reads `--line-height`).
pub const LINE_HEIGHT: f64 = 20.0;
/// Rows rendered beyond each edge of the viewport when lines wrap.
const WRAP_MARGIN: u32 = 8;

/// Which lines are rendered, and the room the others take above and below them.
#[derive(Clone, Debug, PartialEq)]
pub struct Geometry {
    pub range: Range<usize>,
    pub above: f64,
    pub below: f64,
}

/// The viewport: scrolled `top` pixels down, `height` pixels tall.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    pub top: f64,
    pub height: f64,
}

/// `rows` lines, each one row tall.
pub fn fixed_geometry(view: Viewport, rows: usize) -> Geometry {
    let range = visible_rows(view.top, view.height, LINE_HEIGHT, rows);
    let above = range.start as f64 * LINE_HEIGHT;
    let below = (rows - range.end) as f64 * LINE_HEIGHT;
    Geometry {
        range,
        above,
        below,
    }
}

/// `rows` lines wrapped as `wrapped` counts them, the last of which may be the
/// unfinished line (not in `wrapped`), which takes `partial_rows` rows (0: none).
pub fn wrapped_geometry(
    view: Viewport,
    rows: usize,
    wrapped: &WrappedRows,
    partial_rows: u32,
) -> Geometry {
    let first_row = (view.top / LINE_HEIGHT) as u32;
    let in_view = (view.height / LINE_HEIGHT).ceil() as u32 + 1;
    let mut range = wrapped.lines_in_view(first_row, in_view, WRAP_MARGIN);
    let counted = rows - usize::from(partial_rows > 0);
    if partial_rows > 0 && range.end == counted {
        range.end += 1;
    }
    let total = wrapped.total() + partial_rows;
    let end_row = if range.end > counted {
        total
    } else {
        wrapped.start_of(range.end)
    };
    Geometry {
        above: f64::from(wrapped.start_of(range.start)) * LINE_HEIGHT,
        below: f64::from(total - end_row) * LINE_HEIGHT,
        range,
    }
}

/// Whether the pane follows the output after the reader scrolled from `previous_top`
/// to `view` of content `scroll_height` tall. Within a line of the bottom counts as at
/// the bottom; only moving up stops following (the log may have grown since the
/// scroll that follows it).
pub fn follows_after_scroll(
    view: Viewport,
    scroll_height: f64,
    previous_top: f64,
    following: bool,
) -> bool {
    let moved_up = view.top < previous_top;
    let at_bottom = view.top + view.height >= scroll_height - LINE_HEIGHT;
    at_bottom || (following && !moved_up)
}

/// Where to scroll to show a row that starts `row_top` pixels down: nowhere when it is
/// in view, else a third of the way down, with context above it.
pub fn scroll_to_reveal(row_top: f64, view: Viewport) -> Option<f64> {
    (row_top < view.top || row_top + LINE_HEIGHT > view.top + view.height)
        .then(|| (row_top - view.height / 3.0).max(0.0))
}

/// How many digits the widest line number has.
pub fn number_width(rows: usize) -> u32 {
    rows.max(1).ilog10() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(top: f64, height: f64) -> Viewport {
        Viewport { top, height }
    }

    #[test]
    fn fixed_rows_render_what_is_in_view_and_make_room_for_the_rest() {
        let geometry = fixed_geometry(view(0.0, 100.0), 1000);
        assert_eq!(geometry.range.start, 0);
        assert!(geometry.range.end >= 5 && geometry.range.end < 1000);
        assert_eq!(geometry.above, 0.0);
        assert_eq!(
            geometry.below,
            (1000 - geometry.range.end) as f64 * LINE_HEIGHT
        );
        let lower = fixed_geometry(view(10_000.0, 100.0), 1000);
        assert_eq!(lower.above, lower.range.start as f64 * LINE_HEIGHT);
        assert!(lower.range.contains(&500));
    }

    #[test]
    fn wrapped_rows_count_each_lines_height_and_the_unfinished_line() {
        let mut wrapped = WrappedRows::default();
        // At 10 columns: 1, 3, 1, 2 rows.
        wrapped.update(10, &[5, 25, 0, 20]);
        let all = wrapped_geometry(view(0.0, 200.0), 4, &wrapped, 0);
        assert_eq!(
            all,
            Geometry {
                range: 0..4,
                above: 0.0,
                below: 0.0
            }
        );
        // A fifth, unfinished line two rows tall is rendered too.
        let with_partial = wrapped_geometry(view(0.0, 200.0), 5, &wrapped, 2);
        assert_eq!((with_partial.range, with_partial.below), (0..5, 0.0));
    }

    #[test]
    fn only_scrolling_up_away_from_the_bottom_stops_following() {
        // 1000 px of content, 100 px in view.
        assert!(follows_after_scroll(
            view(900.0, 100.0),
            1000.0,
            800.0,
            false
        ));
        assert!(follows_after_scroll(view(885.0, 100.0), 1000.0, 0.0, false));
        assert!(!follows_after_scroll(
            view(500.0, 100.0),
            1000.0,
            600.0,
            true
        ));
        // The log grew under a reader who did not move: still following.
        assert!(follows_after_scroll(
            view(500.0, 100.0),
            1000.0,
            500.0,
            true
        ));
        assert!(!follows_after_scroll(
            view(500.0, 100.0),
            1000.0,
            400.0,
            false
        ));
    }

    #[test]
    fn a_row_out_of_view_is_brought_a_third_of_the_way_down() {
        assert_eq!(scroll_to_reveal(120.0, view(100.0, 300.0)), None);
        assert_eq!(scroll_to_reveal(1000.0, view(100.0, 300.0)), Some(900.0));
        assert_eq!(scroll_to_reveal(50.0, view(100.0, 300.0)), Some(0.0));
    }

    #[test]
    fn line_numbers_are_as_wide_as_the_widest() {
        assert_eq!([0, 9, 10, 12_345].map(number_width), [1, 1, 2, 5]);
    }
}
