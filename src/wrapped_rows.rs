//! Where log lines fall when long ones wrap. Each line takes as many rows as its
//! characters need at the pane's width; the pane turns a scroll position into a line,
//! and a line into a position, without laying out the lines it does not show. Rows
//! are counted up to each line once (a prefix sum), kept up to date as lines arrive and
//! counted again when the width changes.

use std::ops::Range;

#[derive(Debug, Default)]
pub struct WrappedRows {
    columns: u32,
    /// Rows taken by lines `0..=i`.
    ends: Vec<u32>,
}

impl WrappedRows {
    /// Takes in the widths (in characters) of lines not yet counted, and counts every
    /// line again if the pane is now `columns` characters wide.
    pub fn update(&mut self, columns: u32, widths: &[u16]) {
        let columns = columns.max(1);
        if columns != self.columns {
            self.columns = columns;
            self.ends.clear();
        }
        let mut total = self.total();
        for &width in widths.iter().skip(self.ends.len()) {
            total += rows_for(width, columns);
            self.ends.push(total);
        }
    }

    /// Rows taken by every line counted.
    pub fn total(&self) -> u32 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// The row where line `index` starts.
    pub fn start_of(&self, index: usize) -> u32 {
        match index.checked_sub(1) {
            Some(before) => self.ends.get(before).copied().unwrap_or(self.total()),
            None => 0,
        }
    }

    /// The rows line `index` takes.
    pub fn rows_of(&self, index: usize) -> u32 {
        self.ends
            .get(index)
            .map_or(1, |end| end - self.start_of(index))
    }

    /// The line that row `row` belongs to (the count of lines if it is past them all).
    pub fn line_at(&self, row: u32) -> usize {
        self.ends.partition_point(|&end| end <= row)
    }

    /// The lines to render when the viewport shows rows `first_row..first_row +
    /// rows_in_view`, with `margin` rows more at each edge.
    pub fn lines_in_view(&self, first_row: u32, rows_in_view: u32, margin: u32) -> Range<usize> {
        let start = self.line_at(first_row.saturating_sub(margin));
        let end = (self.line_at(first_row + rows_in_view + margin) + 1).min(self.ends.len());
        start.min(end)..end
    }
}

/// Rows a line of `width` characters takes at `columns` characters a row.
pub fn rows_for(width: u16, columns: u32) -> u32 {
    u32::from(width).div_ceil(columns.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_take_more_rows_and_positions_map_both_ways() {
        let mut rows = WrappedRows::default();
        // At 10 columns: 1, 3, 1 (empty), 2 rows.
        rows.update(10, &[5, 25, 0, 20]);
        assert_eq!(rows.total(), 7);
        assert_eq!(
            (0..4).map(|i| rows.start_of(i)).collect::<Vec<_>>(),
            [0, 1, 4, 5]
        );
        assert_eq!(rows.rows_of(1), 3);
        assert_eq!(
            (0..8).map(|r| rows.line_at(r)).collect::<Vec<_>>(),
            [0, 1, 1, 1, 2, 3, 3, 4]
        );
        assert_eq!(rows.lines_in_view(2, 2, 0), 1..3);
        assert_eq!(rows.lines_in_view(0, 100, 8), 0..4);
    }

    #[test]
    fn new_lines_are_added_and_a_new_width_counts_again() {
        let mut rows = WrappedRows::default();
        let mut widths = vec![30, 30];
        rows.update(10, &widths);
        assert_eq!(rows.total(), 6);
        widths.push(30);
        rows.update(10, &widths);
        assert_eq!(rows.total(), 9);
        rows.update(30, &widths);
        assert_eq!(rows.total(), 3);
        assert_eq!(rows_for(0, 0), 1);
    }
}
