pub mod error_panel;
