//! Counters, latency histograms and per-second series: what the World
//! measures, in one place, for Snapshots and reports.

mod second;

use super::client::Retransmission;
pub use crate::engine::Latency;
use crate::engine::{ConnCounters, RecentLatency, RetransmitCounters, SeriesSet, Tally};
use crate::model::SimDuration;
use crate::spec::{DropReason, FailReason};
use second::SecondSamples;

/// What happened in the second being counted.
#[derive(Clone, Copy, Debug, Default)]
struct Second {
    new: u64,
    completed: u64,
    failed: u64,
    drops: [u64; DropReason::COUNT],
}

/// Everything the World measures.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// Connection counters.
    pub conns: ConnCounters,
    /// Packet drops by [`DropReason`] index.
    pub drops: [u64; DropReason::COUNT],
    /// Retransmissions by kind.
    pub retransmits: RetransmitCounters,
    /// First SYN to SYN|ACK.
    pub handshake: Latency,
    /// A data segment's first transmission to its ACK.
    pub segment: Latency,
    /// First SYN to the close completing.
    pub completion: Latency,
    /// A server's death to the health checker marking it down.
    pub detection: Latency,
    /// SYNs sent by floods.
    pub flood_syns: u64,
    /// Packets delivered to a machine that used them; every other packet
    /// delivered is dropped with a reason.
    pub consumed: u64,
    /// Per-second history.
    pub series: SeriesSet,
    second: Second,
    second_latency: SecondSamples,
    /// Segment latencies of the last seconds, for the dashboard's histogram.
    recent_latency: RecentLatency,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            conns: ConnCounters::default(),
            drops: [0; DropReason::COUNT],
            retransmits: RetransmitCounters::default(),
            handshake: Latency::new(3),
            segment: Latency::new(3),
            completion: Latency::new(3),
            detection: Latency::new(3),
            flood_syns: 0,
            consumed: 0,
            series: SeriesSet::default(),
            second: Second::default(),
            second_latency: SecondSamples::default(),
            recent_latency: RecentLatency::default(),
        }
    }
}

impl Metrics {
    /// A connection attempt started.
    #[inline]
    pub fn attempted(&mut self) {
        self.conns.attempted += 1;
        self.second.new += 1;
    }

    /// A handshake completed.
    #[inline]
    pub fn established(&mut self, handshake: SimDuration) {
        self.conns.established += 1;
        self.handshake.record(handshake);
    }

    /// A segment was acknowledged.
    #[inline]
    pub fn segment_acked(&mut self, latency: SimDuration) {
        self.segment.record(latency);
        let micros = latency.as_nanos() / 1_000;
        self.second_latency.record(micros);
        self.recent_latency.record(micros);
    }

    /// A connection completed.
    #[inline]
    pub fn completed(&mut self, duration: SimDuration) {
        self.conns.completed += 1;
        self.completion.record(duration);
        self.second.completed += 1;
    }

    /// A connection failed.
    #[inline]
    pub fn failed(&mut self, reason: FailReason) {
        self.conns.failed[reason.index()] += 1;
        self.second.failed += 1;
    }

    /// A packet was retransmitted.
    #[inline]
    pub fn retransmitted(&mut self, kind: Retransmission) {
        match kind {
            Retransmission::Syn => self.retransmits.syn += 1,
            Retransmission::Data => self.retransmits.data += 1,
            Retransmission::Fin => self.retransmits.fin += 1,
        }
    }

    /// A packet was dropped; returns true if it is the first of its reason.
    #[inline]
    pub fn dropped(&mut self, reason: DropReason) -> bool {
        let c = &mut self.drops[reason.index()];
        *c += 1;
        self.second.drops[reason.index()] += 1;
        *c == 1
    }

    /// All drops.
    pub fn drops_total(&self) -> u64 {
        self.drops.iter().sum()
    }

    /// Closes the current second: appends to every series and starts a new
    /// second. Gauges are sampled by the caller.
    pub fn end_second(&mut self, table: u64, half_open: u64) {
        let s = std::mem::take(&mut self.second);
        let p = &mut self.series;
        p.new_conns.push(s.new);
        p.completed.push(s.completed);
        p.failed.push(s.failed);
        p.drops.push(s.drops.iter().sum());
        for (series, n) in p.drops_by_reason.iter_mut().zip(s.drops) {
            series.push(n);
        }
        let p95 = self.second_latency.take_p95();
        p.latency_p95_us.push(p95);
        let (samples, histogram) = self.recent_latency.end_second();
        p.latency_samples.push(samples);
        p.latency_histogram = histogram;
        p.table.push(table);
        p.half_open.push(half_open);
    }
}

impl Tally for Metrics {
    fn conns(&self) -> ConnCounters {
        self.conns
    }
    fn drops(&self) -> [u64; DropReason::COUNT] {
        self.drops
    }
    fn retransmits(&self) -> u64 {
        self.retransmits.total()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles_follow_the_samples() {
        let mut l = Latency::new(3);
        for ms in 1..=100 {
            l.record(SimDuration::from_millis(ms));
        }
        let s = l.summary();
        assert_eq!(s.count, 100);
        let p95 = s.p95.unwrap().as_millis_f64();
        assert!((94.9..95.1).contains(&p95), "{p95}");
        assert_eq!(s.max, Some(SimDuration::from_millis(100)));
    }

    #[test]
    fn quantiles_never_leave_the_exact_range() {
        let mut l = Latency::new(3);
        for _ in 0..10 {
            l.record(SimDuration::from_micros(4_100));
        }
        let s = l.summary();
        assert_eq!(s.p50, Some(SimDuration::from_micros(4_100)));
        assert_eq!(s.p99, Some(SimDuration::from_micros(4_100)));
    }

    #[test]
    fn first_drop_of_each_reason_is_flagged_once() {
        let mut m = Metrics::default();
        assert!(m.dropped(DropReason::LinkLoss));
        assert!(!m.dropped(DropReason::LinkLoss));
        assert!(m.dropped(DropReason::NoSocket));
        assert_eq!(m.drops_total(), 3);
    }

    #[test]
    fn a_second_lands_in_every_series() {
        let mut m = Metrics::default();
        m.attempted();
        m.attempted();
        m.failed(FailReason::Reset);
        m.segment_acked(SimDuration::from_millis(4));
        m.end_second(7, 3);
        assert_eq!(m.series.new_conns.last(), Some(2));
        assert_eq!(m.series.failed.last(), Some(1));
        assert_eq!(m.series.table.last(), Some(7));
        assert_eq!(m.series.latency_p95_us.last(), Some(4_000));
        m.end_second(0, 0);
        assert_eq!(m.series.new_conns.last(), Some(0));
        assert_eq!(m.series.latency_p95_us.last(), Some(0));
    }
}
