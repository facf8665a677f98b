//! The profiles page (`profiles.html`, `bin/profiles.rs`): the profile list and the
//! editor, with the YAML parser and Monaco.

pub mod editor;
pub mod list;
