//! The console's views, one folder per page (bundle) that serves them: see
//! `sandbox_api::console_pages` and the routes in `app.rs`. A view links to another
//! page's view by URL, never by importing it.

pub mod administration;
pub mod placement;
pub mod profiles;
pub mod sandboxes;
pub mod start;
