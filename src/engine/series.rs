//! Fixed-length per-second series for sparklines: a ring that keeps the
//! newest `N` values, so a Snapshot's size never grows with run length.

use crate::spec::DropReason;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Seconds of history every series keeps.
pub const SERIES_LEN: usize = 120;

/// The last [`SERIES_LEN`] per-second values of one quantity, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series(VecDeque<u64>);

impl Series {
    /// Appends this second's value, dropping the oldest when full.
    pub fn push(&mut self, v: u64) {
        if self.0.len() == SERIES_LEN {
            self.0.pop_front();
        }
        self.0.push_back(v);
    }

    /// The values, oldest first.
    pub fn values(&self) -> Vec<u64> {
        self.0.iter().copied().collect()
    }

    /// The newest value.
    pub fn last(&self) -> Option<u64> {
        self.0.back().copied()
    }

    /// Number of values kept.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No value yet.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The per-second series the dashboard draws.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeriesSet {
    /// Connections started per second.
    pub new_conns: Series,
    /// Connections completed per second.
    pub completed: Series,
    /// Connections failed per second.
    pub failed: Series,
    /// Packets dropped per second (all reasons).
    pub drops: Series,
    /// Packets dropped per second, by [`DropReason`] index.
    pub drops_by_reason: [Series; DropReason::COUNT],
    /// Segment latency p95 per second, in microseconds.
    pub latency_p95_us: Series,
    /// Conn-table entries at each second.
    pub table: Series,
    /// Half-open entries at each second.
    pub half_open: Series,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_newest_values() {
        let mut s = Series::default();
        for v in 0..(SERIES_LEN as u64 + 10) {
            s.push(v);
        }
        assert_eq!(s.len(), SERIES_LEN);
        assert_eq!(s.values()[0], 10);
        assert_eq!(s.last(), Some(SERIES_LEN as u64 + 9));
    }
}
