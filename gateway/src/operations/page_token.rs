//! Page tokens: opaque to clients; inside, the sort key of a page's last item,
//! hex-encoded. Every list with paging uses these two functions.

use sandbox_api::violation::Violation;

use crate::error::ApiError;

/// The token for the page after the item whose sort key is `last_key`.
pub fn encode(last_key: &str) -> String {
    hex::encode(last_key)
}

/// The sort key a page starts after; empty for the first page.
pub fn decode(token: &str) -> Result<String, ApiError> {
    if token.is_empty() {
        return Ok(String::new());
    }
    hex::decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            ApiError::invalid(&[Violation::error(
                "page_token",
                "is not a page token this server issued",
            )])
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_foreign_ones_are_refused() {
        assert_eq!(decode(&encode("runner-0042")).unwrap(), "runner-0042");
        assert_eq!(decode("").unwrap(), "");
        assert!(decode("not-hex").is_err());
        assert!(decode("ff").is_err(), "not UTF-8");
    }
}
