//! A consistent-hash ring (Karger et al., 1997; ketama's virtual nodes),
//! with optional bounded loads (Mirrokni, Thorup and Zadimoghaddam,
//! "Consistent Hashing with Bounded Loads", SODA 2018, arXiv 2017).
//!
//! Each eligible backend of weight w > 0 places `vnodes × w` points on a
//! ring of 2⁶⁴ positions; a flow goes to the owner of the first point at or
//! after its hash, wrapping at the top. A point's position is a strong mix
//! of the backend's index in the table (its identity: indices are stable in
//! the simulation) and the point's number, so a backend leaving takes only
//! its own points away: only the keys that mapped to it move, about 1/N of
//! them, and every other key keeps its backend.
//!
//! With a bound c > 1, a backend at or above its capacity
//! ⌈c × (total load + 1) × w / total weight⌉ passes the flow clockwise to
//! the next point whose backend is below its own; with equal weights that is
//! the paper's ⌈c × (m + 1) / n⌉ for m connections over n backends. The
//! capacities sum to at least c × (m + 1) > m, so some backend is always
//! below its capacity and no backend ever takes a flow at or above it.
//!
//! Picks are O(1) on average: besides the sorted points, the ring keeps an
//! index of where each range of positions starts (by the hash's top bits),
//! so a pick reads the index, then searches the four to eight points of
//! one range, which sit in one or two cache lines, instead of
//! binary-searching the whole ring (some 17 dependent, mostly
//! cache-missing reads at 160 000 points).

use super::BackendView;
use super::flow_hash::mix;
use crate::spec::VirtualNodes;
use crate::spec::limits::MAX_SERVERS;
use std::fmt;

/// The most points a ring holds: the largest ring a lab may ask for by
/// `vnodes` alone (10 000 backends × 1 000 points: 160 MB of 16-byte
/// points). Weights scale each backend's points up, so when `vnodes × total weight`
/// would pass this the points per unit of weight are scaled down; shares
/// stay proportional to weights up to rounding. Every backend keeps at
/// least one point, so a ring of many light backends beside a heavy one
/// may pass the cap by up to one point per backend.
pub const MAX_POINTS: usize = MAX_SERVERS as usize * VirtualNodes::MAX as usize;

/// The index of range starts has at most 2²⁰ entries (4 MiB); past that,
/// a range holds a few more points and the search in it takes a step or two
/// more.
const MAX_INDEX_BITS: u32 = 20;

/// Keeps ring positions apart from other uses of `mix`.
const RING_SALT: u64 = 0x7269_6e67_5f70_7473; // "ring_pts"

/// Points of a consistent-hash ring, sorted by position.
#[derive(Clone)]
pub struct Ring {
    /// Points by ascending position (then owner).
    points: Vec<Point>,
    /// `starts[r]` is the first point at or after position `r << shift`;
    /// `starts[2^bits]` is the number of points.
    starts: Vec<u32>,
    /// 64 − index bits (64 for a single range).
    shift: u32,
}

impl Ring {
    /// A ring of `vnodes × weight` points for each eligible backend of
    /// weight above 0 (scaled down past `MAX_POINTS`).
    pub fn build(backends: &[BackendView], vnodes: u32) -> Ring {
        Ring::build_capped(backends, vnodes, MAX_POINTS)
    }

