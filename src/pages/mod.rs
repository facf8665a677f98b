pub mod profiles;
pub mod sign_in;
