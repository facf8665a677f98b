//! The console's sandboxes page (`/sandboxes…`): the list, launch, and each sandbox
//! with its log pane and exec panel.

fn main() {
    sandbox_console::start(
        sandbox_console::ConsolePage::Sandboxes,
        sandbox_console::SandboxesRoutes,
    );
}
