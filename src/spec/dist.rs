//! Distributions of durations, sizes and counts, as a lab writes them.

use serde::{Deserialize, Serialize};

/// A distribution of values (durations, sizes or counts).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Dist<T> {
    /// Always the same value.
    Constant(T),
    /// Uniform between the two values.
    Uniform(T, T),
    /// Exponential with this mean (memoryless: Poisson processes).
    Exponential(T),
    /// Log-normal with this median and shape `sigma` (heavy right tail).
    LogNormal {
        /// The median value.
        median: T,
        /// Standard deviation of the underlying normal; 0 is constant.
        sigma: f64,
    },
}