    /// `build` with a cap of `max_points` (at least one point per member).
    fn build_capped(backends: &[BackendView], vnodes: u32, max_points: usize) -> Ring {
        let members = || {
            backends
                .iter()
                .enumerate()
                .filter(|(_, b)| b.eligible() && b.weight > 0)
        };
        let vnodes = u64::from(vnodes.max(1));
        // Each product fits in 64 bits; their sum may not, for a caller
        // passing more than a lab's 1 000 points.
        let wanted = members()
            .map(|(_, b)| vnodes * u64::from(b.weight))
            .fold(0u64, u64::saturating_add);
        // Points per unit of weight, as a fraction of `vnodes`, when the
        // ring would pass its cap.
        let scale = if wanted > max_points as u64 {
            max_points as f64 / wanted as f64
        } else {
            1.0
        };
        let count = |b: &BackendView| {
            let want = vnodes * u64::from(b.weight);
            if scale < 1.0 {
                ((want as f64 * scale) as u64).max(1)
            } else {
                want
            }
        };
        // Every point, unsorted; cheap enough to run twice rather than
        // hold a second copy of a large ring.
        let all_points = || {
            members().flat_map(move |(i, b)| {
                let (owner, id) = (i as u32, (i as u64) << 32);
                (0..count(b)).map(move |v| Point {
                    position: point_position(id | v),
                    owner,
                })
            })
        };
        let total: usize = members().map(|(_, b)| count(b) as usize).sum();
        let bits = index_bits(total);
        let shift = 64 - bits;
        let range = |p: &Point| p.position.checked_shr(shift).unwrap_or(0) as usize;
        // A counting sort by range (positions are uniform, so a range holds
        // a handful of points), then each range sorted on its own: O(points)
        // where one sort of the whole ring took O(points log points). At 10
        // million points, 3.2 s in a test build against 5.9 s.
        let mut starts = vec![0u32; (1usize << bits) + 1];
        for p in all_points() {
            starts[range(&p) + 1] += 1;
        }
        for r in 1..starts.len() {
            starts[r] += starts[r - 1];
        }
        let mut next: Vec<u32> = starts.clone();
        let mut points = vec![
            Point {
                position: 0,
                owner: 0
            };
            total
        ];
        for p in all_points() {
            let at = &mut next[range(&p)];
            points[*at as usize] = p;
            *at += 1;
        }
        // Ties (a 2⁻⁶⁴ chance per pair) go to the lower index, so the ring
        // depends on nothing but its inputs.
        for r in 0..starts.len() - 1 {
            points[starts[r] as usize..starts[r + 1] as usize].sort_unstable();
        }
        Ring {
            points,
            starts,
            shift,
        }
    }

    /// Points on the ring.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// The ring has no points (no eligible backend had a weight).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Index of the backend for a flow of hash `hash`: the owner of the
    /// first point at or after it, skipping backends that are no longer
    /// eligible. With `bound = Some(c)`, c > 1, a backend at or above its
    /// capacity (see the module) is skipped too. None if the ring is empty
    /// or no point's backend is still eligible.
    #[inline]
    pub fn pick(&self, backends: &[BackendView], hash: u64, bound: Option<f64>) -> Option<usize> {
        if self.points.is_empty() {
            return None;
        }
        let start = self.first_at_or_after(hash);
        let owner = self.points[start].owner as usize;
        match bound {
            None if backends.get(owner).is_some_and(|b| b.eligible()) => Some(owner),
            None => self.walk(start, |o| backends.get(o).is_some_and(|b| b.eligible())),
            Some(c) => self.pick_bounded(backends, start, c),
        }
    }

    /// The index of the first point at or after `hash`, wrapping to 0.
    #[inline]
    fn first_at_or_after(&self, hash: u64) -> usize {
        // A shift of 64 (a ring of fewer than 4 points) means one range.
        let r = hash.checked_shr(self.shift).unwrap_or(0) as usize;
        let (from, to) = (self.starts[r] as usize, self.starts[r + 1] as usize);
        // Every point of later ranges lies above `hash`, so the first of
        // them (at `to`) is the answer when none in this range is.
        // The range is sorted, so the points below `hash` are its first
        // ones: counting them without a branch beats a binary search,
        // whose every step over a handful of points is a coin toss for
        // the branch predictor.
        let below = self.points[from..to]
            .iter()
            .map(|p| usize::from(p.position < hash))
            .sum::<usize>();
        let i = from + below;
        if i == self.points.len() { 0 } else { i }
    }

    /// The owner of the first point from `start` clockwise that `takes`,
    /// once round the ring at most.
    fn walk(&self, start: usize, takes: impl Fn(usize) -> bool) -> Option<usize> {
        let (head, tail) = self.points.split_at(start);
        tail.iter()
            .chain(head)
            .map(|p| p.owner as usize)
            .find(|&o| takes(o))
    }

    /// Bounded loads: the first eligible backend clockwise below its
    /// capacity.
    fn pick_bounded(&self, backends: &[BackendView], start: usize, c: f64) -> Option<usize> {
        let member = |b: &BackendView| b.eligible() && b.weight > 0;
        let (mut load, mut weight) = (0u64, 0u64);
        for b in backends.iter().filter(|b| member(b)) {
            load += u64::from(b.load());
            weight += u64::from(b.weight);
        }
        if weight == 0 {
            return None;
        }
        // A load is below ⌈x⌉ exactly when it is below x.
        let per_weight = c * (load + 1) as f64 / weight as f64;
        let below = |o: usize| {
            backends.get(o).is_some_and(|b| {
                member(b) && f64::from(b.load()) < per_weight * f64::from(b.weight)
            })
        };
        // None below capacity can happen only if the caller passed c ≤ 1
        // or the backends changed without a rebuild: then plain consistent
        // hashing is the best left.
        self.walk(start, below)
            .or_else(|| self.walk(start, |o| backends.get(o).is_some_and(|b| b.eligible())))
    }
}

