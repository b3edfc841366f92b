//! Counters a run accumulates: connections, retransmissions, latency
//! summaries and link traffic, as Snapshots and reports carry them.

use crate::model::SimDuration;
use crate::spec::FailReason;
use serde::{Deserialize, Serialize};

/// Connection counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnCounters {
    /// SYNs first sent by clients (flood SYNs excluded).
    pub attempted: u64,
    /// Handshakes completed.
    pub established: u64,
    /// Connections that sent all their data and closed cleanly.
    pub completed: u64,
    /// Connections that failed, by [`FailReason`] index.
    pub failed: [u64; FailReason::COUNT],
}

impl ConnCounters {
    /// Failed connections of every reason.
    pub fn failed_total(&self) -> u64 {
        self.failed.iter().sum()
    }
}

/// Retransmissions by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetransmitCounters {
    /// SYNs sent again.
    pub syn: u64,
    /// Data segments sent again.
    pub data: u64,
    /// FINs sent again.
    pub fin: u64,
}

impl RetransmitCounters {
    /// All retransmissions.
    pub fn total(&self) -> u64 {
        self.syn + self.data + self.fin
    }
}

/// A latency distribution in four numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Samples behind the figures.
    pub count: u64,
    /// Median.
    pub p50: Option<SimDuration>,
    /// 95th percentile.
    pub p95: Option<SimDuration>,
    /// 99th percentile.
    pub p99: Option<SimDuration>,
    /// Largest.
    pub max: Option<SimDuration>,
}

/// Counters of one link, both directions together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStats {
    /// Packets put on the link.
    pub sent: u64,
    /// Packets that reached the far end.
    pub delivered: u64,
    /// Packets the link lost.
    pub lost: u64,
    /// Packets on the link now.
    pub in_flight: u64,
    /// Wire bytes put on the link.
    pub bytes: u64,
}

impl LinkStats {
    /// Every packet sent was delivered, lost, or is still in flight.
    pub const fn is_conserved(&self) -> bool {
        self.sent == self.delivered + self.lost + self.in_flight
    }
}
