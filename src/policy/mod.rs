//! Pure decisions with no clock and no I/O: which backend takes a new
//! connection, when a backend's health flips, and the SYN-flood defences
//! (SYN cookies, per-source rate limits, CIDR allow/deny lists). Shared by
//! the simulation and, later, a real proxy; depends on `model/` and `spec/`
//! only, and takes the time as an argument wherever time matters.
//!
//! Every algorithm sees the whole backend table in a stable order and picks
//! only among healthy, non-draining backends. Randomised algorithms take
//! their randomness as an `entropy` word from the caller, so a pick is a
//! function of its inputs and the World's seed decides every run.

pub mod disruption;
pub mod explain;
pub mod flow_hash;
mod health;
mod ip_filter;
mod least_connections;
mod least_requests;
pub mod maglev;
pub mod peak_ewma;
mod power_of_choices;
mod power_of_two;
mod random;
mod rate_limit;
pub mod resilience;
pub mod ring_hash;
pub mod round_robin;
pub mod score;
pub mod script;
mod source_hash;
mod syn_cookie;
mod weighted_least;
mod weighted_round_robin;

pub use health::{HealthTracker, HealthTransition};
pub use ip_filter::{DenyReason, FilterVerdict, IpFilter};
pub use rate_limit::{Decision, RateLimit, RateLimitError, RateLimiter};
pub use syn_cookie::{
    CookieError, CookieJar, MAX_AGE as COOKIE_MAX_AGE, MSS_TABLE, PERIOD as COOKIE_PERIOD,
};

use crate::model::FourTuple;
use crate::spec::Algorithm;

/// What an algorithm may know of one backend.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackendView {
    /// Relative share for weighted algorithms (0 takes nothing).
    pub weight: u32,
    /// Health checks currently say it is up.
    pub healthy: bool,
    /// Finishing its connections; takes no new ones.
    pub draining: bool,
    /// Established connections through the balancer.
    pub active: u32,
    /// Half-open connections through the balancer.
    pub half_open: u32,
    /// Requests sent to it and not yet answered: queued or in service.
    pub outstanding: u32,
    /// Peak-EWMA estimate of its response time in nanoseconds (0 until a
    /// response is seen); see `peak_ewma`.
    pub latency_ns: f32,
    /// Share of its recent outcomes that failed, from 0 to 1; see `score`.
    pub error_rate: f32,
}

impl BackendView {
    /// A healthy, non-draining backend with weight 1 and no connections.
    pub const fn idle() -> BackendView {
        BackendView {
            weight: 1,
            healthy: true,
            draining: false,
            active: 0,
            half_open: 0,
            outstanding: 0,
            latency_ns: 0.0,
            error_rate: 0.0,
        }
    }

    /// May take a new connection.
    #[inline]
    pub const fn eligible(&self) -> bool {
        self.healthy && !self.draining
    }

    /// Connections counted by load-aware algorithms.
    #[inline]
    pub const fn load(&self) -> u32 {
        self.active + self.half_open
    }
}

/// Why no backend could be picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoBackend {
    /// The backend table is empty.
    #[error("no backend: the pool is empty")]
    Empty,
    /// Every backend is down or draining.
    #[error("no backend: {down} down and {draining} draining of {total}")]
    NoneEligible {
        /// Backends in the table.
        total: usize,
        /// Backends whose health checks say down.
        down: usize,
        /// Healthy backends that are draining.
        draining: usize,
    },
    /// A weighted algorithm found eligible backends, but every one of them
    /// has weight 0: as in HAProxy, weight 0 takes no new connections.
    #[error("no backend: every eligible backend ({eligible} of {total}) has weight 0")]
    ZeroWeights {
        /// Backends in the table.
        total: usize,
        /// Healthy, non-draining backends (all of weight 0).
        eligible: usize,
    },
}

impl NoBackend {
    /// Explains why `backends` has no eligible member.
    pub fn explain(backends: &[BackendView]) -> NoBackend {
        if backends.is_empty() {
            return NoBackend::Empty;
        }
        let down = backends.iter().filter(|b| !b.healthy).count();
        let draining = backends.iter().filter(|b| b.healthy && b.draining).count();
        NoBackend::NoneEligible {
            total: backends.len(),
            down,
            draining,
        }
    }
}

/// An algorithm together with the state it keeps between picks: cursors,
/// and the hash ring or Maglev table built from the backends in rotation.
#[derive(Clone, Debug)]
pub struct Selector {
    algorithm: Algorithm,
    round_robin: round_robin::RoundRobin,
    weighted: weighted_round_robin::SmoothWeighted,
    /// Built at the first pick after the backends in rotation changed.
    ring: Option<ring_hash::Ring>,
    /// Built at the first pick after the backends in rotation changed.
    maglev: Option<maglev::Table>,
    /// The lab's own script, its picks and its faults.
    script: Option<script::Script>,
}

