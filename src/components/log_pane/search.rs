//! Search in the log: the next match from where the reader is, either way round, and
//! what the count says. Pure, so it is tested natively.

/// The match after (`forward`) or before `from` among the line numbers `found`
/// (ascending), wrapping around at either end.
pub fn next_match(found: &[u64], from: u64, forward: bool) -> Option<u64> {
    let next = if forward {
        found.iter().find(|&&n| n > from).or(found.first())
    } else {
        found.iter().rev().find(|&&n| n < from).or(found.last())
    };
    next.copied()
}

/// "N matching lines", with which of them is the current one when it is a match.
pub fn match_summary(found: &[u64], current: Option<u64>) -> String {
    let position = current
        .and_then(|n| found.iter().position(|&m| m == n))
        .map(|i| format!(" ({} of {})", i + 1, found.len()))
        .unwrap_or_default();
    format!("{} matching lines{position}", found.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_match_wraps_around_either_way() {
        let found = [3, 10, 42];
        assert_eq!(next_match(&found, 0, true), Some(3));
        assert_eq!(next_match(&found, 10, true), Some(42));
        assert_eq!(next_match(&found, 42, true), Some(3));
        assert_eq!(next_match(&found, 10, false), Some(3));
        assert_eq!(next_match(&found, 3, false), Some(42));
        assert_eq!(next_match(&[], 3, true), None);
    }

    #[test]
    fn the_count_says_which_match_is_current() {
        assert_eq!(
            match_summary(&[3, 10, 42], Some(10)),
            "3 matching lines (2 of 3)"
        );
        assert_eq!(match_summary(&[3, 10, 42], Some(11)), "3 matching lines");
        assert_eq!(match_summary(&[], None), "0 matching lines");
    }
}
