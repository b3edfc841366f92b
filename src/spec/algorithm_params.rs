//! The numbers some algorithms take, each checking its own range when a lab
//! is read, so a bad one is reported at its `file:line:col`.

use serde::{Deserialize, Deserializer, Serialize, de};
use std::fmt;

/// Backends drawn per pick by power of d choices: 2 to 16.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Choices(u8);

impl Choices {
    /// Fewest draws (d = 1 would be random).
    pub const MIN: u8 = 2;
    /// Most draws: past a handful the gain is nil and the cost grows.
    pub const MAX: u8 = 16;
    /// Three: the first d past the named two choices.
    pub const DEFAULT: Choices = Choices(3);

    /// `d`, if it is in range.
    pub const fn new(d: u8) -> Option<Choices> {
        if d >= Self::MIN && d <= Self::MAX {
            Some(Choices(d))
        } else {
            None
        }
    }

    /// The number of draws.
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}

impl Default for Choices {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for Choices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for Choices {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Choices, D::Error> {
        let n = i64::deserialize(d)?;
        u8::try_from(n).ok().and_then(Choices::new).ok_or_else(|| {
            de::Error::custom(format!(
                "expected d from {} to {}, found {n}",
                Choices::MIN,
                Choices::MAX
            ))
        })
    }
}

/// Points on a hash ring per unit of a backend's weight: 1 to 1000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct VirtualNodes(u32);

impl VirtualNodes {
    /// Most points per unit of weight: 10 000 backends × 1000 points is
    /// the largest ring a lab may build.
    pub const MAX: u32 = 1000;
    /// ketama's 160 points per server.
    pub const DEFAULT: VirtualNodes = VirtualNodes(160);

    /// `n`, if it is in range.
    pub const fn new(n: u32) -> Option<VirtualNodes> {
        if n >= 1 && n <= Self::MAX {
            Some(VirtualNodes(n))
        } else {
            None
        }
    }

    /// The number of points.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for VirtualNodes {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for VirtualNodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for VirtualNodes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<VirtualNodes, D::Error> {
        let n = i64::deserialize(d)?;
        u32::try_from(n)
            .ok()
            .and_then(VirtualNodes::new)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "expected vnodes from 1 to {}, found {n}",
                    VirtualNodes::MAX
                ))
            })
    }
}

/// The load bound of consistent hashing with bounded loads (Mirrokni et
/// al.): a backend takes a new flow only below ⌈bound × average⌉. Above 1,
/// at most 10.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct LoadBound(f64);

impl LoadBound {
    /// `b`, if it is above 1 and at most 10.
    pub fn new(b: f64) -> Option<LoadBound> {
        (b > 1.0 && b <= 10.0).then_some(LoadBound(b))
    }

    /// The factor (1 + ε).
    pub const fn get(self) -> f64 {
        self.0
    }
}

// The range check keeps NaN out, so equality of bits is equality.
impl Eq for LoadBound {}

impl std::hash::Hash for LoadBound {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

impl fmt::Display for LoadBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for LoadBound {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LoadBound, D::Error> {
        let b = f64::deserialize(d)?;
        LoadBound::new(b).ok_or_else(|| {
            de::Error::custom(format!(
                "expected a load bound above 1 and at most 10 (1.25 lets a backend take 25% above the average), found {b}"
            ))
        })
    }
}

/// Reads a ring's optional load bound written bare (`bound: 1.25`), as
/// `Some(1.25)`, or `None`.
pub(super) fn optional_bound<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<LoadBound>, D::Error> {
    d.deserialize_any(BoundVisitor)
}

struct BoundVisitor;

impl BoundVisitor {
    fn bound<E: de::Error>(b: f64) -> Result<Option<LoadBound>, E> {
        LoadBound::new(b).map(Some).ok_or_else(|| {
            E::custom(format!(
                "expected a load bound above 1 and at most 10 (1.25 lets a backend take 25% above the average), found {b}"
            ))
        })
    }
}

impl<'de> de::Visitor<'de> for BoundVisitor {
    type Value = Option<LoadBound>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a load bound above 1 and at most 10, or None")
    }

