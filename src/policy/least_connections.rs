//! Least connections: the eligible backend with the fewest connections.

use super::BackendView;

/// The eligible backend with the lowest load; ties go to the lowest index so
/// the choice is deterministic.
#[inline]
pub fn pick(backends: &[BackendView]) -> Option<usize> {
    // Load in the high half and index in the low half: the minimum key is
    // the least loaded backend, lowest index first. Ineligible backends get
    // the largest key. Written without branches so the loop vectorises.
    let best = backends
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let load = if b.eligible() {
                u64::from(b.load())
            } else {
                u64::MAX >> 32
            };
            (load << 32) | i as u64
        })
        .min()?;
    let i = (best & 0xffff_ffff) as usize;
    backends[i].eligible().then_some(i)
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
