//! The disruption meter: the share of clients a change of backends sends
//! to a different backend. About (N − 1)/N for source hashing by modulo,
//! about 1/N for a hash ring or Maglev when one of N backends leaves, which
//! is why the latter two are called consistent.
//!
//! Keys are client addresses, not hashes: the meter runs each address
//! through a fresh `Selector` for the pool before and one for the pool
//! after, exactly as the balancer maps a new flow, so it measures the
//! algorithm as configured (virtual nodes, table size, load bound) and not
//! a copy of it. Each address becomes a flow from port 40000 to
//! 192.0.2.1:80; the hashing algorithms read only the address.
//!
//! The figure means something only for algorithms that hash flows
//! (`Algorithm::hashes_flows`). For the others it is still computed: a
//! randomised algorithm is given the same entropy word for a key on both
//! sides (a hash of the address), and a stateful one (round robin) advances
//! through the keys in the same order on both sides, so the count says how
//! far the two pick sequences differ, not how sticky clients are.

use super::{BackendView, Selector, flow_hash};
use crate::model::{Endpoint, FourTuple, Ip};
use crate::spec::Algorithm;
use std::fmt;

/// How many keys a change sent elsewhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Moved {
    /// Keys whose backend differs before and after (including keys that
    /// had a backend on one side only).
    pub moved: usize,
    /// Keys measured.
    pub total: usize,
}

impl Moved {
    /// The moved share, from 0 to 1 (0 for no keys).
    pub fn share(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.moved as f64 / self.total as f64
        }
    }
}

impl fmt::Display for Moved {
    /// "9.9% (989 of 10000)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.1}% ({} of {})",
            self.share() * 100.0,
            self.moved,
            self.total
        )
    }
}

/// The standard sample: `n` consecutive client addresses from 10.0.0.1
/// upward, as the simulation hands them out. Their hashes (`flow_hash`) are
/// well spread, so 100 000 of them measure a moved share to about ±0.1
/// points.
pub fn sample_keys(n: usize) -> Vec<Ip> {
    let first = Ip::new(10, 0, 0, 1);
    (0..n).map(|i| first.offset(i as u32)).collect()
}

/// The flow the meter maps for client address `ip`.
pub fn flow_of(ip: Ip) -> FourTuple {
    FourTuple::tcp(
        Endpoint::new(ip, 40000),
        Endpoint::new(Ip::new(192, 0, 2, 1), 80),
    )
}

/// Keys of `keys` that `algorithm` maps to a different backend with the
/// backends `after` than with the backends `before` (index for index: the
/// same position is the same backend). A key with no backend on either side
/// (an empty or ineligible pool) counts as moved unless it has none on
/// both.
pub fn moved_share(
    algorithm: Algorithm,
    before: &[BackendView],
    after: &[BackendView],
    keys: &[Ip],
) -> Moved {
    let mut old = Selector::new(algorithm);
    let mut new = Selector::new(algorithm);
    let moved = keys
        .iter()
        .filter(|&&ip| {
            let flow = flow_of(ip);
            let entropy = flow_hash::of_ip(ip);
            old.pick(before, &flow, entropy).ok() != new.pick(after, &flow, entropy).ok()
        })
        .count();
    Moved {
        moved,
        total: keys.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::pool;
    use super::*;

    /// Source hash, ring and Maglev with their defaults, in picker order.
    fn hashing() -> [Algorithm; 3] {
        let all: Vec<Algorithm> = Algorithm::ALL
            .into_iter()
            .filter(|a| a.hashes_flows())
            .collect();
        all.try_into().expect("three hashing algorithms")
    }

    #[test]
    fn the_figure_reads_as_a_share_and_a_count() {
        let m = Moved {
            moved: 989,
            total: 10_000,
        };
        assert_eq!(m.to_string(), "9.9% (989 of 10000)");
        assert!((m.share() - 0.0989).abs() < 1e-12);
        assert_eq!(Moved::default().share(), 0.0);
        assert_eq!(Moved::default().to_string(), "0.0% (0 of 0)");
    }

    #[test]
    fn sample_keys_are_consecutive_clients() {
        let keys = sample_keys(300);
        assert_eq!(keys.len(), 300);
        assert_eq!(keys[0], Ip::new(10, 0, 0, 1));
        assert_eq!(keys[255], Ip::new(10, 0, 1, 0));
        assert_eq!(sample_keys(300), keys);
    }

    #[test]
    fn no_change_moves_nothing() {
        let keys = sample_keys(5000);
        let backends = pool(7);
        for a in Algorithm::ALL.into_iter().filter(|a| a.hashes_flows()) {
            let m = moved_share(a, &backends, &backends, &keys);
            assert_eq!(
                m,
                Moved {
                    moved: 0,
                    total: 5000
                },
                "{a}"
            );
        }
    }

    #[test]
    fn consistent_hashing_moves_far_less_than_modulo() {
        let keys = sample_keys(20_000);
        let before = pool(10);
        let mut after = before.clone();
        after[4].healthy = false;
        let [modulo, ring, maglev] =
            hashing().map(|a| moved_share(a, &before, &after, &keys).share());
        assert!(modulo > 0.85, "source hash {modulo}");
        assert!((0.07..0.13).contains(&ring), "ring {ring}");
        assert!((0.08..0.12).contains(&maglev), "maglev {maglev}");
    }

    #[test]
    fn losing_every_backend_moves_every_key() {
        let keys = sample_keys(1000);
        let before = pool(3);
        let mut after = before.clone();
        for b in &mut after {
            b.draining = true;
        }
        for a in hashing() {
            assert_eq!(moved_share(a, &before, &after, &keys).moved, 1000, "{a}");
            // None on both sides: nothing moved.
            assert_eq!(moved_share(a, &after, &after, &keys).moved, 0, "{a}");
        }
        assert_eq!(moved_share(Algorithm::SourceHash, &[], &[], &keys).moved, 0);
    }

    #[test]
    fn a_weight_change_moves_keys_towards_the_heavier_backend() {
        // Doubling one of 4 backends' weight gives it 2/5 of the keys
        // instead of 1/4: at least 3/20 of the keys must move to it.
        let keys = sample_keys(20_000);
        let before = pool(4);
        let mut after = before.clone();
        after[1].weight = 2;
        for a in hashing() {
            let m = moved_share(a, &before, &after, &keys).share();
            assert!(m >= 0.14, "{a}: {m}");
        }
    }

    #[test]
    fn other_algorithms_still_get_a_count() {
        let keys = sample_keys(2000);
        let before = pool(5);
        let m = moved_share(Algorithm::RoundRobin, &before, &before, &keys);
        assert_eq!(
            m,
            Moved {
                moved: 0,
                total: 2000
            }
        );
        let mut after = before.clone();
        after[0].healthy = false;
        let m = moved_share(Algorithm::RoundRobin, &before, &after, &keys);
        assert!(m.moved > 1000, "{m}");
    }
}
