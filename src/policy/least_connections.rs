//! Least connections: the eligible backend with the fewest connections.

use super::BackendView;

/// The eligible backend with the lowest load; ties go to the lowest index so
/// the choice is deterministic.
#[inline]
pub fn pick(backends: &[BackendView]) -> Option<usize> {
    let mut best: Option<(usize, u32)> = None;
    for (i, b) in backends.iter().enumerate() {
        if !b.eligible() {
            continue;
        }
        let load = b.load();
        if best.is_none_or(|(_, l)| load < l) {
            best = Some((i, load));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::pool;
    use super::*;

    #[test]
    fn prefers_the_least_loaded() {
        let mut backends = pool(4);
        backends[0].active = 5;
        backends[1].active = 2;
        backends[1].half_open = 1;
        backends[2].active = 2;
        backends[3].active = 9;
        assert_eq!(pick(&backends), Some(2));
    }

    #[test]
    fn ignores_an_idle_backend_that_is_down() {
        let mut backends = pool(3);
        backends[0].healthy = false;
        backends[1].active = 4;
        backends[2].active = 3;
        assert_eq!(pick(&backends), Some(2));
    }

    #[test]
    fn breaks_ties_by_lowest_index() {
        assert_eq!(pick(&pool(3)), Some(0));
    }
}
