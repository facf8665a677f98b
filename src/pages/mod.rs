pub mod availability;
pub mod launch;
pub mod profiles;
pub mod runner_detail;
pub mod runners;
pub mod sandbox_detail;
pub mod sandboxes;
pub mod sign_in;
