//! Fixed-length per-second series for sparklines: a ring that keeps the
//! newest `N` values, so a Snapshot's size never grows with run length.

use crate::model::SimDuration;
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
    /// Latency samples behind each second's p95 (`latency_p95_us`): a
    /// second with none has no p95, shown as `–`, not 0.
    #[serde(default)]
    pub latency_samples: Series,
    /// Latencies of the last [`HISTOGRAM_SECONDS`] seconds, bucketed:
    /// segment round trips in the simulation, connects on a real proxy.
    #[serde(default)]
    pub latency_histogram: LatencyHistogram,
}

/// Seconds of latency the histogram covers.
pub const HISTOGRAM_SECONDS: usize = 10;

/// Upper bounds of the latency buckets, in microseconds: 1, 1.5, 2, 3, 5
/// and 7 of each decade from 10 µs to 100 s. Logarithmic, because a
/// retransmitted segment takes a timeout (hundreds of ms) where the rest
/// take a few ms, and linear buckets would lump all the latter into one.
pub const LATENCY_BOUNDS_US: [u64; 43] = {
    const STEPS: [u64; 6] = [10, 15, 20, 30, 50, 70];
    let mut out = [0u64; 43];
    let mut decade = 1u64;
    let mut i = 0;
    while i < 42 {
        out[i] = STEPS[i % 6] * decade;
        if i % 6 == 5 {
            decade *= 10;
        }
        i += 1;
    }
    out[42] = 100_000_000;
    out
};

/// Buckets of the latency histogram: one per bound and one above the last.
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_US.len() + 1;

/// The bucket a latency of `micros` falls in.
#[inline]
pub fn latency_bucket(micros: u64) -> usize {
    LATENCY_BOUNDS_US.partition_point(|&b| b < micros)
}

/// A latency histogram over fixed logarithmic buckets
/// ([`LATENCY_BOUNDS_US`]): small and the same shape whatever the run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyHistogram {
    /// Seconds the counts cover.
    pub seconds: u32,
    /// Samples per bucket, [`LATENCY_BUCKETS`] long, or empty when the
    /// engine keeps none.
    pub counts: Vec<u64>,
}

impl LatencyHistogram {
    /// A histogram of `micros` samples covering `seconds`.
    pub fn of_micros(seconds: u32, micros: impl IntoIterator<Item = u64>) -> LatencyHistogram {
        let mut counts = vec![0; LATENCY_BUCKETS];
        for us in micros {
            counts[latency_bucket(us)] += 1;
        }
        LatencyHistogram { seconds, counts }
    }

    /// Samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The upper bound of bucket `i` (`None` for the open last one).
    pub fn upper(i: usize) -> Option<SimDuration> {
        LATENCY_BOUNDS_US
            .get(i)
            .map(|&us| SimDuration::from_micros(us))
    }

    /// The bucket holding quantile `q` (0..=1), if any sample was counted.
    pub fn bucket_of_quantile(&self, q: f64) -> Option<usize> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        // The rank of the sample at q, 1-based, as the p95 series ranks.
        let rank = ((total as f64 * q).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        self.counts.iter().position(|&n| {
            seen += n;
            seen >= rank
        })
    }
}

/// The latency buckets of the last [`HISTOGRAM_SECONDS`] seconds, one
/// array per second, so the window slides a second at a time in bounded
/// memory.
#[derive(Clone, Debug, Default)]
pub struct RecentLatency {
    current: Vec<u64>,
    past: VecDeque<Vec<u64>>,
    /// The last latency counted and its bucket: a lab of constants counts
    /// the same latency again and again, and the bucket search was a
    /// fortieth of its run time.
    last: (u64, usize),
}

impl RecentLatency {
    /// Counts one latency in the current second.
    #[inline]
    pub fn record(&mut self, micros: u64) {
        if self.current.is_empty() {
            self.current = vec![0; LATENCY_BUCKETS];
        }
        let bucket = if micros == self.last.0 {
            self.last.1
        } else {
            let bucket = latency_bucket(micros);
            self.last = (micros, bucket);
            bucket
        };
        self.current[bucket] += 1;
    }

    /// Closes the current second: returns how many samples it had and the
    /// histogram of the window ending with it.
    pub fn end_second(&mut self) -> (u64, LatencyHistogram) {
        let second = std::mem::take(&mut self.current);
        let samples = second.iter().sum();
        if self.past.len() == HISTOGRAM_SECONDS {
            self.past.pop_front();
        }
        self.past.push_back(second);
        let mut counts = vec![0; LATENCY_BUCKETS];
        for s in &self.past {
            for (c, n) in counts.iter_mut().zip(s) {
                *c += n;
            }
        }
        let seconds = self.past.len() as u32;
        (samples, LatencyHistogram { seconds, counts })
    }
}

