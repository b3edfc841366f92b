//! Random: a uniformly random eligible backend.

use super::{BackendView, random_eligible};

/// A uniformly random eligible backend, drawn from `entropy`.
#[inline]
pub fn pick(backends: &[BackendView], entropy: u64) -> Option<usize> {
    random_eligible(backends, entropy as u32, (entropy >> 32) as u32)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{pool, words};
    use super::*;

    #[test]
    fn spreads_evenly_over_many_picks() {
        let backends = pool(4);
        let mut counts = [0u32; 4];
        for w in words(5).take(40_000) {
            counts[pick(&backends, w).unwrap()] += 1;
        }
        // Each share is 10 000 +- 4 standard deviations (about 87).
        for c in counts {
            assert!((9_650..=10_350).contains(&c), "{counts:?}");
        }
    }
}
