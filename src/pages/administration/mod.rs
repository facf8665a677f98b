//! The runner administration page (`runner-admin.html`, `bin/runner-admin.rs`):
//! managed runners, a new runner, one managed runner (installation, settings,
//! bindings), and rolling a profile out.

pub mod managed_runner;
pub mod managed_runners;
pub mod new_runner;
pub mod rollout;
