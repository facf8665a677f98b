//! The sandboxes page (`sandboxes.html`, `bin/sandboxes.rs`): the sandbox list, one
//! sandbox with its log and exec, and the launch form.

pub mod detail;
pub mod launch;
pub mod list;
