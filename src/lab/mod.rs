//! The RON lab format: schema, range-checked values, loading with precise
//! errors, and the built-in labs.

mod builtin;
mod error;
mod lesson;
mod load;
mod locate;
mod ron_error;
mod schema;
mod validate;
mod values;

pub use builtin::{BUILTIN, DEFAULT_LAB, builtin, builtin_summaries, resolve};
pub use error::LabError;
pub use lesson::{Comparison, Lesson, Metric, Objective, TimedCommand, Window};
pub use load::{MAX_LAB_BYTES, MAX_NESTING, load_commands, load_commands_str, load_file, load_str};
pub use schema::*;
pub use validate::MAX_FLOOD_SOURCES;
pub use values::{Dur, Positive, Probability, Rate, format_duration, parse_duration};
