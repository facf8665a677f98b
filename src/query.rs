//! Views keep their filters and sort in the URL, so a view can be linked, reloaded and
//! embedded as it is. This builds those URLs (keeping `embed=1` when embedded).

use leptos::prelude::use_context;
use leptos_router::params::ParamsMap;
use sandbox_api::console_pages::ConsolePage;
use sandbox_api::filters::DiscoveryFilter;

/// `path?query`, with `embed=1` added when the console is embedded.
pub fn link(path: &str, pairs: &[(&str, String)], embedded: bool) -> String {
    let mut query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", js_sys::encode_uri_component(v)))
        .collect();
    if embedded {
        query.push("embed=1".into());
    }
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// `rel` for a link to `href`: `external` when another of the console's pages serves
/// it, so that the browser loads that page rather than this page's router handling it.
pub fn rel_for(href: &str) -> Option<&'static str> {
    let here = use_context::<ConsolePage>()?;
    let path = href.split(['?', '#']).next().unwrap_or_default();
    (ConsolePage::for_path(path) != here).then_some("external")
}

/// Goes to `href`: with this page's router when it serves it, else by loading the page
/// that does. `replace` keeps the current entry out of the history.
pub fn go(navigate: &impl Fn(&str, leptos_router::NavigateOptions), href: &str, replace: bool) {
    if rel_for(href).is_none() {
        navigate(
            href,
            leptos_router::NavigateOptions {
                replace,
                ..Default::default()
            },
        );
    } else if let Some(location) = web_sys::window().map(|w| w.location()) {
        let _ = if replace {
            location.replace(href)
        } else {
            location.assign(href)
        };
    }
}

/// The discovery filter in the URL; parameters that do not parse are left out.
pub fn discovery_filter(query: &ParamsMap) -> DiscoveryFilter {
    let pairs: Vec<(String, String)> = query
        .latest_values()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let valid: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .filter(|pair| DiscoveryFilter::from_query([*pair]).is_ok())
        .collect();
    DiscoveryFilter::from_query(valid).unwrap_or_default()
}

/// A column and direction: `cpu` ascending, `-cpu` descending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sort {
    pub column: String,
    pub descending: bool,
}

impl Sort {
    pub fn parse(text: Option<&str>, default: &str) -> Sort {
        let text = text.filter(|t| !t.is_empty()).unwrap_or(default);
        match text.strip_prefix('-') {
            Some(column) => Sort {
                column: column.to_owned(),
                descending: true,
            },
            None => Sort {
                column: text.to_owned(),
                descending: false,
            },
        }
    }

    pub fn to_param(&self) -> String {
        if self.descending {
            format!("-{}", self.column)
        } else {
            self.column.clone()
        }
    }

    /// How a table sorted this way is sorted by `column`, as `aria-sort` says it.
    pub fn aria_sort(&self, column: &str) -> &'static str {
        match (self.column == column, self.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    /// Sorting by `column` next: flips the direction when it is already the column.
    pub fn toggled(&self, column: &str) -> Sort {
        Sort {
            column: column.to_owned(),
            descending: self.column == column && !self.descending,
        }
    }
}

/// Puts `filter` and `sort` in the URL of `path`; history is replaced, not pushed, so
/// typing in a filter does not flood it.
pub fn replace_view(
    navigate: &impl Fn(&str, leptos_router::NavigateOptions),
    path: &str,
    filter: &DiscoveryFilter,
    sort: Option<&Sort>,
    embedded: bool,
) {
    let mut pairs: Vec<(&str, String)> = filter.to_query();
    if let Some(sort) = sort {
        pairs.push(("sort", sort.to_param()));
    }
    navigate(
        &link(path, &pairs, embedded),
        leptos_router::NavigateOptions {
            replace: true,
            scroll: false,
            ..Default::default()
        },
    );
}

/// The URL of `path` sorted by `column` (flipping the direction when it already is),
/// with the same filter.
pub fn sort_link(
    path: &str,
    filter: &DiscoveryFilter,
    sort: &Sort,
    column: &str,
    embedded: bool,
) -> String {
    let mut pairs: Vec<(&str, String)> = filter.to_query();
    pairs.push(("sort", sort.toggled(column).to_param()));
    link(path, &pairs, embedded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sort_reads_writes_and_toggles_its_column_and_direction() {
        let sort = Sort::parse(Some("-cpu"), "runner");
        assert_eq!((sort.column.as_str(), sort.descending), ("cpu", true));
        assert_eq!(sort.to_param(), "-cpu");
        assert_eq!(Sort::parse(Some(""), "runner").to_param(), "runner");
        assert_eq!(sort.toggled("cpu").to_param(), "cpu");
        assert_eq!(sort.toggled("zone").to_param(), "zone");
        assert_eq!(
            [
                sort.aria_sort("cpu"),
                sort.toggled("cpu").aria_sort("cpu"),
                sort.aria_sort("zone")
            ],
            ["descending", "ascending", "none"]
        );
    }
}
