//! The console's runner administration page (`/managed-runners…`, `/rollout`): its own
//! bundle, so the forms, the overrides' YAML and the rollout code load only here.

fn main() {
    sandbox_console::start(
        sandbox_console::ConsolePage::RunnerAdmin,
        sandbox_console::RunnerAdminRoutes,
    );
}
