//! The placement page: the overview, the runners and each runner's capacity and
//! sandboxes, profile availability, "will it fit" and the activity.

fn main() {
    sandbox_console::start(
        sandbox_console::ConsolePage::Placement,
        sandbox_console::PlacementRoutes,
    );
}