impl Selector {
    /// A selector running `algorithm` from a fresh state.
    pub fn new(algorithm: Algorithm) -> Selector {
        Selector {
            algorithm,
            round_robin: round_robin::RoundRobin::default(),
            weighted: weighted_round_robin::SmoothWeighted::default(),
            ring: None,
            maglev: None,
            script: match algorithm {
                Algorithm::Script(s) => Some(script::Script::new(s)),
                _ => None,
            },
        }
    }

    /// A line for the owner's log about the script's faults, once: after
    /// its first fault, when it is retired, and each time the count of
    /// faults reaches a power of ten (see `script`). `None` for the other
    /// algorithms.
    pub fn take_script_fault(&mut self) -> Option<String> {
        self.script.as_mut()?.take_fault()
    }

    /// The algorithm in use.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Switches algorithm, starting its state afresh.
    pub fn set_algorithm(&mut self, algorithm: Algorithm) {
        *self = Selector::new(algorithm);
    }

    /// The algorithm draws on the entropy word of a pick (the caller need
    /// not draw one otherwise).
    pub fn needs_entropy(&self) -> bool {
        self.algorithm.needs_entropy()
    }

    /// Tells the selector that the backends in rotation changed: one was
    /// added or removed, went up or down, started or stopped draining, or
    /// had its weight changed. A hash ring or Maglev table is rebuilt at
    /// the next pick; other algorithms read the views afresh every pick and
    /// need no telling. The owner of the views must call this, since
    /// comparing them at every pick would cost O(backends).
    pub fn membership_changed(&mut self) {
        self.ring = None;
        self.maglev = None;
    }

    /// Index into `backends` of the backend for a new flow, or why there is
    /// none. `entropy` is a fresh random word; only the algorithms for
    /// which `needs_entropy` holds read it.
    #[inline]
    pub fn pick(
        &mut self,
        backends: &[BackendView],
        flow: &FourTuple,
        entropy: u64,
    ) -> Result<usize, NoBackend> {
        let choice = match self.algorithm {
            Algorithm::RoundRobin => self.round_robin.pick(backends),
            Algorithm::Random => random::pick(backends, entropy),
            Algorithm::WeightedRoundRobin => self.weighted.pick(backends),
            Algorithm::LeastConnections => least_connections::pick(backends, entropy),
            Algorithm::WeightedLeastConnections => weighted_least::pick_wlc(backends, entropy),
            Algorithm::ShortestExpectedDelay => weighted_least::pick_sed(backends, entropy),
            Algorithm::NeverQueue => weighted_least::pick_nq(backends, entropy),
            Algorithm::LeastRequests => least_requests::pick(backends, entropy),
            Algorithm::PowerOfTwoChoices => power_of_two::pick(backends, entropy),
            Algorithm::PowerOfChoices { d } => power_of_choices::pick(backends, d.get(), entropy),
            Algorithm::PeakEwma { .. } => peak_ewma::pick(backends, entropy),
            Algorithm::SourceHash => source_hash::pick(backends, flow_hash::of(flow)),
            Algorithm::RingHash { vnodes, bound } => {
                let ring = self
                    .ring
                    .get_or_insert_with(|| ring_hash::Ring::build(backends, vnodes.get()));
                ring.pick(backends, flow_hash::of(flow), bound.map(|b| b.get()))
            }
            Algorithm::Maglev { table_size } => {
                let table = self
                    .maglev
                    .get_or_insert_with(|| maglev::Table::build(backends, table_size.get()));
                table.pick(backends, flow_hash::of(flow))
            }
            Algorithm::Score {
                latency,
                connections,
                errors,
            } => score::pick(
                backends,
                score::Weights {
                    latency: latency.get(),
                    connections: connections.get(),
                    errors: errors.get(),
                },
                entropy,
            ),
            // After a fault the script's pick goes to round robin.
            Algorithm::Script(_) => match self.script.as_mut() {
                Some(s) => s.pick(backends, flow, entropy, &mut self.round_robin),
                None => self.round_robin.pick(backends),
            },
        };
        choice.ok_or_else(|| {
            let eligible = backends.iter().filter(|b| b.eligible()).count();
            // Only a weighted algorithm turns eligible backends away: then
            // their weights are why, not their health.
            if self.algorithm.honours_weights() && eligible > 0 {
                NoBackend::ZeroWeights {
                    total: backends.len(),
                    eligible,
                }
            } else {
                NoBackend::explain(backends)
            }
        })
    }
}

