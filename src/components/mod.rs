pub mod capacity_bar;
pub mod discovery_filters;
pub mod error_panel;
pub mod unreachable_banner;
pub mod will_it_fit;
