//! The sandbox platform's domain, shared by the console (wasm32) and the local gateway.
//!
//! This crate is the single truth for the wire format (proto3 JSON mapping, see
//! `shared/SPEC.md` §2) and for every rule the console previews and the gateway enforces.
//! It performs no I/O, so it builds for `wasm32-unknown-unknown` and natively.

pub mod error;
pub mod names;
pub mod page;
pub mod profile;
pub mod role;
pub mod violation;
