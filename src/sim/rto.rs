//! The retransmission timeout: fixed, as in the source design, or estimated
//! from round-trip samples with exponential backoff (RFC 6298).

use crate::model::SimDuration;
use crate::spec::RetransmitMode;

/// Clock granularity G of RFC 6298 section 2: the variance term never adds
/// less than this.
const GRANULARITY: SimDuration = SimDuration::from_millis(1);

/// Most doublings applied; 2^10 times the base is already far past any
/// timeout a lab uses.
const MAX_BACKOFF_SHIFT: u32 = 10;

/// Round-trip estimate and backoff of one connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtoEstimator {
    /// Smoothed RTT in ns; 0 until the first sample.
    srtt: u64,
    /// RTT variation in ns.
    rttvar: u64,
    /// Doublings since the last valid sample.
    shift: u32,
}

impl RtoEstimator {
    /// The timeout to arm now. `base` is the fixed timeout for this kind of
    /// segment (SYN or data), used as-is in fixed mode and as the initial
    /// RTO before any sample in RFC 6298 mode.
    pub fn timeout(&self, base: SimDuration, mode: RetransmitMode) -> SimDuration {
        match mode {
            RetransmitMode::Fixed => base,
            RetransmitMode::Rfc6298 { min_rto, max_rto } => {
                let (min, max) = (min_rto.get().as_nanos(), max_rto.get().as_nanos().max(1));
                let rto = if self.srtt == 0 {
                    base.as_nanos()
                } else {
                    // RFC 6298 (2.3): RTO = SRTT + max(G, 4 * RTTVAR).
                    self.srtt + (4 * self.rttvar).max(GRANULARITY.as_nanos())
                };
                let rto = rto.clamp(min.min(max), max);
                SimDuration::from_nanos(rto.saturating_mul(1 << self.shift).min(max))
            }
        }
    }

    /// Feeds a round-trip sample from a segment that was not retransmitted
    /// (Karn's rule is the caller's: never sample a retransmitted segment).
    pub fn sample(&mut self, rtt: SimDuration) {
        let r = rtt.as_nanos();
        if self.srtt == 0 {
            // RFC 6298 (2.2): first measurement.
            self.srtt = r.max(1);
            self.rttvar = r / 2;
        } else {
            // RFC 6298 (2.3), alpha = 1/8, beta = 1/4.
            let delta = self.srtt.abs_diff(r);
            self.rttvar = (3 * self.rttvar + delta) / 4;
            self.srtt = ((7 * self.srtt + r) / 8).max(1);
        }
        self.shift = 0;
    }

    /// Doubles the timeout after a retransmission (RFC 6298 5.5).
    pub fn back_off(&mut self) {
        self.shift = (self.shift + 1).min(MAX_BACKOFF_SHIFT);
    }

    /// The smoothed RTT, once there is a sample.
    pub fn srtt(&self) -> Option<SimDuration> {
        (self.srtt > 0).then_some(SimDuration::from_nanos(self.srtt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Dur;

    fn rfc() -> RetransmitMode {
        RetransmitMode::Rfc6298 {
            min_rto: Dur::from_millis(200),
            max_rto: Dur::from_secs(60),
        }
    }

    #[test]
    fn fixed_mode_never_moves() {
        let mut e = RtoEstimator::default();
        e.sample(SimDuration::from_millis(4));
        e.back_off();
        let base = SimDuration::from_millis(700);
        assert_eq!(e.timeout(base, RetransmitMode::Fixed), base);
    }

    #[test]
    fn rfc6298_starts_at_base_then_follows_samples() {
        let mut e = RtoEstimator::default();
        let base = SimDuration::from_secs(1);
        assert_eq!(e.timeout(base, rfc()), base);
        e.sample(SimDuration::from_millis(100));
        // SRTT 100 ms, RTTVAR 50 ms: 100 + 4 * 50 = 300 ms.
        assert_eq!(e.timeout(base, rfc()), SimDuration::from_millis(300));
        e.sample(SimDuration::from_millis(100));
        // RTTVAR 37.5 ms: 100 + 150 = 250 ms.
        assert_eq!(e.timeout(base, rfc()), SimDuration::from_millis(250));
    }

    #[test]
    fn rfc6298_clamps_to_the_minimum() {
        let mut e = RtoEstimator::default();
        for _ in 0..50 {
            e.sample(SimDuration::from_millis(4));
        }
        assert_eq!(
            e.timeout(SimDuration::from_secs(1), rfc()),
            SimDuration::from_millis(200)
        );
    }

    #[test]
    fn backoff_doubles_until_a_new_sample() {
        let mut e = RtoEstimator::default();
        let base = SimDuration::from_millis(500);
        e.back_off();
        assert_eq!(e.timeout(base, rfc()), SimDuration::from_secs(1));
        e.back_off();
        assert_eq!(e.timeout(base, rfc()), SimDuration::from_secs(2));
        e.sample(SimDuration::from_millis(100));
        assert_eq!(e.timeout(base, rfc()), SimDuration::from_millis(300));
    }

    #[test]
    fn backoff_stops_at_the_maximum() {
        let mut e = RtoEstimator::default();
        for _ in 0..40 {
            e.back_off();
        }
        assert_eq!(
            e.timeout(SimDuration::from_secs(1), rfc()),
            SimDuration::from_secs(60)
        );
    }
}
