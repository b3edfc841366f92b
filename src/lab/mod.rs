//! The RON lab file: parsing with precise errors (`file:line:col`),
//! validation of what the value types cannot see alone, command scripts,
//! and the built-in labs with their lessons. What a lab may say is the
//! shared vocabulary of `spec/`.

mod builtin;
mod commands;
mod error;
pub mod estimate;
pub(crate) mod load;
pub(crate) mod locate;
pub mod real_check;
pub(crate) mod ron_error;
mod validate;

pub use builtin::{BUILTIN, DEFAULT_LAB, builtin, builtin_summaries, resolve};
pub use error::LabError;
pub use load::{MAX_LAB_BYTES, MAX_NESTING, load_commands, load_commands_str, load_file, load_str};
pub use real_check::{check_real, check_real_commands, load_real_commands, resolve_real};
