//! Peak EWMA: power of two choices on a cost that is each backend's
//! response time times the requests it would then hold, the load metric of
//! Finagle's `P2CPeakEwma` and of linkerd (through tower's `PeakEwma`).
//!
//! Each backend keeps a response-time estimate (`BackendView::latency_ns`)
//! that [`observe`] updates at every response. The estimate is a moving
//! average that jumps to its *peak*: a response slower than the estimate
//! replaces it at once, while a faster one only pulls it down gradually, by
//! the weight `1 − exp(−elapsed / decay)` where `elapsed` is the time since
//! the backend's previous response. A backend that turns slow is avoided at
//! the first slow answer and trusted again only after a run of fast ones.
//!
//! A pick draws two eligible backends at random, as `power_of_two` does, and
//! takes the lower cost `latency_ns × (outstanding + 1)`: the delay a new
//! request could expect behind the requests already there. The first draw
//! wins a tie.
//!
//! The estimate decays only when responses are seen: picks take no clock,
//! and a backend's estimate changes only when the engine calls [`observe`].
//! Finagle also decays the estimate toward zero at every read of the cost;
//! here a backend with nothing outstanding keeps its cost, which is its
//! estimate alone, and is tried again once the others' costs (growing with
//! their queues) exceed it. Its next response then updates its estimate. An
//! engine that wants Finagle's decay can call [`observe`] with a sample of
//! 0, which only decays.
//!
//! A backend with no sample yet (`latency_ns == 0`) and nothing outstanding
//! costs 0, so a new or restarted backend is tried at once. With requests
//! outstanding but still no response, it costs a penalty above any
//! plausible real cost (2^47 ns, about 39 hours, plus its outstanding
//! requests), as in Finagle: it gets one probe, not every pick, until it
//! answers; backends in that state rank by outstanding requests.

use super::BackendView;

/// The cost of a backend with requests outstanding and no response yet:
/// Finagle's `Long.MaxValue >> 16` nanoseconds.
const PENALTY_NS: f64 = (i64::MAX >> 16) as f64;

/// Two random eligible backends from `entropy` (its two halves, as
/// `power_of_two` draws them); the lower cost wins and the first draw wins
/// a tie.
#[inline]
pub fn pick(backends: &[BackendView], entropy: u64) -> Option<usize> {
    let (a, b) = super::power_of_two::draws(backends, entropy)?;
    Some(if cost(&backends[b]) < cost(&backends[a]) {
        b
    } else {
        a
    })
}

/// `latency_ns × (outstanding + 1)` in nanoseconds, or for a backend
/// with requests outstanding and no latency sample yet, the penalty plus
/// its outstanding requests.
#[inline]
pub(super) fn cost(b: &BackendView) -> f64 {
    let outstanding = f64::from(b.outstanding);
    if b.latency_ns == 0.0 && b.outstanding > 0 {
        PENALTY_NS + outstanding
    } else {
        f64::from(b.latency_ns) * (outstanding + 1.0)
    }
}

/// The estimate after a response that took `sample_ns`, arriving
/// `elapsed_ns` after the backend's previous response, with the time
/// constant `decay_ns` (Finagle's and linkerd's default is 10 s).
///
/// A sample above the estimate replaces it (the peak). Otherwise the
/// estimate moves toward the sample: `estimate × w + sample × (1 − w)` with
/// `w = exp(−elapsed / decay)`, so an old estimate weighs less the longer
/// ago it was formed: half after `decay × ln 2`. A decay of 0 keeps no
/// memory (the estimate becomes the sample). A sample that is negative or
/// not a number is ignored. Computed in `f64` with `libm::exp`, so every
/// platform gets the same bits.
pub fn observe(estimate_ns: f32, sample_ns: f32, elapsed_ns: u64, decay_ns: u64) -> f32 {
    if sample_ns.is_nan() || sample_ns < 0.0 {
        return estimate_ns;
    }
    // A sample equal to the estimate leaves it where it is: the weighted
    // mean of two equal f32s, computed in f64, is within far less than
    // half an f32 step of them, so it rounds back to the same bits. Steady
    // response times (a lab of constants) then cost no `exp`.
    if sample_ns >= estimate_ns || decay_ns == 0 {
        return sample_ns;
    }
    let w = libm::exp(-(elapsed_ns as f64) / decay_ns as f64);
    (f64::from(estimate_ns) * w + f64::from(sample_ns) * (1.0 - w)) as f32
}

