//! The console's profiles page (`/profiles…`): the list and the editor, with the YAML
//! parser and Monaco, which no other page loads.

fn main() {
    sandbox_console::start(
        sandbox_console::ConsolePage::Profiles,
        sandbox_console::ProfilesRoutes,
    );
}