impl fmt::Debug for Ring {
    /// The number of points and ranges, not the points.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("points", &self.points.len())
            .field("ranges", &(self.starts.len() - 1))
            .finish()
    }
}

/// A point on the ring. Position and owner sit side by side so a pick
/// misses the cache once for both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Point {
    position: u64,
    /// The backend index.
    owner: u32,
}

/// Where point `id` (backend index in the high half, point number in the
/// low) sits on the ring.
#[inline]
fn point_position(id: u64) -> u64 {
    mix(id ^ RING_SALT)
}

/// Bits of the range index: 4 to 8 points per range (one or two cache
/// lines of points, next to each other), at most `MAX_INDEX_BITS`. The
/// index then takes half a byte per point, so it stays in a core's cache
/// longer than the points do.
fn index_bits(points: usize) -> u32 {
    if points < 8 {
        return 0;
    }
    (points.ilog2() - 2).min(MAX_INDEX_BITS)
}

#[cfg(test)]
mod tests {
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

    fn ring_hash(vnodes: u32) -> Algorithm {
        Algorithm::RingHash {
            vnodes: VirtualNodes::new(vnodes).unwrap(),
            bound: None,
        }
    }

    /// The first point at or after `hash` by a plain binary search of the
    /// whole ring, to check the range index against.
    fn reference_pick(ring: &Ring, hash: u64) -> usize {
        let i = ring.points.partition_point(|p| p.position < hash);
        ring.points[if i == ring.len() { 0 } else { i }].owner as usize
    }

    #[test]
    fn the_range_index_finds_what_a_binary_search_finds() {
        for (n, vnodes) in [(1, 1), (2, 1), (3, 2), (10, 160), (100, 37)] {
            let backends = pool(n);
            let ring = Ring::build(&backends, vnodes);
            assert_eq!(ring.len(), n * vnodes as usize);
            assert!(ring.points.is_sorted());
            let mut probes: Vec<u64> = words(n as u64).take(2000).collect();
            // Exactly on, just past, and between points; the ends of the
            // ring.
            for p in ring.points.iter().take(50).map(|p| p.position) {
                probes.extend([p, p.wrapping_add(1), p.wrapping_sub(1)]);
            }
            probes.extend([0, 1, u64::MAX, u64::MAX - 1, 1 << 63]);
            for h in probes {
                assert_eq!(
                    ring.pick(&backends, h, None),
                    Some(reference_pick(&ring, h)),
                    "n {n} vnodes {vnodes} hash {h:#x}"
                );
            }
        }
    }

    #[test]
    fn shares_follow_weights() {
        // A backend's share of a ring of T points, V of them its own, is
        // spread like Beta(V, T − V): at 1000 points per unit of weight
        // (T = 10 000) a standard deviation of 0.3 points for the 10% share
        // and 0.5 for the 40% one, plus 0.1 to 0.15 from sampling 100 000
        // keys. 1.5 points is three of them; ignoring weights would give
        // 25% each.
        let backends = weighted(&[1, 2, 3, 4]);
        let ring = Ring::build(&backends, 1000);
        assert_eq!(ring.len(), 10_000);
        let mut counts = [0usize; 4];
        for ip in sample_keys(100_000) {
            counts[ring.pick(&backends, flow_hash::of_ip(ip), None).unwrap()] += 1;
        }
        for (i, want) in [0.1, 0.2, 0.3, 0.4].into_iter().enumerate() {
            let share = counts[i] as f64 / 100_000.0;
            assert!((share - want).abs() < 0.015, "backend {i}: {counts:?}");
        }
    }

    #[test]
    fn weight_zero_unhealthy_and_draining_backends_have_no_points() {
        let mut backends = weighted(&[1, 0, 2, 1, 1]);
        backends[3].healthy = false;
        backends[4].draining = true;
        let ring = Ring::build(&backends, 50);
        assert_eq!(ring.len(), 150);
        assert!(ring.points.iter().all(|p| p.owner == 0 || p.owner == 2));
        for h in words(4).take(5000) {
            for bound in [None, Some(1.25)] {
                let p = ring.pick(&backends, h, bound).unwrap();
                assert!(p == 0 || p == 2, "hash {h:#x} bound {bound:?}: {p}");
            }
        }
    }

