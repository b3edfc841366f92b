//! The weighted least-connection family of Linux IPVS (`ipvsadm -s wlc`,
//! `sed`, `nq`), with ties broken uniformly at random.
//!
//! - Weighted least connections (wlc) takes the lowest `load / weight`.
//! - Shortest expected delay (sed) takes the lowest `(load + 1) / weight`:
//!   the delay a new connection would expect if a backend serves its
//!   connections at a rate in proportion to its weight. It differs from
//!   wlc when backends are idle or nearly so: of weights 1 and 10 with
//!   loads 0 and 1, wlc picks the idle weight-1 backend (0/1 < 1/10) and
//!   sed the busy weight-10 one (2/10 < 1/1).
//! - Never queue (nq) takes an idle backend if there is one, and otherwise
//!   does as sed. IPVS takes the first idle backend of its list; this one
//!   takes an idle backend at random, so that the first in the table does
//!   not take every connection under light traffic.
//!
//! Ratios are compared exactly, in integers: `a / w < b / v` as
//! `a × v < b × w` in 64 bits (a load of at most 2^32 times a weight below
//! 2^32 cannot overflow). A backend of weight 0 takes no new connections,
//! and with no eligible backend of weight above 0 there is no pick.
//!
//! The load is `BackendView::load`: established and half-open connections,
//! each counting one. IPVS's wlc counts an established ("active")
//! connection as 256 inactive ones and its sed and nq count established
//! connections only; lblab counts a half-open connection as the work it
//! may soon become.

use super::BackendView;
use super::least_connections::lowest_by;
use std::cmp::Ordering;

/// IPVS wlc: the eligible backend of weight above 0 with the lowest
/// `load / weight`; ties are broken uniformly at random by `entropy`.
#[inline]
pub fn pick_wlc(backends: &[BackendView], entropy: u64) -> Option<usize> {
    lowest_by(backends, entropy, |b| Ratio::of(b, u64::from(b.load())))
}

/// IPVS sed: the eligible backend of weight above 0 with the lowest
/// `(load + 1) / weight`; ties are broken uniformly at random by `entropy`.
#[inline]
pub fn pick_sed(backends: &[BackendView], entropy: u64) -> Option<usize> {
    lowest_by(backends, entropy, |b| Ratio::of(b, u64::from(b.load()) + 1))
}

/// IPVS nq: an idle (load 0) eligible backend of weight above 0, drawn
/// uniformly at random by `entropy` whatever the weights, or if none is
/// idle, what [`pick_sed`] picks.
#[inline]
pub fn pick_nq(backends: &[BackendView], entropy: u64) -> Option<usize> {
    super::least_connections::lowest(backends, entropy, |b| {
        (b.eligible() && b.weight > 0 && b.load() == 0).then_some(0)
    })
    .or_else(|| pick_sed(backends, entropy))
}

/// `cost / weight` for an eligible backend of weight above 0, ordered by
/// exact cross-multiplication. Equal ratios (such as 1/2 and 2/4) are
/// equal, so the order is total and ties are real ties.
#[derive(Clone, Copy, Debug)]
struct Ratio {
    cost: u64,
    weight: u64,
}

impl Ratio {
    /// The ratio of backend `b` with `cost` (at most 2^32), or none if it
    /// takes no new connections.
    #[inline]
    fn of(b: &BackendView, cost: u64) -> Option<Ratio> {
        (b.eligible() && b.weight > 0).then_some(Ratio {
            cost,
            weight: u64::from(b.weight),
        })
    }
}

impl Ord for Ratio {
    #[inline]
    fn cmp(&self, other: &Ratio) -> Ordering {
        // cost <= 2^32 and weight < 2^32: the products fit in 64 bits.
        (self.cost * other.weight).cmp(&(other.cost * self.weight))
    }
}

