//! The console's first page: the runners list (and sign-in). Kept to what that view
//! needs, so it loads fast.

fn main() {
    sandbox_console::start(
        sandbox_console::ConsolePage::Runners,
        sandbox_console::RunnersRoutes,
    );
}
