//! The RON lab format: schema, range-checked values, loading with precise
//! errors, and the built-in labs.

mod builtin;
mod error;
mod load;
mod locate;
mod ron_error;
mod schema;
mod validate;
mod values;

pub use builtin::{BUILTIN, DEFAULT_LAB, builtin, resolve};
pub use error::LabError;
pub use load::{MAX_LAB_BYTES, MAX_NESTING, load_file, load_str};
pub use schema::*;
pub use values::{Dur, Positive, Probability, Rate, format_duration, parse_duration};

/// The lab `lblab` opens when none is named.
pub const DEFAULT_LAB: &str = "classic";

/// Temporary resolver until the loader lands: parses a path or the default.
pub fn resolve(name: &str) -> Result<Lab, String> {
    if name == DEFAULT_LAB {
        return ron::from_str("(name: \"classic\")").map_err(|e| e.to_string());
    }
    let text = std::fs::read_to_string(name).map_err(|e| format!("{name}: {e}"))?;
    ron::from_str(&text).map_err(|e| format!("{name}:{e}"))
}
