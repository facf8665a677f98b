//! Where sign-in sends the user afterwards (`/sign-in?next=…`): only a path on the
//! console's own origin; every other value goes to the start page.
//!
//! `next` is read the way the browser will read it when it navigates there: with the
//! WHATWG URL parser, against the console's origin, and kept only if the result has
//! that same origin. Checking the text instead misses what the parser does to it: it
//! drops tabs and newlines anywhere and spaces at either end, reads `\` as `/` and
//! resolves `.` and `..`, so `/\t/evil.example`, `/\evil.example` and `/.//evil.example`
//! all lead elsewhere although they start with one `/`.
//!
//! The parser is passed in rather than linked here: in the console it is the browser's
//! own `URL`, the very parser its navigation uses, which adds nothing to the first
//! page's bundle (the `url` crate would add about 78 KB of gzip to a page held to
//! 250 KB); the tests use the `url` crate, which implements the same standard.

/// The console's start page, where a `next` that is missing or not ours leads.
pub const START_PAGE: &str = "/overview";

/// A URL as the WHATWG URL parser reads it, in the parts the browser's `URL` gives:
/// `origin` (`"null"` for URLs without one, such as `javascript:` and `data:`),
/// `pathname`, `search` (`?…`, or empty) and `hash` (`#…`, or empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedUrl {
    pub origin: String,
    pub pathname: String,
    pub search: String,
    pub hash: String,
}

/// Where to go after signing in: `next` (the query parameter, already decoded) when it
/// is a path on `own_origin`, else [`START_PAGE`]; with `embed=1` in the query when the
/// console is embedded. `parse(input, base)` is the WHATWG URL parser (see the module
/// documentation); it returns `None` for input that does not parse.
pub fn after_sign_in(
    own_origin: &str,
    next: Option<&str>,
    embedded: bool,
    parse: impl FnOnce(&str, &str) -> Option<ParsedUrl>,
) -> String {
    let next = next.filter(|next| !next.trim().is_empty());
    let (path, search, hash) = match next.and_then(|next| same_origin(own_origin, next, parse)) {
        Some(url) => (url.pathname, url.search, url.hash),
        None => (START_PAGE.to_owned(), String::new(), String::new()),
    };
    let search = match (embedded, search.is_empty()) {
        (false, _) => search,
        (true, true) => "?embed=1".to_owned(),
        (true, false) => format!("{search}&embed=1"),
    };
    format!("{path}{search}{hash}")
}

