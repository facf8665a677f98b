//! The placement page (`placement.html`, `bin/placement.rs`): the overview, the runners,
//! one runner's capacity and sandboxes, profile availability, "will it fit" (with
//! placement's code), and the organization's activity.

pub mod activity;
pub mod availability;
pub mod overview;
pub mod runner_detail;
pub mod runners;
pub mod will_it_fit;
