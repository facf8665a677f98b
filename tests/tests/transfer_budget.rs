//! The first page's initial transfer stays within the budget of issue 5 (250 KB of
//! gzip for wasm, JavaScript and CSS). Sizes are deterministic for a given build, so
//! this is a check on the bundle, not a timing; the figures for every page are in the
//! README, from `cargo bench -p sandbox-e2e --bench discovery_ui`.

use sandbox_e2e::gateway::built_console;
use sandbox_e2e::transfer::{FIRST_PAGE_BUDGET, PAGES, page_transfer};

#[test]
fn the_first_page_downloads_at_most_250_kb() -> anyhow::Result<()> {
    let dist = built_console()?;
    let first = page_transfer(&dist, PAGES[0])?;
    assert!(
        first.total() <= FIRST_PAGE_BUDGET,
        "{} downloads {} bytes (wasm {}, js {}, css {}), over the budget of {FIRST_PAGE_BUDGET}",
        PAGES[0],
        first.total(),
        first.wasm,
        first.js,
        first.css
    );
    // Every page is served precompressed (page_transfer fails on an asset without .gz).
    for page in &PAGES[1..] {
        page_transfer(&dist, page)?;
    }
    Ok(())
}
