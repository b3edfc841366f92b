//! Range-checked values for lab files. Each checks itself while RON parses,
//! so an out-of-range value is reported at its own line and column.

use crate::model::SimDuration;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;

/// A duration written the way people write them: `"500ms"`, `"2s"`,
/// `"1.5s"`, `"100us"`, `"2m"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub SimDuration);

impl Dur {
    /// No time.
    pub const ZERO: Dur = Dur(SimDuration::ZERO);
    /// `n` microseconds.
    pub const fn from_micros(n: u64) -> Dur {
        Dur(SimDuration::from_micros(n))
    }
    /// `n` milliseconds.
    pub const fn from_millis(n: u64) -> Dur {
        Dur(SimDuration::from_millis(n))
    }
    /// `n` seconds.
    pub const fn from_secs(n: u64) -> Dur {
        Dur(SimDuration::from_secs(n))
    }
    /// The simulated duration.
    pub const fn get(self) -> SimDuration {
        self.0
    }
}

/// How a duration people write is described when it is wrong.
const EXPECTED: &str =
    "a duration such as \"500ms\", \"2s\" or \"1.5s\" (units: ns, us, ms, s, m, h)";

/// Why a text is not a duration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// No number where one belongs.
    #[error("expected {EXPECTED}, found \"{0}\"")]
    NotANumber(String),
    /// A number without a unit.
    #[error("expected {EXPECTED}: \"{0}\" has no unit")]
    NoUnit(String),
    /// A unit that is not one of ns, us, µs, ms, s, m, min, h.
    #[error("expected {EXPECTED}: unknown unit \"{0}\"")]
    UnknownUnit(String),
    /// More than a century.
    #[error("duration \"{0}\" is too long (at most 100 years)")]
    TooLong(String),
}

/// Parses `"<number><unit>"` with units ns, us, µs, ms, s, m, h. A decimal
/// point is allowed; a bare number or a negative one is not.
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| DurationError::NotANumber(text.to_string()))?;
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        "" => return Err(DurationError::NoUnit(text.to_string())),
        other => return Err(DurationError::UnknownUnit(other.to_string())),
    };
    let ns = value * scale;
    // A century of simulated time is far beyond any lab; refusing it keeps
    // every sum of durations far from overflow.
    if !ns.is_finite() || ns > 3.2e18 {
        return Err(DurationError::TooLong(text.to_string()));
    }
    Ok(SimDuration::from_nanos(ns.round() as u64))
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        // `deserialize_any` lets a bare number reach the visitor, which can
        // then say that a unit is missing instead of "expected a string".
        // Labs are only read from self-describing formats (RON, JSON).
        d.deserialize_any(DurVisitor)
    }
}

struct DurVisitor;

impl DurVisitor {
    fn bare<E: de::Error>(n: impl fmt::Display) -> E {
        E::custom(format!(
            "expected a duration with a unit, in quotes, such as \"{n}ms\" or \"{n}s\", \
             found the bare number {n}"
        ))
    }
}

impl de::Visitor<'_> for DurVisitor {
    type Value = Dur;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration in quotes, such as \"500ms\", \"2s\" or \"1.5s\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Dur, E> {
        parse_duration(text).map(Dur).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Dur, E> {
        Err(Self::bare(n))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Dur, E> {
        Err(Self::bare(n))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Dur, E> {
        Err(Self::bare(n))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(self.0))
    }
}

/// Writes a duration in the lab syntax, exactly: it parses back to itself.
pub fn format_duration(d: SimDuration) -> String {
    let ns = d.as_nanos();
    for (unit, scale) in [
        ("h", 3_600_000_000_000u64),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
    ] {
        if ns >= scale && ns.is_multiple_of(scale) {
            return format!("{}{unit}", ns / scale);
        }
    }
    format!("{ns}ns")
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A probability from 0 to 1 inclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Probability(f64);

impl Probability {
    /// Never.
    pub const ZERO: Probability = Probability(0.0);
    /// A probability, if `p` is in `[0, 1]`.
    pub fn new(p: f64) -> Option<Probability> {
        (0.0..=1.0).contains(&p).then_some(Probability(p))
    }
    /// The value in `[0, 1]`.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Probability, D::Error> {
        let p = f64::deserialize(d)?;
        Probability::new(p).ok_or_else(|| {
            serde::de::Error::custom(format!("expected a probability from 0.0 to 1.0, found {p}"))
        })
    }
}

