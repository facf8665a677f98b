//! The first page (`index.html`, `main.rs`): sign-in, and `/`, which sends a signed-in
//! visitor on to the start page. It has a download budget
//! (`tests/tests/transfer_budget.rs`), so it holds only these views.

pub mod sign_in;
