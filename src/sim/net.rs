//! Links: one-way delay, jitter and loss, changeable while packets fly, with
//! the counters that prove every packet is accounted for.

use crate::engine::LinkStats;
use crate::model::SimDuration;
use crate::spec::LinkSpec;
use rand::Rng;

/// A link's behaviour and counters.
#[derive(Clone, Debug)]
pub struct Link {
    /// Delay, jitter and loss now in force.
    pub spec: LinkSpec,
    /// What the link has carried.
    pub stats: LinkStats,
}

impl Link {
    /// A link behaving as `spec`, with zeroed counters.
    pub fn new(spec: LinkSpec) -> Link {
        Link {
            spec,
            stats: LinkStats::default(),
        }
    }

    /// Puts a packet of `bytes` on the link: its transit time, or `None` if
    /// the link loses it. Draws randomness only when loss or jitter is on, so
    /// a clean link costs no random numbers.
    #[inline]
    pub fn transmit<R: Rng + ?Sized>(&mut self, bytes: u64, rng: &mut R) -> Option<SimDuration> {
        self.stats.sent += 1;
        self.stats.bytes += bytes;
        let loss = self.spec.loss.get();
        if loss > 0.0 && unit(rng) < loss {
            self.stats.lost += 1;
            return None;
        }
        self.stats.in_flight += 1;
        let jitter = self.spec.jitter.get().as_nanos();
        let extra = if jitter > 0 {
            rng.next_u64() % jitter
        } else {
            0
        };
        Some(SimDuration::from_nanos(
            self.spec.delay.get().as_nanos() + extra,
        ))
    }

    /// Records that a packet reached the far end.
    #[inline]
    pub fn arrived(&mut self) {
        self.stats.in_flight -= 1;
        self.stats.delivered += 1;
    }
}

/// A uniform float in `[0, 1)` from 53 random bits.
#[inline]
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Dur, Probability};
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    #[test]
    fn clean_link_delays_exactly() {
        let mut link = Link::new(LinkSpec::default());
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        assert_eq!(
            link.transmit(100, &mut rng),
            Some(SimDuration::from_millis(1))
        );
        assert_eq!(link.stats.in_flight, 1);
        link.arrived();
        assert!(link.stats.is_conserved());
        assert_eq!(link.stats.delivered, 1);
    }

    #[test]
    fn lossy_link_loses_about_its_loss_rate_and_conserves() {
        let spec = LinkSpec {
            loss: Probability::new(0.25).unwrap(),
            jitter: Dur::from_micros(500),
            ..LinkSpec::default()
        };
        let mut link = Link::new(spec);
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        for _ in 0..40_000 {
            if let Some(d) = link.transmit(40, &mut rng) {
                assert!(d >= SimDuration::from_millis(1));
                assert!(d < SimDuration::from_micros(1500));
            }
        }
        assert!(link.stats.is_conserved());
        // 10 000 expected, sd about 87.
        assert!(
            (9_600..10_400).contains(&link.stats.lost),
            "{:?}",
            link.stats
        );
    }
}
