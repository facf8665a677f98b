//! What a console page downloads before it can run: the wasm, JavaScript and CSS its
//! HTML names, counted as the server sends them, i.e. the Zopfli-compressed `.gz`
//! siblings that `scripts/build-console` writes (crates/precompress) and the gateway
//! serves to any browser that takes gzip.

use std::path::Path;

use anyhow::Context;

/// The console's pages (`sandbox_api::console_pages`), first page first.
pub const PAGES: [&str; 5] = [
    "index.html",
    "placement.html",
    "profiles.html",
    "sandboxes.html",
    "runner-admin.html",
];

/// The issue's budget for the first page's initial transfer, in bytes (250 KB).
pub const FIRST_PAGE_BUDGET: u64 = 250_000;

/// Bytes on the wire, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    pub wasm: u64,
    pub js: u64,
    pub css: u64,
}

impl Transfer {
    pub fn total(&self) -> u64 {
        self.wasm + self.js + self.css
    }
}

/// The transfer of page `html` in `dist`. Fails if an asset has no `.gz`: the server
/// would then compress it on the fly, which is not what is measured here.
pub fn page_transfer(dist: &Path, html: &str) -> anyhow::Result<Transfer> {
    let page =
        std::fs::read_to_string(dist.join(html)).with_context(|| format!("reading {html}"))?;
    let mut assets = asset_paths(&page);
    assets.sort_unstable();
    assets.dedup();
    let mut transfer = Transfer::default();
    for asset in assets {
        let gzip = dist.join(format!("{}.gz", asset.trim_start_matches('/')));
        let bytes = std::fs::metadata(&gzip)
            .with_context(|| format!("{html} loads {asset}, which has no {}", gzip.display()))?
            .len();
        match asset.rsplit('.').next() {
            Some("wasm") => transfer.wasm += bytes,
            Some("js") => transfer.js += bytes,
            _ => transfer.css += bytes,
        }
    }
    Ok(transfer)
}

/// The `.wasm`, `.js` and `.css` paths in the page's attributes, quoted or not (the
/// release build minifies the HTML).
fn asset_paths(page: &str) -> Vec<&str> {
    page.split(['"', ' ', '>', '='])
        .filter(|part| part.starts_with('/'))
        .filter(|part| [".wasm", ".js", ".css"].iter().any(|e| part.ends_with(e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_found_in_minified_and_plain_html() {
        let minified = "<script data-js=/a.js data-wasm=/a_bg.wasm src=/boot.js type=module>\
            </script><link href=/app.css rel=stylesheet><link href=/x.png rel=icon>";
        assert_eq!(
            asset_paths(minified),
            ["/a.js", "/a_bg.wasm", "/boot.js", "/app.css"]
        );
        let plain = r#"<link rel="stylesheet" href="/app.css" integrity="sha384-x/y.js"/>"#;
        assert_eq!(asset_paths(plain), ["/app.css"]);
    }
}