/// One second of a run, every per-second series at once: a row of the
/// `--series` export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondRow {
    /// The second's end, in whole simulated seconds.
    pub second: u64,
    /// Connections started.
    pub new_conns: u64,
    /// Connections completed.
    pub completed: u64,
    /// Connections failed.
    pub failed: u64,
    /// Packets dropped, all reasons.
    pub drops: u64,
    /// Packets dropped, by [`DropReason`] index.
    pub drops_by_reason: Vec<u64>,
    /// Segment latencies measured.
    pub latency_samples: u64,
    /// Their p95 in microseconds (`None` with no sample).
    pub latency_p95_us: Option<u64>,
    /// Conn-table entries at the second's end.
    pub table: u64,
    /// Half-open entries at the second's end.
    pub half_open: u64,
    /// Connections assigned to each backend in the second, in server order.
    pub backend_new: Vec<u64>,
    /// Active connections of each backend at the second's end.
    pub backend_active: Vec<u64>,
}

/// Every second of a run, kept in full when asked (`lblab run --series`):
/// unlike [`SeriesSet`], it grows with the run, so engines keep it only on
/// request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesLog {
    /// Backend names, in the order of the rows' backend columns.
    pub backends: Vec<String>,
    /// One row per simulated second.
    pub rows: Vec<SecondRow>,
    /// Each backend's connections assigned up to the last row: the engine
    /// keeps totals, a row holds one second's.
    #[serde(skip)]
    pub picks_before: Vec<u64>,
}

impl SeriesLog {
    /// The log as CSV: a header, then one line per second; per-reason
    /// drops and per-backend columns are named after their reason or
    /// backend.
    pub fn to_csv(&self) -> String {
        let mut head = vec![
            "second".to_string(),
            "new_conns".into(),
            "completed".into(),
            "failed".into(),
            "drops".into(),
        ];
        head.extend(
            DropReason::ALL
                .iter()
                .map(|r| format!("drops_{}", r.name())),
        );
        head.extend(["latency_samples", "latency_p95_us", "table", "half_open"].map(String::from));
        for b in &self.backends {
            head.push(format!("{}_new", crate::text::escape(b)));
            head.push(format!("{}_active", crate::text::escape(b)));
        }
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let _ = w.write_record(&head);
        for r in &self.rows {
            let mut f = vec![
                r.second.to_string(),
                r.new_conns.to_string(),
                r.completed.to_string(),
                r.failed.to_string(),
                r.drops.to_string(),
            ];
            f.extend(r.drops_by_reason.iter().map(u64::to_string));
            f.push(r.latency_samples.to_string());
            f.push(r.latency_p95_us.map_or(String::new(), |v| v.to_string()));
            f.push(r.table.to_string());
            f.push(r.half_open.to_string());
            // A backend added mid-run has empty fields before it existed.
            for i in 0..self.backends.len() {
                let cell = |v: &[u64]| v.get(i).map_or(String::new(), u64::to_string);
                f.push(cell(&r.backend_new));
                f.push(cell(&r.backend_active));
            }
            let _ = w.write_record(&f);
        }
        // Writing to memory cannot fail, and every field is UTF-8.
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The log as one JSON object: `{backends, drop_reasons, rows}`.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            backends: &'a [String],
            drop_reasons: Vec<&'static str>,
            rows: &'a [SecondRow],
        }
        let out = Out {
            backends: &self.backends,
            drop_reasons: DropReason::ALL.iter().map(|r| r.name()).collect(),
            rows: &self.rows,
        };
        // Plain numbers and strings always serialize.
        serde_json::to_string_pretty(&out).unwrap_or_default() + "\n"
    }
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

    #[test]
    fn latency_buckets_are_increasing_and_cover_every_value() {
        assert!(LATENCY_BOUNDS_US.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(LATENCY_BOUNDS_US[0], 10);
        assert_eq!(LATENCY_BOUNDS_US[6], 100);
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(10), 0);
        assert_eq!(latency_bucket(11), 1);
        assert_eq!(latency_bucket(4_100), latency_bucket(5_000));
        assert_eq!(latency_bucket(u64::MAX), LATENCY_BUCKETS - 1);
    }

    #[test]
    fn the_histogram_window_slides_and_finds_quantiles() {
        let mut r = RecentLatency::default();
        for _ in 0..99 {
            r.record(4_100);
        }
        r.record(1_000_000);
        let (n, h) = r.end_second();
        assert_eq!((n, h.total(), h.seconds), (100, 100, 1));
        assert_eq!(h.bucket_of_quantile(0.5), Some(latency_bucket(4_100)));
        assert_eq!(h.bucket_of_quantile(0.99), Some(latency_bucket(4_100)));
        assert_eq!(h.bucket_of_quantile(1.0), Some(latency_bucket(1_000_000)));
        for _ in 0..HISTOGRAM_SECONDS {
            assert_eq!(r.end_second().0, 0);
        }
        let (_, h) = r.end_second();
        assert_eq!(h.total(), 0, "the old second left the window");
        assert_eq!(h.bucket_of_quantile(0.5), None);
    }
}
