//! The console's first page: sign-in, and `/`, which sends a signed-in visitor on to
//! the overview. Kept to what that needs, so it loads fast.

fn main() {
    sandbox_console::start(
        sandbox_console::ConsolePage::Start,
        sandbox_console::StartRoutes,
    );
}