/// `next` read against `own_origin`, if it stays there as a path that cannot be read
/// as another host's.
fn same_origin(
    own_origin: &str,
    next: &str,
    parse: impl FnOnce(&str, &str) -> Option<ParsedUrl>,
) -> Option<ParsedUrl> {
    let url = parse(next, own_origin)?;
    // An opaque origin ("null": `javascript:`, `data:`, a sandboxed page's own) is
    // never the same as anything, even another "null".
    if url.origin == "null" || url.origin != own_origin {
        return None;
    }
    // The path is used on its own, as a link relative to the console, so it must not
    // be one that names a host: the parser can leave `//evil.example` as the path of a
    // same-origin URL (`/.//evil.example`, `/a/..//evil.example`). A URL whose path
    // does not start with `/` (`blob:`) is not a page of the console either.
    let mut path = url.pathname.chars();
    if path.next() != Some('/') || matches!(path.next(), Some('/' | '\\')) {
        return None;
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "http://127.0.0.1:8080";

    /// The WHATWG URL parser, as the `url` crate implements it, with the browser
    /// `URL`'s getters.
    fn whatwg(input: &str, base: &str) -> Option<ParsedUrl> {
        let url = url::Url::parse(base).ok()?.join(input).ok()?;
        let prefixed = |mark: char, part: Option<&str>| match part {
            Some(part) if !part.is_empty() => format!("{mark}{part}"),
            _ => String::new(),
        };
        Some(ParsedUrl {
            origin: url.origin().ascii_serialization(),
            pathname: url.path().to_owned(),
            search: prefixed('?', url.query()),
            hash: prefixed('#', url.fragment()),
        })
    }

    fn after(next: &str) -> String {
        after_sign_in(OWN, Some(next), false, whatwg)
    }

    #[test]
    fn paths_on_the_console_survive_whole() {
        assert_eq!(after("/runners?x=1#y"), "/runners?x=1#y");
        assert_eq!(after("/sandboxes/abc"), "/sandboxes/abc");
        assert_eq!(after("/profiles?sort=-name"), "/profiles?sort=-name");
        // What the console's own link sends (`app.rs`: path and query, encoded once).
        assert_eq!(
            after("/runners?zone=us-east&q=a%20b"),
            "/runners?zone=us-east&q=a%20b"
        );
        // The same origin written out in full is still ours; the path is what is kept.
        assert_eq!(after("http://127.0.0.1:8080/sandboxes"), "/sandboxes");
    }

    #[test]
    fn what_the_parser_cleans_up_is_kept_as_it_reads_it() {
        // Spaces at either end and tabs and newlines anywhere are dropped, as the
        // browser would drop them; what is left is a path here.
        assert_eq!(after(" /runners"), "/runners");
        assert_eq!(after("/run\tners"), "/runners");
        // Encoded text stays encoded in a path: it names no host.
        assert_eq!(after("%2F%2Fevil.example"), "/%2F%2Fevil.example");
        assert_eq!(after("/%09/evil.example"), "/%09/evil.example");
        // The console's own scheme without slashes is a relative reference.
        assert_eq!(after("http:evil.example"), "/evil.example");
    }

    #[test]
    fn everything_that_leaves_the_origin_goes_to_the_start_page() {
        let elsewhere = [
            // Browsers drop tabs and newlines inside URLs: `//host/…` is left.
            "/\t/127.0.0.1:18999/index.html",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            // `\` is `/` in http(s) URLs.
            "/\\evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            // Scheme-relative and absolute.
            "//evil.example",
            "///evil.example",
            " //evil.example",
            "https://evil.example/",
            "http://127.0.0.1:8081/runners",
            "https://127.0.0.1:8080/runners",
            "http://localhost:8080/runners",
            "http:\\\\evil.example",
            "http:/\\evil.example",
            "http://127.0.0.1:8080@evil.example/",
            // No origin at all.
            "javascript:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "blob:http://127.0.0.1:8080/0b4f3c1e",
            // A same-origin URL whose path reads as another host.
            "/.//evil.example",
            "/a/..//evil.example",
            "/./\\evil.example",
            "/.\t//evil.example",
            // Does not parse.
            "http://[::1",
        ];
        for next in elsewhere {
            assert_eq!(after(next), START_PAGE, "{next:?}");
        }
    }

    #[test]
    fn an_encoded_variant_is_judged_as_the_browser_decodes_it() {
        // The query parameter arrives decoded once: `next=%2F%2Fevil.example` is
        // `//evil.example` here, and `next=/%09/evil` is `/\t/evil`.
        assert_eq!(after("//evil.example"), START_PAGE);
        assert_eq!(after("/\t/evil"), START_PAGE);
        // Decoded twice it would be a host again, so nothing may decode it once more:
        // the path kept is the parser's, still encoded.
        assert!(after("/%2F/evil.example").starts_with("/%2F"));
    }

    #[test]
    fn no_next_or_an_empty_one_goes_to_the_start_page() {
        assert_eq!(after_sign_in(OWN, None, false, whatwg), START_PAGE);
        // An empty reference would be the base itself, `/`; the start page is where
        // that leads anyway.
        assert_eq!(after(""), START_PAGE);
        assert_eq!(after(" \t"), START_PAGE);
    }

    #[test]
    fn a_console_without_an_origin_of_its_own_sends_nobody_anywhere() {
        // A page with an opaque origin would take any other opaque URL as "the same".
        let parse_as_null = |_: &str, _: &str| {
            Some(ParsedUrl {
                origin: "null".into(),
                pathname: "/runners".into(),
                search: String::new(),
                hash: String::new(),
            })
        };
        assert_eq!(
            after_sign_in("null", Some("javascript:alert(1)"), false, parse_as_null),
            START_PAGE
        );
    }

    #[test]
    fn embedded_the_flag_goes_in_the_query_before_the_fragment() {
        let embedded = |next| after_sign_in(OWN, next, true, whatwg);
        assert_eq!(embedded(Some("/runners?x=1#y")), "/runners?x=1&embed=1#y");
        assert_eq!(
            embedded(Some("/sandboxes/abc#log")),
            "/sandboxes/abc?embed=1#log"
        );
        assert_eq!(embedded(Some("/profiles")), "/profiles?embed=1");
        assert_eq!(embedded(Some("//evil.example")), "/overview?embed=1");
        assert_eq!(embedded(None), "/overview?embed=1");
    }
}