    fn visit_f64<E: de::Error>(self, b: f64) -> Result<Self::Value, E> {
        Self::bound(b)
    }

    fn visit_u64<E: de::Error>(self, b: u64) -> Result<Self::Value, E> {
        Self::bound(b as f64)
    }

    fn visit_i64<E: de::Error>(self, b: i64) -> Result<Self::Value, E> {
        Self::bound(b as f64)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        LoadBound::deserialize(d).map(Some)
    }
}

/// Slots in a Maglev table: a prime from 7 to 16 777 259, so every
/// backend's permutation visits every slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TableSize(u32);

impl TableSize {
    /// The largest table: the first prime above 2²⁴ (64 MiB of slots).
    pub const MAX: u32 = 16_777_259;
    /// The Maglev paper's and Envoy's 65 537.
    pub const DEFAULT: TableSize = TableSize(65_537);

    /// `n`, if it is a prime in range.
    pub fn new(n: u32) -> Option<TableSize> {
        ((7..=Self::MAX).contains(&n) && is_prime(n)).then_some(TableSize(n))
    }

    /// The number of slots.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for TableSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for TableSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for TableSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TableSize, D::Error> {
        let n = i64::deserialize(d)?;
        if let Some(t) = u32::try_from(n).ok().and_then(TableSize::new) {
            return Ok(t);
        }
        let hint = u32::try_from(n)
            .ok()
            .filter(|n| (7..TableSize::MAX).contains(n))
            .map(|n| format!(" (the next prime is {})", next_prime(n)))
            .unwrap_or_default();
        Err(de::Error::custom(format!(
            "expected table_size a prime from 7 to {}, found {n}{hint}",
            TableSize::MAX
        )))
    }
}

/// Trial division: table sizes are at most 2²⁴, so at most 2 048 tries.
fn is_prime(n: u32) -> bool {
    if n < 2 {
        return false;
    }
    if n.is_multiple_of(2) {
        return n == 2;
    }
    let mut k = 3u32;
    while k.saturating_mul(k) <= n {
        if n.is_multiple_of(k) {
            return false;
        }
        k += 2;
    }
    true
}

fn next_prime(mut n: u32) -> u32 {
    while !is_prime(n) {
        n += 1;
    }
    n
}

/// A weight in the score: finite, 0 or more.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Coefficient(f64);

impl Coefficient {
    /// Counts fully.
    pub const ONE: Coefficient = Coefficient(1.0);

    /// `c`, if it is finite and not negative.
    pub fn new(c: f64) -> Option<Coefficient> {
        (c.is_finite() && c >= 0.0).then_some(Coefficient(c))
    }

    /// The weight.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl Default for Coefficient {
    fn default() -> Self {
        Self::ONE
    }
}

// Finite by construction, so equality of bits is equality (but for ±0,
// which the range check folds: -0.0 >= 0.0 holds, and both weigh nothing).
impl Eq for Coefficient {}

impl std::hash::Hash for Coefficient {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.0 + 0.0).to_bits().hash(state);
    }
}

impl fmt::Display for Coefficient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for Coefficient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Coefficient, D::Error> {
        let c = f64::deserialize(d)?;
        Coefficient::new(c)
            .ok_or_else(|| de::Error::custom(format!("expected a weight of 0 or more, found {c}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes_are_told_apart_from_their_neighbours() {
        assert!(is_prime(65_537));
        assert!(!is_prime(65_535));
        assert!(is_prime(TableSize::MAX));
        assert!(!is_prime(1 << 24));
        assert_eq!(next_prime(65_536), 65_537);
        assert_eq!(TableSize::new(65_536), None);
        assert_eq!(TableSize::new(5), None);
    }
}
