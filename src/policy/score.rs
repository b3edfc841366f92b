//! Dynamic scoring, the source design's adaptive balancing: every eligible
//! backend gets a score from its latency, its connections and its recent
//! errors, and the lowest score takes the connection (ties broken uniformly
//! at random). With weights `latency`, `connections` and `errors`:
//!
//! ```text
//! score = latency     × latency_ns / 1 000 000     (milliseconds)
//!       + connections × (active + half_open)       (open connections)
//!       + errors      × error_rate × 100           (per cent failed)
//! ```
//!
//! computed in `f64`. With every weight at 1, one millisecond of response
//! time, one open connection and one per cent of failed outcomes count the
//! same; a weight of 0 leaves its term out.
//!
//! `latency_ns` is the backend's peak-EWMA response-time estimate (see
//! `peak_ewma::observe`); before its first response it is 0, so a new
//! backend has no latency term and is tried early. `error_rate` is kept by
//! [`observe_outcome`]: the share of its recent outcomes that failed.

use super::BackendView;
use super::least_connections::lowest_by;

/// How much each term of the score counts (all finite and not negative).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    /// Per millisecond of the peak-EWMA latency estimate.
    pub latency: f64,
    /// Per open connection, established or half-open.
    pub connections: f64,
    /// Per percentage point of recent outcomes that failed.
    pub errors: f64,
}

/// The score of `backend` under `weights` (lower is better), by the
/// formula of the module documentation.
#[inline]
pub fn score(backend: &BackendView, weights: Weights) -> f64 {
    let latency_ms = f64::from(backend.latency_ns) / 1e6;
    let connections = f64::from(backend.load());
    let errors_percent = f64::from(backend.error_rate) * 100.0;
    // Adding 0 folds a -0 (from a weight of -0) into 0, so the two tie.
    weights.latency * latency_ms
        + weights.connections * connections
        + weights.errors * errors_percent
        + 0.0
}

/// The eligible backend with the lowest [`score`]; ties are broken
/// uniformly at random by `entropy`.
#[inline]
pub fn pick(backends: &[BackendView], weights: Weights, entropy: u64) -> Option<usize> {
    lowest_by(backends, entropy, |b| {
        b.eligible().then(|| ordered(score(b, weights)))
    })
}

/// `x`'s bits, reordered so that unsigned order is the order of the floats
/// (IEEE 754's total order: positive not-a-number last).
#[inline]
fn ordered(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 0 {
        bits | 1 << 63
    } else {
        !bits
    }
}

/// How much the newest outcome counts in [`observe_outcome`].
const ALPHA: f32 = 1.0 / 16.0;