#[cfg(test)]
mod tests {
    use super::super::random_eligible;
    use super::super::test_support::{pool, words};
    use super::*;

    const MS: f32 = 1e6;
    const SECOND: u64 = 1_000_000_000;

    fn close(got: f32, want: f64) -> bool {
        ((f64::from(got) - want) / want).abs() < 1e-6
    }

    #[test]
    fn an_equal_sample_keeps_the_estimate_bit_for_bit() {
        // What the weighted mean would give, for many estimates and
        // weights: always the estimate itself, so skipping it is exact.
        let mut estimate = 1.0f32;
        while estimate < 1e12 {
            for elapsed in [1, 1_000, 1_000_000, SECOND, 30 * SECOND] {
                let w = libm::exp(-(elapsed as f64) / (10 * SECOND) as f64);
                let e = f64::from(estimate);
                let mean = (e * w + e * (1.0 - w)) as f32;
                assert_eq!(mean.to_bits(), estimate.to_bits(), "{estimate} {elapsed}");
                assert_eq!(observe(estimate, estimate, elapsed, 10 * SECOND), estimate);
            }
            estimate = estimate * 1.37 + 0.1;
        }
    }

    #[test]
    fn a_slower_response_sets_the_estimate_at_once() {
        assert_eq!(observe(0.0, 3.0 * MS, 0, 10 * SECOND), 3.0 * MS);
        assert_eq!(observe(2.0 * MS, 9.0 * MS, 1, 10 * SECOND), 9.0 * MS);
        assert_eq!(
            observe(2.0 * MS, 9.0 * MS, 3600 * SECOND, 10 * SECOND),
            9.0 * MS
        );
    }

    #[test]
    fn a_faster_response_pulls_the_estimate_down_by_elapsed_over_decay() {
        // 10 ms, then a 2 ms response 5 s later with a 10 s decay:
        // w = exp(-0.5) = 0.606530659712633, and the estimate becomes
        // 10 w + 2 (1 - w) = 6.852245277701067 ms.
        let e = observe(10.0 * MS, 2.0 * MS, 5 * SECOND, 10 * SECOND);
        assert!(close(e, 6_852_245.277_701_067), "{e}");
        // After decay × ln 2, halfway from 8 ms to 0.
        let e = observe(8.0 * MS, 0.0, 6_931_471_806, 10 * SECOND);
        assert!(close(e, 4_000_000.0), "{e}");
        // A second response at the same instant does not move it.
        assert_eq!(observe(10.0 * MS, 2.0 * MS, 0, 10 * SECOND), 10.0 * MS);
        // After a very long silence the old estimate is forgotten.
        let e = observe(10.0 * MS, 2.0 * MS, 1000 * SECOND, 10 * SECOND);
        assert!(close(e, 2e6), "{e}");
        // With no memory, the sample alone.
        assert_eq!(observe(10.0 * MS, 2.0 * MS, 0, 0), 2.0 * MS);
    }

    #[test]
    fn nonsense_samples_leave_the_estimate_alone() {
        assert_eq!(observe(5.0 * MS, f32::NAN, SECOND, SECOND), 5.0 * MS);
        assert_eq!(observe(5.0 * MS, -1.0, SECOND, SECOND), 5.0 * MS);
    }

    /// The two draws of `pick`, as it makes them.
    fn draws(backends: &[BackendView], w: u64) -> (usize, usize) {
        let a = random_eligible(backends, w as u32, 0x9e37_79b9).unwrap();
        let b = random_eligible(backends, (w >> 32) as u32, 0x7f4a_7c15).unwrap();
        (a, b)
    }

