//! Power of d choices: d eligible backends drawn at random (with
//! replacement, as in the standard model), the least loaded wins (Azar,
//! Broder, Karlin and Upfal, "Balanced allocations", 1999; Mitzenmacher,
//! 2001). Throwing n balls into n bins, one random choice leaves a fullest
//! bin of about ln n / ln ln n balls and d choices about ln ln n / ln d: the
//! second choice is the big step, each further one helps less and costs
//! another look at a backend. With d = 2 this is `power_of_two`.

use super::least_connections::mix64;
use super::{BackendView, random_eligible};

/// `d` random draws of eligible backends from `entropy`; the lowest `load()`
/// wins and the earliest draw wins a tie. The spec keeps d within 2..=16; a
/// d of 0 or 1 makes one draw, a uniformly random eligible backend.
#[inline]
pub fn pick(backends: &[BackendView], d: usize, entropy: u64) -> Option<usize> {
    let mut best = draw(backends, entropy, 0)?;
    let mut best_load = backends[best].load();
    for k in 1..d {
        if best_load == 0 {
            // No later draw can beat an idle backend.
            break;
        }
        // There is an eligible backend, so every draw finds one.
        let c = draw(backends, entropy, k)?;
        let load = backends[c].load();
        if load < best_load {
            best = c;
            best_load = load;
        }
    }
    Some(best)
}

/// Draw `k` of a pick: a uniformly random eligible backend from the `k`-th
/// word of the SplitMix64 sequence seeded by `entropy`, so the draws are
/// independent of one another.
#[inline]
pub(super) fn draw(backends: &[BackendView], entropy: u64, k: usize) -> Option<usize> {
    let z = mix64(entropy.wrapping_add((k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    random_eligible(backends, z as u32, (z >> 32) as u32)
}

#[cfg(test)]
mod tests {
    use super::super::least_connections::chi_square;
    use super::super::test_support::{pool, words};
    use super::*;

    #[test]
    fn the_loaded_backend_wins_only_when_every_draw_hits_it() {
        // Four backends, one loaded: it is picked with probability 4^-d.
        let seed = 1;
        let mut backends = pool(4);
        backends[2].active = 50;
        for (d, expected, sd) in [(2, 6_250.0, 77.0), (3, 1_562.5, 39.0), (8, 1.5, 1.3)] {
            let hits = words(seed)
                .take(100_000)
                .filter(|&w| pick(&backends, d, w) == Some(2))
                .count();
            assert!(
                (hits as f64 - expected).abs() < 5.0 * sd,
                "d {d}, seed {seed}: {hits} hits, expected {expected}"
            );
        }
    }

    #[test]
    fn a_very_loaded_backend_among_a_hundred_is_all_but_never_picked() {
        // Probability 100^-d: 10 in 100 000 picks for d = 2, 0.1 for d = 3.
        let seed = 2;
        let mut backends = pool(100);
        backends[37].active = 10_000;
        for (d, most) in [(2, 30), (3, 3), (8, 0)] {
            let hits = words(seed)
                .take(100_000)
                .filter(|&w| pick(&backends, d, w) == Some(37))
                .count();
            assert!(hits <= most, "d {d}, seed {seed}: {hits} hits");
        }
        // Two choices behave like power of two choices: same odds.
        let p2c = words(seed)
            .take(100_000)
            .filter(|&w| super::super::power_of_two::pick(&backends, w) == Some(37))
            .count();
        assert!(p2c <= 30, "power of two, seed {seed}: {p2c} hits");
    }

    /// The fullest of `bins` bins after `balls` balls, each placed by a
    /// pick of `d` choices.
    fn fullest(bins: usize, balls: usize, d: usize, seed: u64) -> u32 {
        let mut backends = pool(bins);
        for w in words(seed).take(balls) {
            let i = pick(&backends, d, w).unwrap();
            backends[i].active += 1;
        }
        backends.iter().map(|b| b.active).max().unwrap()
    }

    #[test]
    fn more_choices_lower_the_fullest_bin() {
        // 10 000 balls into 1000 bins, 10 each on average. One choice
        // leaves about 22 in the fullest, two about 12, four 11 or 12.
        for seed in [3, 4, 5] {
            let one = fullest(1000, 10_000, 1, seed);
            let two = fullest(1000, 10_000, 2, seed);
            let four = fullest(1000, 10_000, 4, seed);
            assert!(
                one >= 17 && two <= 14 && four <= two && four <= 13,
                "seed {seed}: d=1 {one}, d=2 {two}, d=4 {four}"
            );
        }
    }

    #[test]
    fn the_earliest_draw_wins_a_tie() {
        let mut backends = pool(10);
        backends[4].active = 1;
        for w in words(6).take(1000) {
            let draws: Vec<usize> = (0..3).map(|k| draw(&backends, w, k).unwrap()).collect();
            let lowest = draws.iter().map(|&i| backends[i].load()).min().unwrap();
            let first = *draws
                .iter()
                .find(|&&i| backends[i].load() == lowest)
                .unwrap();
            assert_eq!(
                pick(&backends, 3, w),
                Some(first),
                "entropy {w:#x}: {draws:?}"
            );
        }
    }

    #[test]
    fn ties_go_to_a_uniformly_random_backend() {
        let seed = 7;
        let backends = pool(100);
        let mut counts = [0u64; 100];
        for w in words(seed).take(100_000) {
            counts[pick(&backends, 4, w).unwrap()] += 1;
        }
        let chi = chi_square(&counts);
        assert!(chi < 190.0, "seed {seed}: chi-square {chi:.1}: {counts:?}");
        for c in counts {
            assert!(c.abs_diff(1_000) < 160, "seed {seed}: {counts:?}");
        }
    }

    #[test]
    fn skips_unhealthy_and_draining_backends() {
        let mut backends = pool(4);
        backends[0].healthy = false;
        backends[1].draining = true;
        backends[2].active = 3;
        backends[3].active = 5;
        let mut seen = [0u32; 4];
        for w in words(8).take(1000) {
            seen[pick(&backends, 3, w).unwrap()] += 1;
        }
        assert_eq!((seen[0], seen[1]), (0, 0), "{seen:?}");
        // Backend 3 wins only when all three draws land on it: 1 in 8.
        assert!(seen[3] < 200, "{seen:?}");
    }

    #[test]
    fn none_on_an_empty_or_all_ineligible_pool() {
        let mut backends = pool(3);
        for b in &mut backends {
            b.healthy = false;
        }
        backends[1].healthy = true;
        backends[1].draining = true;
        for d in [1, 2, 16] {
            assert_eq!(pick(&[], d, 7), None);
            for w in words(9).take(100) {
                assert_eq!(pick(&backends, d, w), None, "d {d}, entropy {w:#x}");
            }
        }
    }

    #[test]
    fn the_same_entropy_gives_the_same_pick() {
        let mut backends = pool(30);
        for (i, b) in backends.iter_mut().enumerate() {
            b.active = (i % 4) as u32;
        }
        for w in words(10).take(300) {
            assert_eq!(pick(&backends, 5, w), pick(&backends, 5, w), "{w:#x}");
        }
    }
}
