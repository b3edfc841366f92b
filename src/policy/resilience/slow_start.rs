//! Slow start: a backend that has just come up takes a share of the new
//! connections that grows linearly over a window, so a cold server (empty
//! caches, a JIT still warming) is not handed the herd at once. HAProxy's
//! `slowstart` ramps the weight (and the connection limit) the same way;
//! here the ramp applies to every algorithm: a pick of a ramping backend
//! stands with probability `share`, and only while the backend holds fewer
//! than `share` of the others' mean connections; otherwise the flow is
//! balanced over the others. The second rule matters for least
//! connections, which offers an empty backend every pick: the first alone
//! would hand it a herd late in the window.

use crate::model::SimDuration;

/// The share of its picks a backend `since` into its ramp keeps: from 0 at
/// the start to 1 at the end of `window`, linearly.
pub fn share(since: SimDuration, window: SimDuration) -> f64 {
    if window.as_nanos() == 0 || since >= window {
        return 1.0;
    }
    since.as_nanos() as f64 / window.as_nanos() as f64
}

/// Whether a pick of a ramping backend stands, given a uniform random
/// 32-bit `word`: true with probability `share(since, window)`.
pub fn keeps_pick(since: SimDuration, window: SimDuration, word: u32) -> bool {
    let share = share(since, window);
    // `word / 2^32` is uniform in [0, 1): compare in integers so a share of
    // 1 always keeps and 0 never does.
    (f64::from(word)) < share * 4_294_967_296.0
}

/// Whether a ramping backend holding `load` connections may take one
/// more, when the others hold `mean_load` on average: below `share` of it
/// (one connection is always allowed, or a ramp from an empty pool would
/// never start).
pub fn within_ramped_load(
    since: SimDuration,
    window: SimDuration,
    load: u32,
    mean_load: f64,
) -> bool {
    let cap = (share(since, window) * mean_load).ceil().max(1.0);
    f64::from(load) < cap
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    #[test]
    fn the_ramp_is_linear_from_nothing_to_everything() {
        let w = ms(10_000);
        assert_eq!(share(ms(0), w), 0.0);
        assert_eq!(share(ms(2_500), w), 0.25);
        assert_eq!(share(ms(5_000), w), 0.5);
        assert_eq!(share(ms(10_000), w), 1.0);
        assert_eq!(share(ms(60_000), w), 1.0);
        assert_eq!(share(ms(5), SimDuration::ZERO), 1.0, "no window, no ramp");
    }

    #[test]
    fn picks_stand_in_proportion_to_the_ramp() {
        // An even spread of words: the kept fraction is the share to
        // within one word in 4096.
        let w = ms(1_000);
        for (at, want) in [(0, 0.0), (100, 0.1), (500, 0.5), (900, 0.9), (1_000, 1.0)] {
            let kept = (0..4096u32)
                .filter(|i| keeps_pick(ms(at), w, i.wrapping_mul(1 << 20)))
                .count();
            let got = kept as f64 / 4096.0;
            assert!(
                (got - want).abs() <= 1.0 / 4096.0,
                "at {at} ms: {got} vs {want}"
            );
        }
        assert!(keeps_pick(ms(1_000), w, u32::MAX));
        assert!(!keeps_pick(ms(0), w, 0));
    }

    #[test]
    fn a_ramping_backend_holds_at_most_its_share_of_the_mean_load() {
        let w = ms(10_000);
        // A quarter in: a quarter of the others' mean of 40 is 10.
        assert!(within_ramped_load(ms(2_500), w, 9, 40.0));
        assert!(!within_ramped_load(ms(2_500), w, 10, 40.0));
        // At the start one connection is allowed, not none.
        assert!(within_ramped_load(ms(0), w, 0, 40.0));
        assert!(!within_ramped_load(ms(0), w, 1, 40.0));
        // After the ramp, the mean itself (rounded up).
        assert!(within_ramped_load(ms(20_000), w, 40, 40.5));
        assert!(!within_ramped_load(ms(20_000), w, 41, 40.5));
    }
}
