//! Least requests: the eligible backend with the fewest requests
//! outstanding (sent and not yet answered, queued or in service), ties
//! broken uniformly at random. Where least connections counts open
//! connections, this counts work in flight: a backend holding many idle
//! keep-alive connections but answering quickly is not held against them.
//! Envoy's and gRPC's least-request balancers count the same thing, though
//! they compare a few random backends (two by default) rather than all.

use super::BackendView;
use super::least_connections::lowest;

/// The eligible backend with the fewest `outstanding` requests; ties are
/// broken uniformly at random by `entropy`.
#[inline]
pub fn pick(backends: &[BackendView], entropy: u64) -> Option<usize> {
    lowest(backends, entropy, |b| b.eligible().then_some(b.outstanding))
}

#[cfg(test)]
mod tests {
    use super::super::least_connections::chi_square;
    use super::super::test_support::{pool, words};
    use super::*;

    #[test]
    fn prefers_the_fewest_outstanding_not_the_fewest_connections() {
        let mut backends = pool(3);
        backends[0].outstanding = 4;
        backends[1].outstanding = 1;
        backends[1].active = 50;
        backends[2].outstanding = 2;
        for w in words(1).take(300) {
            assert_eq!(pick(&backends, w), Some(1), "entropy {w:#x}");
        }
    }

    #[test]
    fn skips_unhealthy_and_draining_backends() {
        let mut backends = pool(4);
        backends[0].healthy = false;
        backends[1].draining = true;
        backends[2].outstanding = 3;
        backends[3].outstanding = 2;
        for w in words(2).take(500) {
            assert_eq!(pick(&backends, w), Some(3), "entropy {w:#x}");
        }
    }

    #[test]
    fn none_on_an_empty_or_all_ineligible_pool() {
        assert_eq!(pick(&[], 7), None);
        let mut backends = pool(2);
        backends[0].healthy = false;
        backends[1].draining = true;
        for w in words(3).take(200) {
            assert_eq!(pick(&backends, w), None, "entropy {w:#x}");
        }
    }

    #[test]
    fn the_same_entropy_gives_the_same_pick() {
        let backends = pool(20);
        for w in words(4).take(200) {
            assert_eq!(pick(&backends, w), pick(&backends, w), "entropy {w:#x}");
        }
    }

    #[test]
    fn ties_are_broken_uniformly_at_random() {
        let seed = 5;
        let mut backends = pool(100);
        // Connections differ but requests tie: only requests count.
        for (i, b) in backends.iter_mut().enumerate() {
            b.active = i as u32;
            b.outstanding = 2;
        }
        let mut counts = [0u64; 100];
        for w in words(seed).take(100_000) {
            counts[pick(&backends, w).unwrap()] += 1;
        }
        let chi = chi_square(&counts);
        assert!(chi < 190.0, "seed {seed}: chi-square {chi:.1}: {counts:?}");
        // 1000 each, within five standard deviations (about 160).
        for c in counts {
            assert!((840..=1_160).contains(&c), "seed {seed}: {counts:?}");
        }
    }
}
