//! The console's first page: runner discovery, a runner's capacity, and profile
//! availability. Kept to what those views need, so it loads fast.

fn main() {
    sandbox_console::start(
        sandbox_console::ConsolePage::Discovery,
        sandbox_console::DiscoveryRoutes,
    );
}
