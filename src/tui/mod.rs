//! The dashboard: App state and its `update`, the key table, the views, and
//! the terminal loop that ties them to the live driver.

pub mod app;
pub mod forms;
pub mod guide;
mod input;
pub mod keys;
pub mod log_view;
mod popup_keys;
pub mod run;
pub mod theme;
pub mod view;
