//! The RON lab format: schema, range-checked values, loading with precise
//! errors, and the built-in labs.

mod schema;
mod values;

pub use schema::*;
pub use values::{Dur, Positive, Probability, Rate, format_duration, parse_duration};
