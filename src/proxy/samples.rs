//! The most recent durations of something (probe round trips, connects to a
//! backend), kept in a small ring so a percentile of recent behaviour costs
//! a sort of a few dozen numbers, and old history fades by itself.

use std::sync::Mutex;
use std::time::Duration;

/// Samples kept per ring.
pub const RECENT: usize = 64;

/// The last [`RECENT`] durations, in microseconds.
#[derive(Debug, Default)]
pub struct Recent {
    ring: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    values: Vec<u32>,
    next: usize,
}

impl Recent {
    /// Records one duration.
    pub fn record(&self, d: Duration) {
        let micros = u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.values.len() < RECENT {
            ring.values.push(micros);
        } else {
            let at = ring.next;
            ring.values[at] = micros;
        }
        ring.next = (ring.next + 1) % RECENT;
    }

    /// The `q` quantile (0 to 1) of the recent samples, by nearest rank;
    /// `None` before the first.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let mut values = self.micros();
        values.sort_unstable();
        quantile_of_sorted(&values, q)
    }

    /// The recent samples in microseconds, in no particular order.
    pub fn micros(&self) -> Vec<u32> {
        self.ring
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values
            .clone()
    }
}

/// The `q` quantile of sorted microsecond samples, by nearest rank.
pub fn quantile_of_sorted(sorted: &[u32], q: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize).max(1);
    Some(Duration::from_micros(u64::from(sorted[rank - 1])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p95_of_a_hundred_is_the_ninety_fifth_and_old_samples_fade() {
        let r = Recent::default();
        assert_eq!(r.quantile(0.95), None);
        for ms in 1..=20 {
            r.record(Duration::from_millis(ms));
        }
        assert_eq!(r.quantile(0.95), Some(Duration::from_millis(19)));
        assert_eq!(r.quantile(0.5), Some(Duration::from_millis(10)));
        // A run of fast samples pushes the slow ones out of the ring.
        for _ in 0..RECENT {
            r.record(Duration::from_micros(300));
        }
        assert_eq!(r.quantile(0.95), Some(Duration::from_micros(300)));
    }
}
