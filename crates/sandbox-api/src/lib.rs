//! The sandbox platform's domain, shared by the console (wasm32) and the local gateway.
//!
//! This crate is the single truth for the wire format (proto3 JSON mapping, see
//! `shared/SPEC.md` §2) and for every rule the console previews and the gateway enforces.
//! It performs no I/O, so it builds for `wasm32-unknown-unknown` and natively.

pub mod ansi;
pub mod binding;
pub mod caller;
pub mod console_pages;
pub mod discovery;
pub mod error;
pub mod exec_stream;
pub mod field_path;
pub mod filter_choices;
pub mod filters;
pub mod format;
pub mod history;
pub mod hostname_template;
pub mod image;
pub mod json;
pub mod json_reader;
pub mod layering;
pub mod logs;
pub mod maintenance;
pub mod names;
pub mod namespace;
pub mod network;
pub mod next_path;
pub mod overrides;
pub mod overview;
pub mod page;
pub mod placement;
pub mod placement_fixes;
pub mod profile;
pub mod profile_document;
pub mod profile_merge;
pub mod profile_rules;
pub mod quantity;
pub mod role;
pub mod runner;
pub mod runner_rules;
pub mod sandbox;
pub mod sdk_snippet;
pub mod source_map;
pub mod start_rules;
pub mod usage;
pub mod violation;