    #[test]
    fn empty_and_ineligible_pools_give_none() {
        let empty = Ring::build(&[], 160);
        assert!(empty.is_empty());
        assert_eq!(empty.pick(&[], 7, None), None);
        assert_eq!(empty.pick(&[], 7, Some(1.5)), None);
        let mut backends = weighted(&[0, 3, 1]);
        backends[1].healthy = false;
        backends[2].draining = true;
        let ring = Ring::build(&backends, 160);
        assert!(ring.is_empty());
        assert_eq!(ring.pick(&backends, 7, None), None);
        assert_eq!(ring.pick(&backends, 7, Some(2.0)), None);
    }

    #[test]
    fn a_backend_gone_since_the_build_is_passed_over() {
        let mut backends = pool(4);
        let ring = Ring::build(&backends, 20);
        backends[1].healthy = false;
        backends[2].draining = true;
        for h in words(6).take(5000) {
            let want = reference_pick(&ring, h);
            let p = ring.pick(&backends, h, None).unwrap();
            if want == 0 || want == 3 {
                assert_eq!(p, want);
            } else {
                assert!(p == 0 || p == 3, "hash {h:#x}: {p}");
            }
        }
        // A ring built for more backends than are passed picks none of
        // the missing ones.
        let ring = Ring::build(&pool(8), 20);
        for h in words(7).take(2000) {
            assert!(ring.pick(&backends, h, None).unwrap() < 4);
        }
        backends[0].healthy = false;
        backends[3].healthy = false;
        assert_eq!(ring.pick(&backends, 5, None), None);
        assert_eq!(ring.pick(&backends, 5, Some(1.5)), None);
    }

    #[test]
    fn the_same_inputs_build_the_same_ring() {
        let backends = weighted(&[3, 1, 2]);
        let (a, b) = (Ring::build(&backends, 64), Ring::build(&backends, 64));
        assert_eq!(a.points, b.points);
        for h in words(8).take(1000) {
            assert_eq!(a.pick(&backends, h, None), b.pick(&backends, h, None));
        }
    }

    #[test]
    fn weights_past_the_cap_scale_down_and_stay_proportional() {
        // The real cap, 10 million points, is too large for a unit test;
        // the arithmetic is the same.
        let cap = 30_000;
        let backends = weighted(&[u32::MAX, u32::MAX / 2, 1]);
        let ring = Ring::build_capped(&backends, 1000, cap);
        assert!(ring.len() <= cap, "{}", ring.len());
        let count = |o| ring.points.iter().filter(|p| p.owner == o).count();
        let (a, b, c) = (count(0), count(1), count(2));
        assert!(a + b + c >= cap - 2, "{a} {b} {c}");
        assert!((a as f64 / b as f64 - 2.0).abs() < 1e-3, "{a} {b}");
        assert_eq!(c, 1, "the lightest backend keeps one point");
        // Under the cap, nothing is scaled.
        let ring = Ring::build_capped(&weighted(&[3, 1]), 1000, 4000);
        assert_eq!(ring.len(), 4000);
    }

    #[test]
    fn removing_a_backend_moves_only_its_own_keys() {
        let before = pool(20);
        let mut after = before.clone();
        after[7].healthy = false;
        let (ring_before, ring_after) = (Ring::build(&before, 160), Ring::build(&after, 160));
        let mut moved = 0;
        for ip in sample_keys(50_000) {
            let h = flow_hash::of_ip(ip);
            let (b, a) = (
                ring_before.pick(&before, h, None).unwrap(),
                ring_after.pick(&after, h, None).unwrap(),
            );
            if b == 7 {
                assert_ne!(a, 7);
                moved += 1;
            } else {
                assert_eq!(a, b, "{ip}: a key of backend {b} moved to {a}");
            }
        }
        // The removed backend did own keys (the test would hold vacuously
        // otherwise).
        assert!(moved > 1000, "{moved}");
    }

    #[test]
    fn one_backend_leaving_moves_about_one_nth_of_keys() {
        // The keys that move are those of the backend that left, so the
        // moved share is that backend's share of the ring. Its relative
        // spread is about 1/√vnodes: 3.2% at 1000 points, against the 10%
        // allowed; 160 points (12%) would fail about half the time. The
        // sample adds about 1/√(keys / N), 3.2% at N = 100.
        let keys = sample_keys(100_000);
        for n in [10usize, 20, 50, 100] {
            let before = pool(n);
            let mut after = before.clone();
            after[n / 3].draining = true;
            let moved = moved_share(ring_hash(1000), &before, &after, &keys);
            let want = 1.0 / n as f64;
            assert!(
                (moved.share() - want).abs() <= 0.1 * want,
                "N = {n}: moved {moved}, expected {:.2}%",
                want * 100.0
            );
        }
    }

