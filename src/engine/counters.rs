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

    /// The success rate of these counters, in percent: see
    /// [`ConnCounters::success_rate_of`].
    pub fn success_rate_pct(&self) -> Option<f64> {
        ConnCounters::success_rate_of(self.completed, self.failed_total())
    }

    /// The one definition of success rate, in percent: connections that
    /// completed over connections that ended, completed or failed.
    /// Connections still open count for neither side, so a run stopped
    /// mid-way is judged on what has ended rather than scored down for
    /// clients still at work; with nothing ended there is no rate (`None`,
    /// shown as `–`), never a made-up 0%. The report, the dashboard and
    /// the `SuccessRate` objective all use it.
    pub fn success_rate_of(completed: u64, failed: u64) -> Option<f64> {
        let ended = completed + failed;
        (ended > 0).then(|| completed as f64 * 100.0 / ended as f64)
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
    /// Mean (absent from Snapshots of older versions).
    #[serde(default)]
    pub mean: Option<SimDuration>,
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

/// An order-independent hash of what a simulation drew: how many draws
/// and the wrapping sum of a mix of each (key, value) pair, so two runs
/// that drew the same things in another order hash alike.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawHash {
    /// Draws hashed.
    pub count: u64,
    /// Their hash.
    pub hash: u64,
}

impl DrawHash {
    /// Adds the draw `value` named `key` (SplitMix64's finaliser over the
    /// pair, summed: nearby pairs hash far apart, order does not matter).
    #[inline]
    pub fn add(&mut self, key: u64, value: u64) {
        let mut z = key ^ value.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.count += 1;
        self.hash = self.hash.wrapping_add(z ^ (z >> 31));
    }
}

/// The draws a simulation made for its clients (arrival times, start and
/// think delays) and servers (service times), hashed; the (key, value)
/// pairs too when the run was asked to keep them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DrawHashes {
    /// Arrivals: open arrivals' times, closed clients' start and think delays.
    pub arrivals: DrawHash,
    /// Every sampled service time.
    pub service: DrawHash,
    /// The arrival pairs, when kept.
    pub arrival_pairs: Option<Vec<(u64, u64)>>,
    /// The service pairs, when kept.
    pub service_pairs: Option<Vec<(u64, u64)>>,
}

/// Gauges averaged over a run's simulated time: what a student needs to
/// check queueing theory (Little's law, utilisation) from a report.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TimeAverages {
    /// Simulated seconds the averages cover.
    pub seconds: f64,
    /// Mean conn-table entries.
    pub table_entries: f64,
    /// Mean half-open conn-table entries.
    pub half_open: f64,
    /// Each backend's, in server order.
    pub backends: Vec<BackendAverages>,
}

/// One backend's gauges averaged over time.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BackendAverages {
    /// Server name.
    pub name: String,
    /// Mean established connections the server held.
    pub active: f64,
    /// Mean segments waiting for a worker.
    pub queue: f64,
    /// Mean workers busy serving a segment.
    pub busy_workers: f64,
    /// Mean busy workers over workers, in percent.
    pub utilisation_pct: Option<f64>,
    /// Segments served.
    pub segments_served: u64,
    /// Segments that found every worker busy and waited in the queue.
    pub segments_waited: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_rate_counts_only_connections_that_ended() {
        // A run cut short with every client mid-connection has no rate.
        assert_eq!(ConnCounters::success_rate_of(0, 0), None);
        assert_eq!(ConnCounters::success_rate_of(70, 30), Some(70.0));
        assert_eq!(ConnCounters::success_rate_of(0, 4), Some(0.0));
        let mut c = ConnCounters {
            attempted: 100,
            completed: 3,
            ..ConnCounters::default()
        };
        c.failed[FailReason::Reset.index()] = 1;
        // Attempted connections still open do not lower it.
        assert_eq!(c.success_rate_pct(), Some(75.0));
    }
}
