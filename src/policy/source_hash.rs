//! Source hashing by modulo (IPVS `sh`): the flow's hash modulo the total
//! weight of the eligible backends picks a slot, and each backend owns as
//! many consecutive slots as its weight.
//!
//! A client keeps its backend while the pool stands still, but any change
//! to the eligible set changes the modulus and remaps almost every key:
//! with N equal backends, one leaving moves about (N − 1)/N of the clients,
//! against about 1/N for a ring or Maglev. That contrast is the lesson.
//!
//! The reduction is a true modulo, not Lemire's multiply-shift: the latter
//! maps the hash onto the slots in order (slot = ⌊hash × total / 2⁶⁴⌋), so
//! going from N to N − 1 slots shifts interval boundaries only a little and
//! moves about half the keys, not (N − 1)/N; that would teach the wrong
//! figure. One 64-bit division per pick is small beside the two O(n)
//! passes.

use super::BackendView;

/// Index of the backend for a flow of hash `hash`: modulo hashing over the
/// eligible backends, a backend of weight w taking w shares and weight 0
/// none. None if no eligible backend has a weight.
#[inline]
pub fn pick(backends: &[BackendView], hash: u64) -> Option<usize> {
    // u64: 10 000 weights of up to u32::MAX cannot overflow it.
    let total: u64 = backends
        .iter()
        .filter(|b| b.eligible())
        .map(|b| u64::from(b.weight))
        .sum();
    if total == 0 {
        return None;
    }
    let mut slot = hash % total;
    for (i, b) in backends.iter().enumerate() {
        if !b.eligible() {
            continue;
        }
        let w = u64::from(b.weight);
        if slot < w {
            return Some(i);
        }
        slot -= w;
    }
    // The slot is below the total just summed, so the loop returned.
    unreachable!("slot beyond the total weight")
}

#[cfg(test)]
mod tests {
    use super::super::Selector;
    use super::super::disruption::{moved_share, sample_keys};
    use super::super::flow_hash;
    use super::super::test_support::{pool, words};
    use super::*;
    use crate::spec::Algorithm;

    fn weighted(weights: &[u32]) -> Vec<BackendView> {
        let mut b = pool(weights.len());
        for (v, w) in b.iter_mut().zip(weights) {
            v.weight = *w;
        }
        b
    }

    fn shares(backends: &[BackendView], keys: usize) -> Vec<f64> {
        let mut counts = vec![0usize; backends.len()];
        for ip in sample_keys(keys) {
            counts[pick(backends, flow_hash::of_ip(ip)).unwrap()] += 1;
        }
        counts.iter().map(|&c| c as f64 / keys as f64).collect()
    }

    #[test]
    fn shares_follow_weights() {
        let s = shares(&weighted(&[1, 2, 3, 4]), 100_000);
        for (i, want) in [0.1, 0.2, 0.3, 0.4].into_iter().enumerate() {
            // Sampling alone spreads a share by about 0.15 points.
            assert!((s[i] - want).abs() < 0.01, "backend {i}: {s:?}");
        }
    }

    #[test]
    fn weight_zero_unhealthy_and_draining_backends_take_nothing() {
        let mut backends = weighted(&[1, 0, 3, 1, 2, 1]);
        backends[3].healthy = false;
        backends[4].draining = true;
        let s = shares(&backends, 20_000);
        assert_eq!((s[1], s[3], s[4]), (0.0, 0.0, 0.0), "{s:?}");
        // The rest still share by weight: 1, 3, 1 of 5.
        assert!((s[2] - 0.6).abs() < 0.02, "{s:?}");
        assert!((s[0] - 0.2).abs() < 0.02, "{s:?}");
    }

    #[test]
    fn empty_ineligible_and_weightless_pools_give_none() {
        assert_eq!(pick(&[], 42), None);
        let mut backends = pool(3);
        backends[0].healthy = false;
        backends[1].draining = true;
        backends[2].healthy = false;
        assert_eq!(pick(&backends, 42), None);
        assert_eq!(pick(&weighted(&[0, 0]), 42), None);
        // Only the weight-0 backend is eligible: still none.
        let mut backends = weighted(&[0, 5]);
        backends[1].draining = true;
        assert_eq!(pick(&backends, 42), None);
    }

    #[test]
    fn the_same_hash_gives_the_same_backend() {
        let backends = weighted(&[2, 1, 7, 3]);
        for h in words(9).take(1000) {
            assert_eq!(pick(&backends, h), pick(&backends, h));
        }
        // Through the Selector too, which keeps no state for this one.
        let mut s = Selector::new(Algorithm::SourceHash);
        let flow = super::super::test_support::flow();
        let first = s.pick(&backends, &flow, 1).unwrap();
        assert!((0..100).all(|e| s.pick(&backends, &flow, e) == Ok(first)));
    }

    #[test]
    fn slots_are_the_hash_modulo_the_total_weight() {
        // Weights 2, 1 (one ineligible between): slots 0 and 1 to backend
        // 0, slot 2 to backend 2.
        let mut backends = weighted(&[2, 4, 1]);
        backends[1].healthy = false;
        assert_eq!(pick(&backends, 3), Some(0));
        assert_eq!(pick(&backends, 4), Some(0));
        assert_eq!(pick(&backends, 5), Some(2));
        assert_eq!(pick(&backends, u64::MAX), Some(0)); // 2⁶⁴ − 1 ≡ 0 mod 3
    }

    #[test]
    fn one_backend_leaving_remaps_nearly_every_key() {
        // Modulo hashing keeps a key only when hash mod N and hash mod
        // (N − 1) name the same backend: about 1/N of keys stay.
        let keys = sample_keys(100_000);
        for n in [10usize, 20, 50, 100] {
            let before = pool(n);
            let mut after = before.clone();
            after[n / 2].healthy = false;
            let moved = moved_share(Algorithm::SourceHash, &before, &after, &keys);
            let want = (n - 1) as f64 / n as f64;
            assert!(
                (moved.share() - want).abs() < 0.01,
                "N = {n}: moved {moved}, expected about {want:.3}"
            );
        }
    }
}
