//! A latency histogram that keeps its exact extremes: what engines record
//! handshakes, segments, completions and detections in.

use super::Percentiles;
use crate::model::SimDuration;
use hdrhistogram::Histogram;
use std::cell::{Cell, Ref, RefCell};

/// Highest latency a histogram records, in microseconds (one day); longer
/// values are clamped so nothing is lost.
const MAX_MICROS: u64 = 86_400_000_000;

/// A latency histogram in microseconds (three significant figures), with
/// the exact smallest and largest samples kept beside it so no reported
/// figure lies outside what was really seen.
///
/// Equal samples in a row are counted as a run and enter the histogram
/// together when a different one arrives or someone reads it: in a lab of
/// constants every segment takes the same time, and a histogram update
/// costs several times a count. The histogram read is the same as if
/// each sample had gone in alone.
#[derive(Clone, Debug)]
pub struct Latency {
    hist: RefCell<Histogram<u64>>,
    /// The run of equal samples not yet in `hist`: (microseconds, count).
    run: Cell<(u64, u64)>,
    min: SimDuration,
    max: SimDuration,
}

impl Latency {
    /// An empty histogram with `sigfig` significant figures (1 to 5).
    pub fn new(sigfig: u8) -> Latency {
        Latency {
            // Bounds and sigfig are constants that hdrhistogram accepts.
            hist: RefCell::new(
                Histogram::new_with_bounds(1, MAX_MICROS, sigfig).expect("valid histogram bounds"),
            ),
            run: Cell::new((0, 0)),
            min: SimDuration::from_nanos(u64::MAX),
            max: SimDuration::ZERO,
        }
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, d: SimDuration) {
        let us = (d.as_nanos() / 1_000).clamp(1, MAX_MICROS);
        let run = self.run.get_mut();
        if run.0 == us {
            run.1 += 1;
        } else {
            let (value, count) = std::mem::replace(run, (us, 1));
            if count > 0 {
                // Clamped into bounds, so recording cannot fail.
                let _ = self.hist.get_mut().record_n(value, count);
            }
        }
        self.min = self.min.min(d);
        self.max = self.max.max(d);
    }

    /// The histogram with the pending run in it.
    fn hist(&self) -> Ref<'_, Histogram<u64>> {
        let (value, count) = self.run.get();
        if count > 0 {
            // Clamped into bounds when recorded, so this cannot fail.
            let _ = self.hist.borrow_mut().record_n(value, count);
            self.run.set((value, 0));
        }
        self.hist.borrow()
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.hist().len()
    }

    /// The value at quantile `q` (0..=1), if any sample was recorded: the
    /// middle of its histogram bucket, kept within the exact extremes.
    pub fn quantile(&self, q: f64) -> Option<SimDuration> {
        (self.count() > 0).then(|| {
            let hist = self.hist();
            let us = hist.median_equivalent(hist.value_at_quantile(q));
            SimDuration::from_micros(us).clamp(self.min, self.max)
        })
    }

    /// The largest sample, exactly.
    pub fn max(&self) -> Option<SimDuration> {
        (self.count() > 0).then_some(self.max)
    }

    /// The mean.
    pub fn mean(&self) -> Option<SimDuration> {
        (self.count() > 0).then(|| SimDuration::from_secs_f64(self.hist().mean() / 1e6))
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        self.hist.get_mut().reset();
        self.run.set((0, 0));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The percentiles of samples recorded one by one into a plain
    /// histogram, as `Latency` reports them.
    fn plain(samples: &[u64]) -> Vec<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, MAX_MICROS, 3).expect("bounds");
        for &us in samples {
            h.record(us).expect("in bounds");
        }
        [0.5, 0.9, 0.95, 0.99, 1.0]
            .iter()
            .map(|&q| h.median_equivalent(h.value_at_quantile(q)))
            .chain([h.len(), h.mean().to_bits()])
            .collect()
    }

    fn summarised(l: &Latency) -> Vec<u64> {
        let h = l.hist();
        [0.5, 0.9, 0.95, 0.99, 1.0]
            .iter()
            .map(|&q| h.median_equivalent(h.value_at_quantile(q)))
            .chain([h.len(), h.mean().to_bits()])
            .collect()
    }

    #[test]
    fn runs_of_equal_samples_read_as_if_each_went_in_alone() {
        // Runs of several lengths, a value coming back after another, and
        // reads in the middle of a run (which must not count it twice).
        let samples: Vec<u64> = [(2_100, 5), (2_100, 1), (9_000, 3), (2_100, 4), (40, 1)]
            .iter()
            .flat_map(|&(us, n)| std::iter::repeat_n(us, n))
            .collect();
        let mut l = Latency::default();
        for (i, &us) in samples.iter().enumerate() {
            l.record(SimDuration::from_micros(us));
            if i % 3 == 0 {
                assert_eq!(summarised(&l), plain(&samples[..=i]), "after sample {i}");
            }
        }
        assert_eq!(summarised(&l), plain(&samples));
        assert_eq!(l.count(), samples.len() as u64);
        // A run still pending when the histogram is reset goes too.
        l.record(SimDuration::from_micros(9_000));
        l.record(SimDuration::from_micros(9_000));
        l.reset();
        assert_eq!(l.count(), 0);
        l.record(SimDuration::from_micros(40));
        assert_eq!(summarised(&l), plain(&[40]));
    }
}
