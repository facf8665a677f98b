//! The placement page: a runner's capacity and sandboxes, profile availability, and
//! "will it fit".

fn main() {
    sandbox_console::start(
        sandbox_console::ConsolePage::Placement,
        sandbox_console::PlacementRoutes,
    );
}