/// A non-negative, finite rate (per second).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Rate(f64);

impl Rate {
    /// A rate known to be valid at compile time.
    pub const fn new_const(r: f64) -> Rate {
        Rate(r)
    }
    /// A rate, if `r` is finite and not negative.
    pub fn new(r: f64) -> Option<Rate> {
        (r.is_finite() && r >= 0.0).then_some(Rate(r))
    }
    /// Events per second.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        let r = f64::deserialize(d)?;
        Rate::new(r).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a rate per second of 0 or more, found {r}"
            ))
        })
    }
}

/// A whole number of at least 1 (counts, weights, limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Positive(u32);

impl Positive {
    /// A value known to be at least 1. Zero becomes 1.
    pub const fn new_const(n: u32) -> Positive {
        Positive(if n == 0 { 1 } else { n })
    }
    /// The value, if it is at least 1.
    pub const fn new(n: u32) -> Option<Positive> {
        if n == 0 { None } else { Some(Positive(n)) }
    }
    /// The value, at least 1.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Positive, D::Error> {
        // `deserialize_any` so that 0, -1, 2.5 and "3" all get the same
        // message naming the allowed range, instead of a parser's
        // "integer out of bounds" or "expected comma".
        d.deserialize_any(PositiveVisitor)
    }
}

struct PositiveVisitor;

impl PositiveVisitor {
    fn refuse<E: de::Error>(found: impl fmt::Display) -> E {
        E::custom(format!(
            "expected a whole number from 1 to {}, found {found}",
            u32::MAX
        ))
    }
}

impl de::Visitor<'_> for PositiveVisitor {
    type Value = Positive;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a whole number from 1 to {}", u32::MAX)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Positive, E> {
        u32::try_from(n)
            .ok()
            .and_then(Positive::new)
            .ok_or_else(|| Self::refuse(n))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Positive, E> {
        match u64::try_from(n) {
            Ok(n) => self.visit_u64(n),
            Err(_) => Err(Self::refuse(n)),
        }
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Positive, E> {
        Err(Self::refuse(n))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Positive, E> {
        Err(Self::refuse(format_args!("{text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        assert_eq!(parse_duration("500ms"), Ok(SimDuration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(SimDuration::from_millis(1500)));
        assert_eq!(parse_duration("100us"), Ok(SimDuration::from_micros(100)));
        assert_eq!(parse_duration("100µs"), Ok(SimDuration::from_micros(100)));
        assert_eq!(parse_duration("2m"), Ok(SimDuration::from_secs(120)));
        assert_eq!(parse_duration("7ns"), Ok(SimDuration::from_nanos(7)));
    }

    #[test]
    fn bad_durations_say_what_was_expected() {
        let err = |t: &str| parse_duration(t).unwrap_err().to_string();
        assert!(err("500").contains("no unit"));
        assert!(err("-1s").contains("expected a duration"));
        assert!(err("3 fortnights").contains("unknown unit"));
        assert!(parse_duration("1e300h").is_err());
    }

    #[test]
    fn bare_numbers_are_told_to_take_a_unit() {
        let err = ron::from_str::<Dur>("250").unwrap_err().code.to_string();
        assert!(err.contains("such as \"250ms\""), "{err}");
        assert_eq!(ron::from_str::<Dur>("\"250ms\""), Ok(Dur::from_millis(250)));
    }

    #[test]
    fn positive_names_its_range_whatever_is_found() {
        for (text, found) in [("0", "0"), ("-1", "-1"), ("2.5", "2.5"), ("\"3\"", "\"3\"")] {
            let err = ron::from_str::<Positive>(text)
                .unwrap_err()
                .code
                .to_string();
            assert_eq!(
                err,
                format!("expected a whole number from 1 to 4294967295, found {found}")
            );
        }
        assert_eq!(ron::from_str::<Positive>("7"), Ok(Positive::new_const(7)));
    }

    #[test]
    fn durations_format_back_to_themselves() {
        for text in ["500ms", "2s", "100us", "7ns", "2m", "1h", "1500ms"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(d)), Ok(d), "{text}");
        }
        assert_eq!(format_duration(SimDuration::from_millis(1500)), "1500ms");
    }
}
