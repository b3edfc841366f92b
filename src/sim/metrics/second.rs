//! The segment latencies of the second being counted, for its p95: kept
//! as plain samples, so recording one costs an append and the p95 is
//! exact. Memory stays bounded: past [`MAX_SAMPLES`] in one second, every
//! other sample is kept, then every fourth, and so on.

/// Samples kept in one second at most.
pub const MAX_SAMPLES: usize = 1 << 16;

/// Latencies of one second, in microseconds.
#[derive(Clone, Debug, Default)]
pub struct SecondSamples {
    kept: Vec<u64>,
    /// Keep one sample of every `stride` (a power of two).
    stride: u64,
    seen: u64,
}

impl SecondSamples {
    /// Records one latency.
    #[inline]
    pub fn record(&mut self, micros: u64) {
        let stride = self.stride.max(1);
        if self.seen & (stride - 1) == 0 {
            if self.kept.len() == MAX_SAMPLES {
                // Full: keep every other sample from now on.
                let mut i = 0;
                self.kept.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride = stride * 2;
                self.seen += 1;
                return;
            }
            self.kept.push(micros);
        }
        self.seen += 1;
    }

    /// The 95th percentile of the second's samples (0 when none), and a
    /// fresh start for the next second.
    pub fn take_p95(&mut self) -> u64 {
        let n = self.kept.len();
        let p95 = if n == 0 {
            0
        } else {
            let rank = (n * 95).div_ceil(100).max(1) - 1;
            *self.kept.select_nth_unstable(rank).1
        };
        self.kept.clear();
        self.stride = 1;
        self.seen = 0;
        p95
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p95_is_the_exact_rank_of_the_second() {
        let mut s = SecondSamples::default();
        for us in (1..=100).rev() {
            s.record(us);
        }
        assert_eq!(s.take_p95(), 95);
        assert_eq!(s.take_p95(), 0, "a new second starts empty");
        s.record(4_100);
        assert_eq!(s.take_p95(), 4_100);
    }

    #[test]
    fn a_flood_of_samples_stays_bounded_and_representative() {
        let mut s = SecondSamples::default();
        // Four seconds' worth of a uniform 0..1000 us in one second.
        let n = 4 * MAX_SAMPLES as u64;
        for i in 0..n {
            s.record(i * 7919 % 1000);
            assert!(s.kept.len() <= MAX_SAMPLES);
        }
        let p95 = s.take_p95();
        assert!((940..=960).contains(&p95), "{p95}");
    }
}
