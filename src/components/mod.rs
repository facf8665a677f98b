pub mod admin_only;
pub mod capacity_bar;
pub mod discovery_filters;
pub mod error_panel;
pub mod installation;
pub mod toasts;
pub mod unreachable_banner;
pub mod will_it_fit;