impl PartialOrd for Ratio {
    #[inline]
    fn partial_cmp(&self, other: &Ratio) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ratio {
    #[inline]
    fn eq(&self, other: &Ratio) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ratio {}

#[cfg(test)]
mod tests {
    use super::super::least_connections::chi_square;
    use super::super::test_support::{pool, words};
    use super::*;

    type Pick = fn(&[BackendView], u64) -> Option<usize>;

    const ALL: [(&str, Pick); 3] = [("wlc", pick_wlc), ("sed", pick_sed), ("nq", pick_nq)];

    /// Backends of these weights and loads (established connections; a
    /// missing load is 0).
    fn table(weights: &[u32], loads: &[u32]) -> Vec<BackendView> {
        let mut b = pool(weights.len());
        for (i, v) in b.iter_mut().enumerate() {
            v.weight = weights[i];
            v.active = loads.get(i).copied().unwrap_or(0);
        }
        b
    }

    /// The loads after `picks` picks in a closed loop where every pick
    /// opens a connection and none closes.
    fn fill(pick: Pick, weights: &[u32], picks: usize, seed: u64) -> Vec<u32> {
        let mut backends = table(weights, &[]);
        for w in words(seed).take(picks) {
            let i = pick(&backends, w).unwrap();
            backends[i].active += 1;
        }
        backends.iter().map(|b| b.active).collect()
    }

    #[test]
    fn weights_are_honoured_under_load() {
        for (name, pick) in ALL {
            let loads = fill(pick, &[3, 1], 400, 1);
            assert!(loads[0].abs_diff(300) <= 2, "{name}: {loads:?}");
            let loads = fill(pick, &[1, 2, 5], 800, 2);
            for (l, want) in loads.iter().zip([100, 200, 500]) {
                assert!(l.abs_diff(want) <= 2, "{name}: {loads:?}");
            }
        }
    }

    #[test]
    fn the_ipvs_example_where_sed_and_wlc_differ() {
        // Weights 1 and 10, loads 0 and 1. wlc: 0/1 < 1/10, the idle light
        // backend. sed: (1+1)/10 < (0+1)/1, the busy heavy one. nq: the idle
        // one, because it is idle.
        let backends = table(&[1, 10], &[0, 1]);
        for w in words(3).take(200) {
            assert_eq!(pick_wlc(&backends, w), Some(0), "entropy {w:#x}");
            assert_eq!(pick_sed(&backends, w), Some(1), "entropy {w:#x}");
            assert_eq!(pick_nq(&backends, w), Some(0), "entropy {w:#x}");
        }
        // With no backend idle, nq does as sed: weights 1 and 10, loads 1
        // and 5: sed 2/1 against 6/10.
        let busy = table(&[1, 10], &[1, 5]);
        for w in words(4).take(200) {
            assert_eq!(pick_nq(&busy, w), Some(1), "entropy {w:#x}");
            assert_eq!(pick_wlc(&busy, w), Some(1), "entropy {w:#x}");
        }
    }

    #[test]
    fn never_queue_draws_among_the_idle_whatever_their_weights() {
        let seed = 5;
        let backends = table(&[1, 1, 5, 1, 0], &[0, 2, 0, 0, 0]);
        let mut counts = [0u64; 5];
        for w in words(seed).take(30_000) {
            counts[pick_nq(&backends, w).unwrap()] += 1;
        }
        assert_eq!((counts[1], counts[4]), (0, 0), "seed {seed}: {counts:?}");
        // 10 000 each within five standard deviations (about 410).
        for c in [counts[0], counts[2], counts[3]] {
            assert!(c.abs_diff(10_000) < 410, "seed {seed}: {counts:?}");
        }
    }

    #[test]
    fn weight_zero_is_never_picked() {
        let backends = table(&[0, 1], &[0, 100]);
        for (name, pick) in ALL {
            for w in words(6).take(200) {
                assert_eq!(pick(&backends, w), Some(1), "{name}, entropy {w:#x}");
            }
            assert_eq!(pick(&table(&[0, 0], &[0, 3]), 7), None, "{name}");
        }
    }

    #[test]
    fn skips_unhealthy_and_draining_backends() {
        let mut backends = table(&[1, 5, 1, 1], &[0, 0, 9, 8]);
        backends[0].healthy = false;
        backends[1].draining = true;
        for (name, pick) in ALL {
            for w in words(8).take(300) {
                assert_eq!(pick(&backends, w), Some(3), "{name}, entropy {w:#x}");
            }
        }
    }

    #[test]
    fn none_on_an_empty_or_all_ineligible_pool() {
        let mut backends = pool(2);
        backends[0].healthy = false;
        backends[1].draining = true;
        for (name, pick) in ALL {
            assert_eq!(pick(&[], 7), None, "{name}");
            for w in words(9).take(100) {
                assert_eq!(pick(&backends, w), None, "{name}, entropy {w:#x}");
            }
        }
    }

    #[test]
    fn the_same_entropy_gives_the_same_pick() {
        let backends = table(&[1, 2, 1, 2], &[1, 2, 1, 2]);
        for (name, pick) in ALL {
            for w in words(10).take(200) {
                assert_eq!(pick(&backends, w), pick(&backends, w), "{name}, {w:#x}");
            }
        }
    }

    #[test]
    fn ties_in_the_ratio_are_broken_uniformly_at_random() {
        // Weights 1 and 2 alternate. wlc ties loads 1 and 2 (ratio 1); sed
        // ties loads 1 and 3 (ratio 2); nq, with none idle, does as sed.
        // Comparing loads alone would pick only the light half.
        let seed = 11;
        let weights: Vec<u32> = (0..100).map(|i| 1 + i % 2).collect();
        let wlc_loads: Vec<u32> = weights.clone();
        let sed_loads: Vec<u32> = weights.iter().map(|w| 2 * w - 1).collect();
        let cases: [(&str, Pick, &[u32]); 3] = [
            ("wlc", pick_wlc, &wlc_loads),
            ("sed", pick_sed, &sed_loads),
            ("nq", pick_nq, &sed_loads),
        ];
        for (name, pick, loads) in cases {
            let backends = table(&weights, loads);
            let mut counts = [0u64; 100];
            for w in words(seed).take(100_000) {
                counts[pick(&backends, w).unwrap()] += 1;
            }
            let chi = chi_square(&counts);
            assert!(chi < 190.0, "{name}, seed {seed}: chi {chi:.1}: {counts:?}");
            for c in counts {
                assert!(c.abs_diff(1_000) < 160, "{name}, seed {seed}: {counts:?}");
            }
        }
    }

    #[test]
    fn extreme_loads_and_weights_compare_exactly() {
        // (2^32 - 2) / (2^32 - 1) is just below 1/1; a float would call it
        // a tie, a 32-bit product would overflow.
        let backends = table(&[u32::MAX, 1], &[u32::MAX - 1, 1]);
        for w in words(12).take(100) {
            assert_eq!(pick_wlc(&backends, w), Some(0), "entropy {w:#x}");
        }
        // sed: 2^32 / (2^32 - 1) is just above (0 + 1) / 1, and load + 1
        // overflows 32 bits.
        let backends = table(&[u32::MAX, 1], &[u32::MAX, 0]);
        for w in words(13).take(100) {
            assert_eq!(pick_sed(&backends, w), Some(1), "entropy {w:#x}");
        }
        // (2^32 - 1) / (2^32 - 1) ties 1/1 exactly; a 1-in-2 split.
        let backends = table(&[u32::MAX, 1], &[u32::MAX - 1, 0]);
        let zeros = words(14)
            .take(1000)
            .filter(|&w| pick_sed(&backends, w) == Some(0))
            .count();
        assert!(zeros.abs_diff(500) < 80, "{zeros} of 1000");
    }
}