/// The error rate after one more outcome: an exponentially weighted share
/// of failed outcomes, `rate + α × (x − rate)` with `x` 1 for a failure and
/// 0 for a success and `α = 1/16`. An outcome `k` outcomes old weighs
/// `(15/16)^k` of the newest: the last 16 outcomes carry about 64% of the
/// rate, the last 48 about 95%. One failure after a clean run gives 1/16.
/// The rate is kept within 0 to 1 (a rate given outside counts as its
/// nearest bound, not a number as 0).
pub fn observe_outcome(rate: f32, failed: bool) -> f32 {
    let rate = if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    };
    let x = if failed { 1.0 } else { 0.0 };
    (rate + ALPHA * (x - rate)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::super::least_connections::chi_square;
    use super::super::test_support::{pool, words};
    use super::*;

    const MS: f32 = 1e6;

    const EVEN: Weights = Weights {
        latency: 1.0,
        connections: 1.0,
        errors: 1.0,
    };

    /// A backend with this latency (ms), load and error rate.
    fn backend(latency_ms: f32, load: u32, error_rate: f32) -> BackendView {
        BackendView {
            latency_ns: latency_ms * MS,
            active: load,
            error_rate,
            ..BackendView::idle()
        }
    }

    #[test]
    fn the_formula_on_a_worked_example() {
        let weights = Weights {
            latency: 1.0,
            connections: 2.0,
            errors: 0.5,
        };
        let mut backends = vec![
            backend(4.0, 3, 0.125),
            backend(10.0, 0, 0.0),
            backend(2.0, 1, 0.25),
        ];
        backends[2].half_open = 1;
        // 4 + 2×3 + 0.5×12.5; 10 + 0 + 0; 2 + 2×(1+1) + 0.5×25.
        let scores: Vec<f64> = backends.iter().map(|b| score(b, weights)).collect();
        assert_eq!(scores, [16.25, 10.0, 18.5]);
        for w in words(1).take(200) {
            assert_eq!(pick(&backends, weights, w), Some(1), "{w:#x}");
        }
        // Even weights: 4 + 3 + 12.5 = 19.5, 10, 2 + 2 + 25 = 29.
        let scores: Vec<f64> = backends.iter().map(|b| score(b, EVEN)).collect();
        assert_eq!(scores, [19.5, 10.0, 29.0]);
        // Connections weighing nothing: 4 + 6.25 = 10.25, 10, 2 + 12.5.
        let free = Weights {
            connections: 0.0,
            ..weights
        };
        for w in words(2).take(200) {
            assert_eq!(pick(&backends, free, w), Some(1), "{w:#x}");
        }
        // Errors weighing nothing: 4 + 6 = 10, 10, 2 + 4 = 6.
        let forgiving = Weights {
            errors: 0.0,
            ..weights
        };
        for w in words(3).take(200) {
            assert_eq!(pick(&backends, forgiving, w), Some(2), "{w:#x}");
        }
    }

    #[test]
    fn a_weight_of_zero_leaves_its_term_out() {
        // Each pair: backend 0 is dreadful on one term only; backend 1 is
        // slightly worse on another. With that term's weight at 0, backend
        // 0 wins; with it at 1, backend 1 does.
        let cases = [
            ("latency", backend(1000.0, 0, 0.0), backend(0.0, 1, 0.0)),
            ("connections", backend(0.0, 1000, 0.0), backend(1.0, 0, 0.0)),
            ("errors", backend(0.0, 0, 1.0), backend(0.0, 1, 0.0)),
        ];
        for (term, bad, good) in cases {
            let mut zero = EVEN;
            match term {
                "latency" => zero.latency = 0.0,
                "connections" => zero.connections = 0.0,
                _ => zero.errors = 0.0,
            }
            let backends = [bad, good];
            for w in words(4).take(200) {
                assert_eq!(pick(&backends, zero, w), Some(0), "{term}, {w:#x}");
                assert_eq!(pick(&backends, EVEN, w), Some(1), "{term}, {w:#x}");
            }
            // Backend 0 differs from a blank backend in that term only:
            // the two tie.
            let twins = [bad, backend(0.0, 0, 0.0)];
            let firsts = words(5)
                .take(2000)
                .filter(|&w| pick(&twins, zero, w) == Some(0))
                .count();
            assert!(firsts.abs_diff(1000) < 120, "{term}: {firsts} of 2000");
        }
    }

    #[test]
    fn ties_are_broken_uniformly_at_random() {
        // Half the backends have 1 ms and no connection, half 1 connection
        // and no sample: every score is 1.
        let seed = 6;
        let backends: Vec<BackendView> = (0..100)
            .map(|i| {
                if i % 2 == 0 {
                    backend(1.0, 0, 0.0)
                } else {
                    backend(0.0, 1, 0.0)
                }
            })
            .collect();
        let mut counts = [0u64; 100];
        for w in words(seed).take(100_000) {
            counts[pick(&backends, EVEN, w).unwrap()] += 1;
        }
        let chi = chi_square(&counts);
        assert!(chi < 190.0, "seed {seed}: chi-square {chi:.1}: {counts:?}");
        for c in counts {
            assert!(c.abs_diff(1_000) < 160, "seed {seed}: {counts:?}");
        }
    }

    #[test]
    fn skips_unhealthy_and_draining_backends() {
        let mut backends = vec![
            backend(0.0, 0, 0.0),
            backend(0.0, 0, 0.0),
            backend(5.0, 2, 0.5),
            backend(5.0, 2, 0.4),
        ];
        backends[0].healthy = false;
        backends[1].draining = true;
        for w in words(7).take(300) {
            assert_eq!(pick(&backends, EVEN, w), Some(3), "{w:#x}");
        }
    }

    #[test]
    fn none_on_an_empty_or_all_ineligible_pool() {
        assert_eq!(pick(&[], EVEN, 7), None);
        let mut backends = pool(2);
        backends[0].healthy = false;
        backends[1].draining = true;
        for w in words(8).take(100) {
            assert_eq!(pick(&backends, EVEN, w), None, "{w:#x}");
        }
    }

    #[test]
    fn the_same_entropy_gives_the_same_pick() {
        let backends = pool(10);
        for w in words(9).take(300) {
            assert_eq!(pick(&backends, EVEN, w), pick(&backends, EVEN, w));
        }
    }

    #[test]
    fn ordering_follows_the_floats() {
        let xs = [0.0, 1e-300, 0.5, 1.0, 16.25, 1e300, f64::INFINITY];
        for pair in xs.windows(2) {
            assert!(ordered(pair[0]) < ordered(pair[1]), "{pair:?}");
        }
        assert!(ordered(-1.0) < ordered(0.0));
        assert_eq!(
            score(
                &backend(0.0, 0, 0.0),
                Weights {
                    latency: -0.0,
                    ..EVEN
                }
            )
            .to_bits(),
            0
        );
    }

    #[test]
    fn the_error_rate_follows_recent_outcomes() {
        assert_eq!(observe_outcome(0.0, true), 1.0 / 16.0);
        assert_eq!(observe_outcome(1.0 / 16.0, false), 15.0 / 256.0);
        assert_eq!(observe_outcome(1.0, true), 1.0);
        assert_eq!(observe_outcome(0.0, false), 0.0);
        let mut rate = 0.0;
        for k in 0..200 {
            let next = observe_outcome(rate, true);
            assert!(next > rate || next == 1.0, "step {k}: {rate} -> {next}");
            rate = next;
        }
        assert!(rate > 0.9999 && rate <= 1.0, "{rate}");
        for k in 0..200 {
            let next = observe_outcome(rate, false);
            assert!(next < rate || next == 0.0, "step {k}: {rate} -> {next}");
            rate = next;
        }
        assert!((0.0..1e-4).contains(&rate), "{rate}");
        // Sixteen failures after a clean run: 1 - (15/16)^16, about 64%.
        let rate = (0..16).fold(0.0, |r, _| observe_outcome(r, true));
        assert!((rate - 0.644).abs() < 1e-3, "{rate}");
    }

    #[test]
    fn rates_out_of_range_are_brought_back() {
        assert_eq!(observe_outcome(1.5, true), 1.0);
        assert_eq!(observe_outcome(-0.5, false), 0.0);
        assert_eq!(observe_outcome(f32::NAN, true), 1.0 / 16.0);
    }
}
