//! Least connections: the eligible backend with the fewest connections
//! (established and half-open), ties broken uniformly at random.
//!
//! Ties are the common case, not a corner: under light traffic most
//! backends sit at 0 connections, and a rule such as "lowest index first"
//! then sends nearly everything to the first backend (in a 100-server lab
//! srv-1 took 99.5k connections against srv-100's 47k). So every backend
//! gets a pseudo-random 32-bit *tag* from the pick's entropy word, and the
//! lowest (load, tag) wins: among the tied, the lowest tag, which is a
//! uniformly random one.
//!
//! The tag is a keyed bijection of the index (see [`Tags`]), so tags never
//! collide and the winner's index is recovered from its tag. A pick is then
//! a single pass taking the minimum of 64-bit keys `load << 32 | tag` by
//! conditional moves, with nothing carried alongside but the minimum.
//! [`lowest_by`] is the general, slower fold for keys that do not fit in
//! 32 bits (weighted ratios, floating-point scores) and for tables of more
//! than 2^32 backends.

use super::BackendView;

/// The eligible backend with the lowest `load()`; ties are broken uniformly
/// at random by `entropy`.
#[inline]
pub fn pick(backends: &[BackendView], entropy: u64) -> Option<usize> {
    lowest(backends, entropy, |b| b.eligible().then_some(b.load()))
}

/// The candidate with the lowest `rank`, ties broken uniformly at random by
/// `entropy`; `rank` answers `None` for a backend that is not a candidate.
/// One pass over the table, carrying only the least key so far.
#[inline]
pub(super) fn lowest(
    backends: &[BackendView],
    entropy: u64,
    rank: impl Fn(&BackendView) -> Option<u32>,
) -> Option<usize> {
    if backends.len() > u32::MAX as usize {
        // Indices no longer fit in a tag: take the general fold.
        return lowest_by(backends, entropy, rank);
    }
    let tags = Tags::new(entropy);
    // A fold from the largest key (rather than `min`, which starts from the
    // first element) compiles to a loop of conditional moves.
    let best = backends.iter().enumerate().fold(u64::MAX, |best, (i, b)| {
        let key = rank(b).map_or(u64::MAX, |r| {
            (u64::from(r) << 32) | u64::from(tags.tag(i as u32))
        });
        best.min(key)
    });
    // An empty table, or none but non-candidates, leaves u64::MAX, and so
    // does a candidate of rank u32::MAX whose tag is u32::MAX: recovering
    // the index from the tag finds that candidate if there is one, and
    // checking its rank tells it from a table with no candidate at all.
    let i = tags.index(best as u32) as usize;
    (i < backends.len() && rank(&backends[i]).is_some()).then_some(i)
}

/// The candidate with the lowest `key`, ties broken uniformly at random by
/// `entropy`; `key` answers `None` for a backend that is not a candidate.
/// A scalar fold carrying the best key, tag and index: for keys that do not
/// pack into 32 bits. Among equal keys it picks what [`lowest`] picks.
pub(super) fn lowest_by<K: Ord>(
    backends: &[BackendView],
    entropy: u64,
    key: impl Fn(&BackendView) -> Option<K>,
) -> Option<usize> {
    let tags = Tags::new(entropy);
    backends
        .iter()
        .enumerate()
        // Beyond 2^32 backends tags repeat and the index settles equal
        // tags: still correct, only no longer quite uniform.
        .filter_map(|(i, b)| key(b).map(|k| (k, tags.tag(i as u32), i)))
        .min()
        .map(|(_, _, i)| i)
}

/// A random ordering of backend indices drawn from one entropy word: a
/// keyed bijection of `u32` (key XOR, then the `lowbias32` integer hash of
/// Chris Wellons' hash-prospector, then a second key XOR). Every step is
/// invertible, so distinct indices get distinct tags and a tag gives its
/// index back. Which of a set of indices has the lowest tag is uniform over
/// the set as the entropy varies, to within what 64 million draws per set
/// could not tell apart (checked on contiguous, strided and scattered sets).
#[derive(Clone, Copy, Debug)]
pub(super) struct Tags {
    before: u32,
    after: u32,
}

