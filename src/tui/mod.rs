//! The dashboard: App state and its `update`, the key table, the views, and
//! the terminal loop that ties them to the live driver.

pub mod app;
pub mod forms;
mod input;
pub mod keys;
mod popup_keys;
pub mod run;
pub mod theme;
pub mod view;