/// 1, 10, 100, …: the counts at which a stream of repeated faults or
/// timeouts earns another log line, so it shows without flooding the log.
pub(crate) fn is_power_of_ten(mut n: u64) -> bool {
    while n >= 10 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

/// Maps a 32-bit random word onto `0..n` without division (Lemire).
#[inline]
pub(crate) fn reduce(word: u32, n: usize) -> usize {
    ((word as u64 * n as u64) >> 32) as usize
}

/// Draws an eligible index at random: a few tries by rejection (cheap when
/// most backends are eligible), then a scan so a nearly-empty pool is still
/// fair.
#[inline]
pub(crate) fn random_eligible(backends: &[BackendView], word: u32, salt: u32) -> Option<usize> {
    let n = backends.len();
    if n == 0 {
        return None;
    }
    let mut w = word;
    for _ in 0..4 {
        let i = reduce(w, n);
        if backends[i].eligible() {
            return Some(i);
        }
        // xorshift keeps the retries deterministic and cheap.
        w ^= w << 13;
        w ^= w >> 17;
        w ^= w << 5;
        w = w.wrapping_add(salt);
    }
    let eligible = backends.iter().filter(|b| b.eligible()).count();
    if eligible == 0 {
        return None;
    }
    let k = reduce(w, eligible);
    backends
        .iter()
        .enumerate()
        .filter(|(_, b)| b.eligible())
        .nth(k)
        .map(|(i, _)| i)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::BackendView;
    use crate::model::{Endpoint, FourTuple, Ip};

    /// `n` idle, healthy backends.
    pub fn pool(n: usize) -> Vec<BackendView> {
        vec![BackendView::idle(); n]
    }

    /// Any flow; the current algorithms ignore it.
    pub fn flow() -> FourTuple {
        FourTuple::tcp(
            Endpoint::new(Ip::new(10, 0, 0, 1), 40000),
            Endpoint::new(Ip::new(192, 0, 2, 1), 80),
        )
    }

    /// A simple deterministic stream of entropy words for tests.
    pub fn words(seed: u64) -> impl Iterator<Item = u64> {
        let mut x = seed | 1;
        std::iter::from_fn(move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Some(x)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn every_algorithm_names_the_empty_pool() {
        for a in Algorithm::ALL {
            let mut s = Selector::new(a);
            assert_eq!(s.pick(&[], &flow(), 7), Err(NoBackend::Empty), "{a}");
        }
    }

    #[test]
    fn every_algorithm_explains_an_all_ineligible_pool() {
        let mut backends = pool(5);
        backends[0].healthy = false;
        backends[1].healthy = false;
        backends[2].healthy = false;
        backends[3].draining = true;
        backends[4].draining = true;
        for a in Algorithm::ALL {
            let mut s = Selector::new(a);
            let err = s.pick(&backends, &flow(), 7).unwrap_err();
            assert_eq!(
                err,
                NoBackend::NoneEligible {
                    total: 5,
                    down: 3,
                    draining: 2
                },
                "{a}"
            );
            assert_eq!(err.to_string(), "no backend: 3 down and 2 draining of 5");
        }
    }

    #[test]
    fn weighted_round_robin_names_zero_weights_not_health() {
        let mut backends = pool(3);
        for b in &mut backends {
            b.weight = 0;
        }
        backends[2].healthy = false;
        let mut s = Selector::new(Algorithm::WeightedRoundRobin);
        let err = s.pick(&backends, &flow(), 7).unwrap_err();
        assert_eq!(
            err,
            NoBackend::ZeroWeights {
                total: 3,
                eligible: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "no backend: every eligible backend (2 of 3) has weight 0"
        );
        // With none eligible, health is the reason whatever the weights.
        backends[0].healthy = false;
        backends[1].draining = true;
        assert!(matches!(
            s.pick(&backends, &flow(), 7),
            Err(NoBackend::NoneEligible { .. })
        ));
        // Algorithms that ignore weights still pick a weight-0 backend.
        let mut rr = Selector::new(Algorithm::RoundRobin);
        assert_eq!(
            rr.pick(
                &pool(1)
                    .iter()
                    .map(|b| BackendView { weight: 0, ..*b })
                    .collect::<Vec<_>>(),
                &flow(),
                7
            ),
            Ok(0)
        );
    }

    #[test]
    fn every_algorithm_skips_unhealthy_and_draining_backends() {
        let mut backends = pool(6);
        backends[1].healthy = false;
        backends[3].draining = true;
        backends[4].healthy = false;
        for a in Algorithm::ALL {
            let mut s = Selector::new(a);
            for (i, w) in words(11).take(2000).enumerate() {
                let pick = s.pick(&backends, &flow(), w).unwrap();
                assert!(backends[pick].eligible(), "{a} picked {pick} at pick {i}");
            }
        }
    }

    #[test]
    fn only_the_randomised_algorithms_read_the_entropy_word() {
        // The balancer draws a word only when `needs_entropy` says so;
        // an algorithm that read it anyway would change runs unseen.
        let mut backends = pool(7);
        backends[2].active = 3;
        backends[5].half_open = 1;
        for a in Algorithm::ALL {
            let base = Selector::new(a);
            let picks: Vec<usize> = words(5)
                .take(64)
                .map(|w| base.clone().pick(&backends, &flow(), w).unwrap())
                .collect();
            let varies = picks.iter().any(|&p| p != picks[0]);
            assert_eq!(varies, base.needs_entropy(), "{a}: {picks:?}");
        }
    }

    #[test]
    fn random_eligible_finds_the_only_eligible_backend() {
        let mut backends = pool(1000);
        for b in backends.iter_mut() {
            b.healthy = false;
        }
        backends[617].healthy = true;
        for w in words(3).take(200) {
            assert_eq!(random_eligible(&backends, w as u32, 9), Some(617));
        }
    }
}
