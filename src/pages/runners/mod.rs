//! The first page (`index.html`, `main.rs`): the runners list, and sign-in. It has a
//! download budget (`tests/tests/transfer_budget.rs`), so it holds only these views.

pub mod list;
pub mod sign_in;
