//! Simulated time: integer nanoseconds, never a wall clock.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Mul, Sub};

/// An instant on the simulation clock, in nanoseconds since the run began.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct SimTime(pub u64);

/// A span of simulated time in nanoseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any event a run can schedule.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Whole seconds since the start (rounded down).
    pub const fn whole_secs(self) -> u64 {
        self.0 / 1_000_000_000
    }

    /// Time elapsed since `earlier`, or zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// Seconds since the start, as a float, for rates and reports.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of `n` nanoseconds.
    pub const fn from_nanos(n: u64) -> SimDuration {
        SimDuration(n)
    }
    /// A span of `n` microseconds.
    pub const fn from_micros(n: u64) -> SimDuration {
        SimDuration(n * 1_000)
    }
    /// A span of `n` milliseconds.
    pub const fn from_millis(n: u64) -> SimDuration {
        SimDuration(n * 1_000_000)
    }
    /// A span of `n` seconds.
    pub const fn from_secs(n: u64) -> SimDuration {
        SimDuration(n * 1_000_000_000)
    }
    /// A span from fractional seconds; negative and NaN become zero, and
    /// anything too long (infinity included) the longest span there is.
    pub fn from_secs_f64(s: f64) -> SimDuration {
        if s > 0.0 {
            // `as` saturates: +inf and huge values become u64::MAX.
            SimDuration((s * 1e9) as u64)
        } else {
            SimDuration::ZERO
        }
    }
    /// The span in nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// The span in seconds, as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// The span in milliseconds, as a float.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// Twice the span, saturating, for exponential backoff.
    pub const fn doubled(self) -> SimDuration {
        SimDuration(self.0.saturating_mul(2))
    }
}

impl From<std::time::Duration> for SimDuration {
    fn from(d: std::time::Duration) -> SimDuration {
        SimDuration(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }
}

impl From<SimDuration> for std::time::Duration {
    fn from(d: SimDuration) -> std::time::Duration {
        std::time::Duration::from_nanos(d.0)
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.saturating_since(earlier)
    }
}

impl Mul<u64> for SimDuration {
    type Output = SimDuration;
    /// `n` times the span, saturating.
    fn mul(self, n: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(n))
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

/// Writes `ns` as seconds with exactly three decimals (`1.250s`).
fn write_secs(f: &mut fmt::Formatter<'_>, ns: u64) -> fmt::Result {
    let ms = ns / 1_000_000;
    write!(f, "{}.{:03}s", ms / 1000, ms % 1000)
}

impl fmt::Display for SimTime {
    /// A clock reading with millisecond resolution: `1.250s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_secs(f, self.0)
    }
}

impl fmt::Display for SimDuration {
    /// The shortest honest unit: `850ns`, `120µs`, `500ms`, `1.250s`, `30s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns >= 1_000_000_000 && ns.is_multiple_of(1_000_000_000) {
            write!(f, "{}s", ns / 1_000_000_000)
        } else if ns >= 1_000_000_000 {
            write_secs(f, ns)
        } else if ns >= 1_000_000 {
            let us = ns / 1_000;
            if us.is_multiple_of(1_000) {
                write!(f, "{}ms", us / 1_000)
            } else {
                write!(f, "{}.{:03}ms", us / 1_000, us % 1_000)
            }
        } else if ns >= 1_000 {
            write!(f, "{}µs", ns / 1_000)
        } else if ns == 0 {
            f.write_str("0s")
        } else {
            write!(f, "{ns}ns")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_displays_seconds_with_millis() {
        assert_eq!(SimTime(1_250_000_000).to_string(), "1.250s");
        assert_eq!(SimTime(0).to_string(), "0.000s");
        assert_eq!(SimTime(520_004_999_999).to_string(), "520.004s");
    }

    #[test]
    fn duration_displays_in_the_shortest_unit() {
        assert_eq!(SimDuration::from_millis(500).to_string(), "500ms");
        assert_eq!(SimDuration::from_millis(1250).to_string(), "1.250s");
        assert_eq!(SimDuration::from_secs(30).to_string(), "30s");
        assert_eq!(SimDuration::from_micros(1500).to_string(), "1.500ms");
        assert_eq!(SimDuration::from_micros(120).to_string(), "120µs");
        assert_eq!(SimDuration::from_nanos(850).to_string(), "850ns");
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
        assert_eq!(SimTime(5) - SimTime(9), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(-1.0), SimDuration::ZERO);
        assert_eq!(
            SimDuration::from_secs_f64(0.5),
            SimDuration::from_millis(500)
        );
    }
}
