//! The panic threshold (Envoy's panic mode): when fewer than a threshold
//! of the pool's backends are eligible, the few left would take every
//! connection and fall over too, so the balancer spreads over the whole
//! pool, healthy or not, and accepts that some connections fail.

use crate::spec::Percent;

/// The pool is in panic: `eligible` of `total` backends is below
/// `threshold` per cent of them. An empty pool is not in panic (there is
/// nothing to spread over).
pub fn in_panic(eligible: usize, total: usize, threshold: Percent) -> bool {
    total > 0 && eligible * 100 < total * usize::from(threshold.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_starts_strictly_below_the_threshold() {
        let half = Percent::new_const(50);
        assert!(!in_panic(5, 10, half), "exactly half is not below half");
        assert!(in_panic(4, 10, half));
        assert!(in_panic(0, 10, half));
        assert!(!in_panic(0, 0, half));
        assert!(!in_panic(1, 10, Percent::new_const(0)), "0% never panics");
        assert!(in_panic(9, 10, Percent::new_const(100)));
        assert!(!in_panic(10, 10, Percent::new_const(100)));
    }
}