const M1: u32 = 0x7feb_352d;
const M2: u32 = 0x846c_a68b;
const M1_INV: u32 = inverse(M1);
const M2_INV: u32 = inverse(M2);

/// The inverse of an odd `m` modulo 2^32, by Newton's iteration (each step
/// doubles the correct low bits, from the 3 that `m * m ≡ 1 mod 8` gives).
const fn inverse(m: u32) -> u32 {
    let mut x = m;
    let mut k = 0;
    while k < 4 {
        x = x.wrapping_mul(2u32.wrapping_sub(m.wrapping_mul(x)));
        k += 1;
    }
    x
}

impl Tags {
    /// The ordering drawn from `entropy` (mixed first, so that neighbouring
    /// words give unrelated orderings).
    #[inline]
    pub(super) fn new(entropy: u64) -> Tags {
        let k = mix64(entropy);
        Tags {
            before: k as u32,
            after: (k >> 32) as u32,
        }
    }

    /// The tag of index `i`.
    #[inline(always)]
    pub(super) fn tag(self, i: u32) -> u32 {
        let mut x = i ^ self.before;
        x ^= x >> 16;
        x = x.wrapping_mul(M1);
        x ^= x >> 15;
        x = x.wrapping_mul(M2);
        x ^= x >> 16;
        x ^ self.after
    }

    /// The index whose tag is `tag`.
    #[inline]
    pub(super) fn index(self, tag: u32) -> u32 {
        let mut x = tag ^ self.after;
        x ^= x >> 16;
        x = x.wrapping_mul(M2_INV);
        x ^= (x >> 15) ^ (x >> 30);
        x = x.wrapping_mul(M1_INV);
        x ^= x >> 16;
        x ^ self.before
    }
}

