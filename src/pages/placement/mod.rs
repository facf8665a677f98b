//! The placement page (`placement.html`, `bin/placement.rs`): one runner's capacity and
//! sandboxes, profile availability, "will it fit" (with placement's code), and the
//! organization's activity.

pub mod activity;
pub mod availability;
pub mod overview;
pub mod runner_detail;
pub mod will_it_fit;