    /// Checks that every pick over `backends` is the cheaper of its two
    /// draws by `prefer` (the index that should win when both are drawn).
    fn check(backends: &[BackendView], prefer: usize, seed: u64) {
        let mut both = 0;
        for w in words(seed).take(2000) {
            let (a, b) = draws(backends, w);
            let want = if a == prefer || b == prefer {
                prefer
            } else {
                a
            };
            both += usize::from(a != b);
            assert_eq!(pick(backends, w), Some(want), "seed {seed}, {w:#x}");
        }
        assert!(both > 500, "the draws were rarely different: {both}");
    }

    #[test]
    fn prefers_the_lower_latency() {
        let mut backends = pool(2);
        backends[0].latency_ns = 3.0 * MS;
        backends[1].latency_ns = 1.0 * MS;
        check(&backends, 1, 1);
    }

    #[test]
    fn outstanding_requests_count_against_a_fast_backend() {
        // 1 ms × (5 + 1) = 6 ms against 3 ms × (0 + 1) = 3 ms.
        let mut backends = pool(2);
        backends[0].latency_ns = 1.0 * MS;
        backends[0].outstanding = 5;
        backends[1].latency_ns = 3.0 * MS;
        check(&backends, 1, 2);
        // 1 ms × 2 = 2 ms: now the fast one wins again.
        backends[0].outstanding = 1;
        check(&backends, 0, 3);
    }

    #[test]
    fn an_unsampled_backend_is_tried_once_then_waits_for_its_answer() {
        let mut backends = pool(2);
        backends[0].latency_ns = 50.0 * MS;
        backends[0].outstanding = 100;
        // No sample and nothing outstanding: cost 0, tried first.
        check(&backends, 1, 4);
        // One request out and still no answer: the sampled one is better.
        backends[1].outstanding = 1;
        check(&backends, 0, 5);
        // Between two unsampled busy backends, fewer outstanding wins.
        backends[0].latency_ns = 0.0;
        backends[0].outstanding = 2;
        check(&backends, 1, 6);
    }

    #[test]
    fn the_first_draw_wins_a_tie() {
        let mut backends = pool(5);
        for b in &mut backends {
            b.latency_ns = 2.0 * MS;
            b.outstanding = 1;
        }
        for w in words(7).take(1000) {
            assert_eq!(pick(&backends, w), Some(draws(&backends, w).0), "{w:#x}");
        }
    }

    #[test]
    fn skips_unhealthy_and_draining_backends() {
        let mut backends = pool(4);
        backends[0].healthy = false;
        backends[1].draining = true;
        backends[2].latency_ns = 9.0 * MS;
        backends[3].latency_ns = 8.0 * MS;
        let mut seen = [0u32; 4];
        for w in words(8).take(1000) {
            seen[pick(&backends, w).unwrap()] += 1;
        }
        assert_eq!((seen[0], seen[1]), (0, 0), "{seen:?}");
        // The dearer one wins only when drawn twice: 1 in 4.
        assert!((150..350).contains(&seen[2]), "{seen:?}");
    }

    #[test]
    fn none_on_an_empty_or_all_ineligible_pool() {
        assert_eq!(pick(&[], 7), None);
        let mut backends = pool(2);
        backends[0].healthy = false;
        backends[1].draining = true;
        for w in words(9).take(100) {
            assert_eq!(pick(&backends, w), None, "{w:#x}");
        }
    }

    #[test]
    fn the_same_entropy_gives_the_same_pick() {
        let mut backends = pool(10);
        for (i, b) in backends.iter_mut().enumerate() {
            b.latency_ns = (i % 3) as f32 * MS;
            b.outstanding = (i % 4) as u32;
        }
        for w in words(10).take(300) {
            assert_eq!(pick(&backends, w), pick(&backends, w), "{w:#x}");
        }
    }
}
