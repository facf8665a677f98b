//! The console's main page: discovery, sandboxes, runners and the profile list.

fn main() {
    sandbox_console::start(
        sandbox_console::ConsolePage::Main,
        sandbox_console::MainRoutes,
    );
}
