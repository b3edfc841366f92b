//! A latency histogram that keeps its exact extremes: what engines record
//! handshakes, segments, completions and detections in.

use super::Percentiles;
use crate::model::SimDuration;
use hdrhistogram::Histogram;

/// Highest latency a histogram records, in microseconds (one day); longer
/// values are clamped so nothing is lost.
const MAX_MICROS: u64 = 86_400_000_000;

/// A latency histogram in microseconds (three significant figures), with
/// the exact smallest and largest samples kept beside it so no reported
/// figure lies outside what was really seen.
#[derive(Clone, Debug)]
pub struct Latency {
    hist: Histogram<u64>,
    min: SimDuration,
    max: SimDuration,
}

impl Latency {
    /// An empty histogram with `sigfig` significant figures (1 to 5).
    pub fn new(sigfig: u8) -> Latency {
        Latency {
            // Bounds and sigfig are constants that hdrhistogram accepts.
            hist: Histogram::new_with_bounds(1, MAX_MICROS, sigfig)
                .expect("valid histogram bounds"),
            min: SimDuration::from_nanos(u64::MAX),
            max: SimDuration::ZERO,
        }
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, d: SimDuration) {
        let us = (d.as_nanos() / 1_000).clamp(1, MAX_MICROS);
        // Clamped into bounds above, so recording cannot fail.
        let _ = self.hist.record(us);
        self.min = self.min.min(d);
        self.max = self.max.max(d);
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The value at quantile `q` (0..=1), if any sample was recorded: the
    /// middle of its histogram bucket, kept within the exact extremes.
    pub fn quantile(&self, q: f64) -> Option<SimDuration> {
        (self.count() > 0).then(|| {
            let us = self.hist.median_equivalent(self.hist.value_at_quantile(q));
            SimDuration::from_micros(us).clamp(self.min, self.max)
        })
    }

    /// The largest sample, exactly.
    pub fn max(&self) -> Option<SimDuration> {
        (self.count() > 0).then_some(self.max)
    }

    /// The mean.
    pub fn mean(&self) -> Option<SimDuration> {
        (self.count() > 0).then(|| SimDuration::from_secs_f64(self.hist.mean() / 1e6))
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        self.hist.reset();
        self.min = SimDuration::from_nanos(u64::MAX);
        self.max = SimDuration::ZERO;
    }

    /// p50, p95, p99 and max in one summary.
    pub fn summary(&self) -> Percentiles {
        Percentiles {
            count: self.count(),
            p50: self.quantile(0.50),
            p95: self.quantile(0.95),
            p99: self.quantile(0.99),
            max: self.max(),
            mean: self.mean(),
        }
    }
}

impl Default for Latency {
    /// Three significant figures.
    fn default() -> Latency {
        Latency::new(3)
    }
}
