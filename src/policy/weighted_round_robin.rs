//! Smooth weighted round robin, as nginx does it: each pick adds every
//! backend's weight to its running score, takes the highest score, and
//! subtracts the total from the winner. Shares follow the weights and heavy
//! backends are interleaved instead of served in bursts.

use super::BackendView;

/// Running scores, one per backend position.
#[derive(Clone, Debug, Default)]
pub struct SmoothWeighted {
    current: Vec<i64>,
}

impl SmoothWeighted {
    /// The next pick; scores restart if the pool changed size.
    pub fn pick(&mut self, backends: &[BackendView]) -> Option<usize> {
        if self.current.len() != backends.len() {
            self.current = vec![0; backends.len()];
        }
        let mut total: i64 = 0;
        let mut best: Option<usize> = None;
        for (i, b) in backends.iter().enumerate() {
            if !b.eligible() || b.weight == 0 {
                continue;
            }
            let w = i64::from(b.weight);
            self.current[i] += w;
            total += w;
            if best.is_none_or(|j| self.current[i] > self.current[j]) {
                best = Some(i);
            }
        }
        let chosen = best?;
        self.current[chosen] -= total;
        Some(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::pool;
    use super::*;

    fn weighted(weights: &[u32]) -> Vec<BackendView> {
        let mut b = pool(weights.len());
        for (v, w) in b.iter_mut().zip(weights) {
            v.weight = *w;
        }
        b
    }

    #[test]
    fn weights_5_1_1_give_the_nginx_sequence() {
        let backends = weighted(&[5, 1, 1]);
        let mut s = SmoothWeighted::default();
        let picks: String = (0..7)
            .map(|_| (b'a' + s.pick(&backends).unwrap() as u8) as char)
            .collect();
        assert_eq!(picks, "aabacaa");
    }

    #[test]
    fn shares_follow_weights_exactly_over_a_cycle() {
        let backends = weighted(&[3, 2, 1]);
        let mut s = SmoothWeighted::default();
        let mut counts = [0; 3];
        for _ in 0..600 {
            counts[s.pick(&backends).unwrap()] += 1;
        }
        assert_eq!(counts, [300, 200, 100]);
    }

    #[test]
    fn zero_weight_takes_nothing() {
        let backends = weighted(&[0, 1]);
        let mut s = SmoothWeighted::default();
        assert!((0..10).all(|_| s.pick(&backends) == Some(1)));
        assert_eq!(s.pick(&weighted(&[0, 0])), None);
    }
}
