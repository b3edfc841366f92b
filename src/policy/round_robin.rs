//! Round robin: each eligible backend in turn.

use super::BackendView;

/// Remembers where the last pick was, so the next starts after it.
#[derive(Clone, Debug, Default)]
pub struct RoundRobin {
    next: usize,
}

impl RoundRobin {
    /// The next eligible backend at or after the cursor, wrapping once.
    #[inline]
    pub fn pick(&mut self, backends: &[BackendView]) -> Option<usize> {
        // A cursor past the end (the pool shrank) starts over at the first.
        let start = if self.next >= backends.len() {
            0
        } else {
            self.next
        };
        let i = pick_from(backends, start)?;
        self.next = if i + 1 == backends.len() { 0 } else { i + 1 };
        Some(i)
    }
}

/// The first eligible backend at or after `start` (taken modulo the pool's
/// size), wrapping once. A cursor shared between threads (the real proxy's
/// atomic counter) passes its own position here.
#[inline]
pub fn pick_from(backends: &[BackendView], start: usize) -> Option<usize> {
    pick_from_by(backends.len(), start, |i| backends[i].eligible())
}

/// [`pick_from`] over `n` backends known only through `eligible`, for a
/// caller that can answer it without building the views (the proxy's
/// atomics).
#[inline]
pub fn pick_from_by(n: usize, start: usize, eligible: impl Fn(usize) -> bool) -> Option<usize> {
    if n == 0 {
        return None;
    }
    let mut i = if start >= n { start % n } else { start };
    for _ in 0..n {
        if eligible(i) {
            return Some(i);
        }
        i = if i + 1 == n { 0 } else { i + 1 };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::test_support::pool;
    use super::*;

    #[test]
    fn cycles_in_exact_order() {
        let backends = pool(3);
        let mut rr = RoundRobin::default();
        let picks: Vec<_> = (0..7).map(|_| rr.pick(&backends).unwrap()).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn skips_a_down_backend_and_keeps_the_cycle() {
        let mut backends = pool(4);
        backends[2].healthy = false;
        let mut rr = RoundRobin::default();
        let picks: Vec<_> = (0..6).map(|_| rr.pick(&backends).unwrap()).collect();
        assert_eq!(picks, [0, 1, 3, 0, 1, 3]);
    }

    #[test]
    fn survives_the_pool_shrinking_under_the_cursor() {
        let mut rr = RoundRobin::default();
        let big = pool(5);
        for _ in 0..4 {
            rr.pick(&big);
        }
        assert_eq!(rr.pick(&pool(2)), Some(0));
    }
}