/// SplitMix64's finaliser (Steele, Lea and Flood, 2014): a cheap bijection
/// of `u64` whose every output bit depends on every input bit. Derives
/// independent-looking words from one entropy word.
#[inline]
pub(super) fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Pearson's chi-square statistic of `counts` against equal expected
/// counts, for the tie-breaking tests of the load-aware algorithms.
#[cfg(test)]
pub(super) fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{pool, words};
    use super::*;
    use std::collections::VecDeque;

    #[test]
    fn prefers_the_least_loaded() {
        let mut backends = pool(4);
        backends[0].active = 5;
        backends[1].active = 2;
        backends[1].half_open = 1;
        backends[2].active = 2;
        backends[3].active = 9;
        for w in words(1).take(200) {
            assert_eq!(pick(&backends, w), Some(2), "entropy {w:#x}");
        }
        // Half-open connections count as much as established ones.
        backends[2].half_open = 2;
        for w in words(2).take(200) {
            assert_eq!(pick(&backends, w), Some(1), "entropy {w:#x}");
        }
    }

    #[test]
    fn skips_unhealthy_and_draining_backends() {
        let mut backends = pool(4);
        backends[0].healthy = false;
        backends[1].draining = true;
        backends[2].active = 4;
        backends[3].active = 3;
        for w in words(3).take(500) {
            assert_eq!(pick(&backends, w), Some(3), "entropy {w:#x}");
        }
    }

    #[test]
    fn none_on_an_empty_or_all_ineligible_pool() {
        assert_eq!(pick(&[], 7), None);
        let mut backends = pool(3);
        backends[0].healthy = false;
        backends[1].draining = true;
        backends[2].healthy = false;
        backends[2].draining = true;
        for w in words(4).take(500) {
            assert_eq!(pick(&backends, w), None, "entropy {w:#x}");
        }
    }

    #[test]
    fn the_same_entropy_gives_the_same_pick() {
        let backends = pool(50);
        for w in words(5).take(200) {
            assert_eq!(pick(&backends, w), pick(&backends, w), "entropy {w:#x}");
        }
    }

    #[test]
    fn ties_are_broken_uniformly_at_random() {
        let seed = 6;
        let backends = pool(100);
        let mut counts = [0u64; 100];
        for w in words(seed).take(1_000_000) {
            counts[pick(&backends, w).unwrap()] += 1;
        }
        // 99 degrees of freedom: mean 99, standard deviation 14; 190 is
        // six and a half deviations out.
        let chi = chi_square(&counts);
        assert!(chi < 190.0, "seed {seed}: chi-square {chi:.1}: {counts:?}");
        // Each share is 1% within 5% of itself (five standard deviations).
        for c in counts {
            assert!((9_500..=10_500).contains(&c), "seed {seed}: {counts:?}");
        }
    }

    #[test]
    fn light_traffic_spreads_over_every_backend() {
        // At most three connections open at a time, so nearly every pick
        // finds most backends tied at 0. Lowest-index ties would send
        // everything to the first four backends.
        let seed = 7;
        let mut backends = pool(100);
        let mut open = VecDeque::new();
        let mut counts = [0u64; 100];
        for w in words(seed).take(100_000) {
            let i = pick(&backends, w).unwrap();
            counts[i] += 1;
            backends[i].active += 1;
            open.push_back(i);
            if open.len() > 3 {
                backends[open.pop_front().unwrap()].active -= 1;
            }
        }
        // 1000 each, within five standard deviations (about 160).
        for c in counts {
            assert!((840..=1_160).contains(&c), "seed {seed}: {counts:?}");
        }
    }

    #[test]
    fn ties_within_a_subset_are_uniform_and_exclusive() {
        for seed in [8, 9, 10] {
            let mut backends = pool(100);
            let mut rng = words(seed);
            for b in &mut backends {
                b.active = (rng.next().unwrap() % 4) as u32 + 1;
            }
            // The two ends of the table tie at the lowest load.
            backends[0].active = 0;
            backends[99].active = 0;
            let mut counts = [0u64; 2];
            for w in rng.take(40_000) {
                match pick(&backends, w) {
                    Some(0) => counts[0] += 1,
                    Some(99) => counts[1] += 1,
                    other => panic!("seed {seed}: picked {other:?}"),
                }
            }
            // 20 000 each, within five standard deviations (500).
            assert!(counts[0].abs_diff(20_000) < 500, "seed {seed}: {counts:?}");
        }
    }

    #[test]
    fn the_single_pass_agrees_with_the_general_fold() {
        for seed in 11..31 {
            let mut rng = words(seed);
            let n = (rng.next().unwrap() % 300) as usize + 1;
            let mut backends = pool(n);
            for b in &mut backends {
                let r = rng.next().unwrap();
                b.active = (r % 3) as u32;
                b.healthy = r >> 20 & 7 != 0;
                b.draining = r >> 30 & 15 == 0;
            }
            for w in rng.take(200) {
                let fast = pick(&backends, w);
                let fold = lowest_by(&backends, w, |b| b.eligible().then_some(b.load()));
                assert_eq!(fast, fold, "seed {seed}, entropy {w:#x}");
            }
        }
    }

    #[test]
    fn extreme_loads_stay_ordered() {
        let mut backends = pool(3);
        backends[0].active = u32::MAX;
        backends[1].active = u32::MAX - 1;
        backends[2].healthy = false;
        for w in words(12).take(500) {
            assert_eq!(pick(&backends, w), Some(1), "entropy {w:#x}");
        }
        // The busiest possible backend is still picked when alone, even if
        // its key is all ones like a non-candidate's.
        backends[1].healthy = false;
        for w in words(13).take(500) {
            assert_eq!(pick(&backends, w), Some(0), "entropy {w:#x}");
        }
    }

    #[test]
    fn tags_give_their_index_back() {
        for (seed, w) in words(14).take(200).enumerate() {
            let tags = Tags::new(w);
            for i in (0..64).chain([u32::MAX, u32::MAX - 1, 1 << 31, 65_535]) {
                assert_eq!(tags.index(tags.tag(i)), i, "word {seed}: {w:#x}");
            }
        }
        assert_eq!(M1.wrapping_mul(M1_INV), 1);
        assert_eq!(M2.wrapping_mul(M2_INV), 1);
    }
}