    /// One step of the bounded-load drive: the capacity before the pick,
    /// as the module defines it for equal weights.
    fn capacity(backends: &[BackendView], c: f64) -> u32 {
        let total: u64 = backends.iter().map(|b| u64::from(b.load())).sum();
        (c * (total + 1) as f64 / backends.len() as f64).ceil() as u32
    }

    #[test]
    fn bounded_loads_never_pass_the_capacity() {
        for c in [1.1, 1.25, 2.0] {
            let seed = (c * 100.0) as u64;
            let n = 20;
            let mut backends = pool(n);
            for (i, b) in backends.iter_mut().enumerate() {
                // Half-open connections count towards the load as well.
                b.half_open = (i % 2) as u32;
            }
            let ring = Ring::build(&backends, 40);
            let mut rng = words(seed);
            // Arrivals only: every backend stays within the capacity of
            // the moment.
            for step in 0..2000 {
                let cap = capacity(&backends, c);
                let p = ring.pick(&backends, rng.next().unwrap(), Some(c)).unwrap();
                assert!(
                    backends[p].load() < cap,
                    "seed {seed} c {c} step {step}: picked {p} at {} of {cap}",
                    backends[p].load()
                );
                backends[p].active += 1;
                let cap = capacity(&backends, c);
                for (i, b) in backends.iter().enumerate() {
                    assert!(
                        b.load() <= cap,
                        "seed {seed} c {c} step {step}: backend {i} at {} over {cap}",
                        b.load()
                    );
                }
            }
            // Departures too: a departure lowers the capacity, and the
            // algorithm moves no established connection, so a backend may
            // sit above a capacity that fell; but a pick never goes to a
            // backend at or above the capacity, and one below it always
            // exists.
            for step in 0..5000 {
                let r = rng.next().unwrap();
                if r.is_multiple_of(3) {
                    let i = (r >> 8) as usize % n;
                    backends[i].active = backends[i].active.saturating_sub(1);
                }
                let cap = capacity(&backends, c);
                assert!(backends.iter().any(|b| b.load() < cap));
                let p = ring.pick(&backends, rng.next().unwrap(), Some(c)).unwrap();
                assert!(
                    backends[p].load() < cap,
                    "seed {seed} c {c} step {step}: picked {p} at {} of {cap}",
                    backends[p].load()
                );
                backends[p].active += 1;
                assert!(backends[p].load() <= cap);
            }
        }
    }

    #[test]
    fn a_bound_spreads_one_hot_key_and_leaves_cold_keys_alone() {
        let mut backends = pool(10);
        let ring = Ring::build(&backends, 160);
        let hot = 0x1234_5678_9abc_def0;
        let home = ring.pick(&backends, hot, None).unwrap();
        // Unbounded, every flow of the hot key lands on its home.
        let mut spread = std::collections::BTreeSet::new();
        for _ in 0..100 {
            let p = ring.pick(&backends, hot, Some(1.25)).unwrap();
            backends[p].active += 1;
            spread.insert(p);
        }
        assert!(backends[home].active <= 13, "{backends:?}");
        assert!(spread.len() >= 8, "{spread:?}");
        // With everyone at or below the average, a key goes home.
        let backends = pool(10);
        for h in words(12).take(500) {
            assert_eq!(
                ring.pick(&backends, h, Some(1.25)),
                ring.pick(&backends, h, None)
            );
        }
    }

    #[test]
    fn weighted_capacities_follow_weights() {
        // Weight 3 of a total 4 may hold up to ⌈1.5 × 3/4 × (m + 1)⌉:
        // a stream of one key fills it to about that, not to the even
        // share of 2 backends.
        let backends_w = weighted(&[3, 1]);
        let ring = Ring::build(&backends_w, 100);
        let mut backends = backends_w.clone();
        let hot = (0..)
            .map(flow_hash::mix)
            .find(|&h| ring.pick(&backends, h, None) == Some(0))
            .unwrap();
        for _ in 0..400 {
            let p = ring.pick(&backends, hot, Some(1.5)).unwrap();
            backends[p].active += 1;
        }
        // Capacity at m = 399: ⌈1.5 × 400 × 3/4⌉ = 450, never reached; so
        // backend 0 took every flow.
        assert_eq!(backends[0].active, 400);
        // With c = 1.1 its capacity stops it near 1.1 × 3/4.
        let mut backends = backends_w;
        for _ in 0..400 {
            let p = ring.pick(&backends, hot, Some(1.1)).unwrap();
            backends[p].active += 1;
        }
        assert!((328..=331).contains(&backends[0].active), "{backends:?}");
    }
}
