//! List paging: `pageSize` in, `nextPageToken` out (SPEC §2).

use crate::violation::Violation;

/// Used when a request names no page size (local decision).
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Larger requests are served this many items (local decision).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The page size to serve for the `pageSize` a client sent: zero or absent means the
/// default, above the maximum is coerced down (AIP-158), negative is an error.
pub fn page_size(requested: Option<i64>) -> Result<u32, Violation> {
    match requested {
        None | Some(0) => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if n < 0 => Err(Violation::error("page_size", "must not be negative")),
        Some(n) => Ok(u32::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_or_zero_is_the_default_and_large_is_coerced() {
        assert_eq!(page_size(None), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(Some(0)), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(Some(7)), Ok(7));
        assert_eq!(page_size(Some(5000)), Ok(MAX_PAGE_SIZE));
        assert_eq!(page_size(Some(i64::MAX)), Ok(MAX_PAGE_SIZE));
        assert!(page_size(Some(-1)).is_err());
    }
}
