//! The console's profile editor page (`/profiles/new`, `/profiles/{id}`): its own
//! bundle, so the YAML parser and the editor's code load only here.

fn main() {
    sandbox_console::start(
        sandbox_console::ConsolePage::ProfileEditor,
        sandbox_console::ProfileEditorRoutes,
    );
}
