//! Power of two choices: two random eligible backends, the less loaded wins
//! (Mitzenmacher, 2001).

use super::{BackendView, random_eligible};

/// Two draws from `entropy` (its two halves); the less loaded wins and the
/// first draw wins a tie.
#[inline]
pub fn pick(backends: &[BackendView], entropy: u64) -> Option<usize> {
    let (a, b) = draws(backends, entropy)?;
    Some(if backends[b].load() < backends[a].load() {
        b
    } else {
        a
    })
}

/// The two random eligible backends a pick draws from `entropy` (its two
/// halves), first draw first; peak EWMA draws the same way.
#[inline]
pub(super) fn draws(backends: &[BackendView], entropy: u64) -> Option<(usize, usize)> {
    let a = random_eligible(backends, entropy as u32, 0x9e37_79b9)?;
    let b = random_eligible(backends, (entropy >> 32) as u32, 0x7f4a_7c15)?;
    Some((a, b))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{pool, words};
    use super::*;

    #[test]
    fn never_picks_the_most_loaded_of_two() {
        let mut backends = pool(2);
        backends[0].active = 10;
        for w in words(9).take(1000) {
            let p = pick(&backends, w).unwrap();
            // With two backends, only a double draw of the busy one picks it.
            let a = super::super::reduce(w as u32, 2);
            let b = super::super::reduce((w >> 32) as u32, 2);
            if a == 0 && b == 0 {
                assert_eq!(p, 0);
            } else {
                assert_eq!(p, 1);
            }
        }
    }

    #[test]
    fn prefers_the_least_loaded_over_many_picks() {
        let mut backends = pool(10);
        backends[7].active = 100;
        let mut hits = [0u32; 10];
        for w in words(21).take(10_000) {
            hits[pick(&backends, w).unwrap()] += 1;
        }
        // The loaded backend wins only when both draws land on it: 1 in 100.
        assert!(hits[7] < 200, "{hits:?}");
        for (i, h) in hits.iter().enumerate() {
            if i != 7 {
                assert!(*h > 900, "{hits:?}");
            }
        }
    }
}
