//! The backends a proxy balances over and the pick: the same `policy/`
//! algorithms the simulation runs, made safe for many threads. Round robin
//! needs only an atomic cursor; the others keep their little state behind
//! one short mutex.

use super::config::BackendConfig;
use super::samples::Recent;
use crate::model::{Endpoint, FourTuple, Ip};
use crate::policy::{BackendView, NoBackend, Selector, peak_ewma, round_robin, score};
use crate::spec::{Algorithm, DEFAULT_DECAY};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// One backend: what it is and what the proxy knows of it right now. Live
/// connections hold an `Arc` to it, so counters stay right across reloads
/// that drop it from the pool.
#[derive(Debug)]
pub struct Backend {
    /// Where it is and what it is called.
    pub config: BackendConfig,
    /// Weight now in force (a reload or a key may change it).
    pub weight: AtomicU32,
    /// Health checks say it is up.
    pub healthy: AtomicBool,
    /// Taken out of rotation by an operator: takes nothing new.
    pub admin_down: AtomicBool,
    /// Finishing its connections: takes nothing new.
    pub draining: AtomicBool,
    /// Client connections proxied to it now.
    pub active: AtomicU32,
    /// Client connections it has taken in all.
    pub total: AtomicU64,
    /// Bytes from clients to it.
    pub bytes_to: AtomicU64,
    /// Bytes from it to clients.
    pub bytes_from: AtomicU64,
    /// Connects to it that failed or timed out.
    pub connect_errors: AtomicU64,
    /// When its health last flipped (or the proxy started).
    pub since: Mutex<Instant>,
    /// Stops its health checks when it leaves the pool.
    pub retired: CancellationToken,
    /// Round trips of its recent passing probes.
    pub probe_times: Recent,
    /// How long its recent successful connects took.
    pub connect_times: Recent,
    /// Peak-EWMA estimate of its connect time in nanoseconds, as f32 bits
    /// (a connection is the proxy's request: it sees no more at layer 4).
    pub latency_ns: AtomicU32,
    /// Share of its recent connects that failed, as f32 bits.
    pub error_rate: AtomicU32,
    /// When its last connect succeeded, for the peak-EWMA decay.
    last_connect: Mutex<Option<Instant>>,
}

impl Backend {
    /// A backend fresh from the configuration, assumed up until its probes
    /// say otherwise (as HAProxy does), so the proxy serves from the start.
    pub fn new(config: BackendConfig) -> Backend {
        Backend {
            weight: AtomicU32::new(config.weight),
            config,
            healthy: AtomicBool::new(true),
            admin_down: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            active: AtomicU32::new(0),
            total: AtomicU64::new(0),
            bytes_to: AtomicU64::new(0),
            bytes_from: AtomicU64::new(0),
            connect_errors: AtomicU64::new(0),
            since: Mutex::new(Instant::now()),
            retired: CancellationToken::new(),
            probe_times: Recent::default(),
            connect_times: Recent::default(),
            latency_ns: AtomicU32::new(0),
            error_rate: AtomicU32::new(0),
            last_connect: Mutex::new(None),
        }
    }

    /// Forgets its latency and errors: back from the dead, it starts with
    /// a clean record, or an algorithm that shunned it would never try it.
    pub fn clear_record(&self) {
        self.latency_ns.store(0, Relaxed);
        self.error_rate.store(0, Relaxed);
        *self.last_connect.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Records a connect to it: done after `took`, or failed (`None`).
    /// Feeds the latency and error rate that latency-aware algorithms read;
    /// `decay` is peak-EWMA's. Two connects finishing at once may each
    /// overwrite the other's update: these are estimates, and a lost sample
    /// costs less than a lock on every connect's path.
    pub fn observe_connect(&self, took: Option<Duration>, decay: Duration) {
        let rate = f32::from_bits(self.error_rate.load(Relaxed));
        let rate = score::observe_outcome(rate, took.is_none());
        self.error_rate.store(rate.to_bits(), Relaxed);
        let Some(took) = took else { return };
        let now = Instant::now();
        let elapsed = {
            let mut last = self.last_connect.lock().unwrap_or_else(|p| p.into_inner());
            let elapsed = last.map_or(u64::MAX, |t| nanos(now.saturating_duration_since(t)));
            *last = Some(now);
            elapsed
        };
        let estimate = f32::from_bits(self.latency_ns.load(Relaxed));
        let estimate = peak_ewma::observe(estimate, nanos(took) as f32, elapsed, nanos(decay));
        self.latency_ns.store(estimate.to_bits(), Relaxed);
    }

    /// What an algorithm may know of it.
    pub fn view(&self) -> BackendView {
        BackendView {
            weight: self.weight.load(Relaxed),
            healthy: self.healthy.load(Relaxed),
            draining: self.draining.load(Relaxed) || self.admin_down.load(Relaxed),
            active: self.active.load(Relaxed),
            half_open: 0,
            // At layer 4 a connection is the request the proxy sees.
            outstanding: self.active.load(Relaxed),
            latency_ns: f32::from_bits(self.latency_ns.load(Relaxed)),
            error_rate: f32::from_bits(self.error_rate.load(Relaxed)),
        }
    }
}

/// The backends in rotation and the algorithm picking among them.
#[derive(Debug)]
pub struct Pool {
    backends: Vec<std::sync::Arc<Backend>>,
    algorithm: Algorithm,
    cursor: Padded,
    selector: Mutex<Picker>,
    /// A counter mixed into entropy words for the randomised algorithms.
    draws: AtomicU64,
}

impl Pool {
    /// A pool of `backends` picked by `algorithm`.
    pub fn new(backends: Vec<std::sync::Arc<Backend>>, algorithm: Algorithm) -> Pool {
        Pool {
            backends,
            algorithm,
            cursor: Padded(AtomicUsize::new(0)),
            selector: Mutex::new(Picker {
                selector: Selector::new(algorithm),
                rotation: 0,
            }),
            draws: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
        }
    }

    /// The backends, in the order algorithms see them.
    pub fn backends(&self) -> &[std::sync::Arc<Backend>] {
        &self.backends
    }

    /// The algorithm in use.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Peak-EWMA's decay for this pool's algorithm (its own, or the
    /// default that keeps the estimate ready for a switch).
    pub fn decay(&self) -> Duration {
        let decay = match self.algorithm {
            Algorithm::PeakEwma { decay } => decay,
            _ => DEFAULT_DECAY,
        };
        Duration::from_nanos(decay.get().as_nanos())
    }

    /// The backend for a new connection from `source`, skipping those in
    /// `tried` (already failed for this client); or why there is none.
    pub fn pick(&self, source: Ip, tried: &[usize]) -> Result<usize, NoBackend> {
        let n = self.backends.len();
        if self.algorithm == Algorithm::RoundRobin {
            // Round robin needs only each backend's eligibility, read
            // straight from its atomics: no views, no lock.
            let raw = self.cursor.0.fetch_add(1, Relaxed);
            let start = raw % n.max(1);
            let eligible = |i: usize| !tried.contains(&i) && self.backends[i].view().eligible();
            let picked = round_robin::pick_from_by(n, start, eligible);
            if let Some(i) = picked
                && i != start
            {
                // Resume after the pick, as the simulation's cursor does:
                // otherwise the backend after an ineligible one takes its
                // turns too, twice its share. A lost race leaves the cursor
                // to the thread that moved it.
                let skipped = (i + n - start) % n;
                let _ = self.cursor.0.compare_exchange(
                    raw.wrapping_add(1),
                    raw.wrapping_add(1 + skipped),
                    Relaxed,
                    Relaxed,
                );
            }
            return picked.ok_or_else(|| {
                let mut views = vec![BackendView::idle(); n];
                self.fill_views(&mut views, tried);
                NoBackend::explain(&views)
            });
        }
        // Pools up to this size build their views on the stack: a pick
        // then allocates nothing.
        const ON_STACK: usize = 16;
        if n <= ON_STACK {
            let mut views = [BackendView::idle(); ON_STACK];
            self.fill_views(&mut views[..n], tried);
            self.pick_among(&views[..n], source, tried)
        } else {
            let mut views = vec![BackendView::idle(); n];
            self.fill_views(&mut views, tried);
            self.pick_among(&views, source, tried)
        }
    }

    /// What the algorithm may know of each backend, with the `tried` ones
    /// shown as unhealthy, except to a hashing algorithm: its table is
    /// built from the backends in rotation, and a retry must not rebuild it
    /// (`pick_among` steps past a tried pick instead).
    fn fill_views(&self, views: &mut [BackendView], tried: &[usize]) {
        for (v, b) in views.iter_mut().zip(&self.backends) {
            *v = b.view();
        }
        if self.algorithm.hashes_flows() {
            return;
        }
        for &i in tried {
            if let Some(v) = views.get_mut(i) {
                v.healthy = false;
            }
        }
    }

    fn pick_among(
        &self,
        views: &[BackendView],
        source: Ip,
        tried: &[usize],
    ) -> Result<usize, NoBackend> {
        let entropy = splitmix(self.draws.fetch_add(0x9E37_79B9_7F4A_7C15, Relaxed));
        let flow = FourTuple::tcp(Endpoint::new(source, 0), Endpoint::new(Ip(0), 0));
        let rotation = rotation_of(views);
        // A poisoned lock only means another pick panicked mid-way; the
        // selector's state is still a valid cursor.
        let mut picker = self.selector.lock().unwrap_or_else(|p| p.into_inner());
        if picker.rotation != rotation {
            picker.rotation = rotation;
            picker.selector.membership_changed();
        }
        let picked = picker.selector.pick(views, &flow, entropy);
        // A scripted algorithm's faults (picks that went to round robin, a
        // script retired), as the selector hands them over: the first, the
        // retirement, and at 10, 100, 1000... faults, not at every pick.
        let fault = picker.selector.take_script_fault();
        drop(picker);
        if let Some(fault) = fault {
            tracing::warn!(%fault, "algorithm script");
        }
        let i = picked?;
        if !tried.contains(&i) {
            return Ok(i);
        }
        // A hashing algorithm mapped the flow to a backend that failed it:
        // the next eligible one along, as a ring walks on.
        (1..views.len())
            .map(|k| (i + k) % views.len())
            .find(|j| views[*j].eligible() && !tried.contains(j))
            .ok_or_else(|| {
                let mut shown = views.to_vec();
                for &t in tried {
                    shown[t].healthy = false;
                }
                NoBackend::explain(&shown)
            })
    }
}

/// The selector and the rotation its hash tables were built for.
#[derive(Debug)]
struct Picker {
    selector: Selector,
    rotation: u64,
}

/// A fingerprint of the backends in rotation (eligibility and weight of
/// each): when it changes, a hash ring or Maglev table is rebuilt.
fn rotation_of(views: &[BackendView]) -> u64 {
    views.iter().fold(0xcbf2_9ce4_8422_2325, |h, v| {
        let x = u64::from(v.weight) << 1 | u64::from(v.eligible());
        (h ^ x).wrapping_mul(0x0100_0000_01b3)
    })
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// An atomic on a cache line of its own, so threads bumping the round-robin
/// cursor do not also evict the pool's other fields from each other's
/// caches (measured: a third of a concurrent pick's time).
#[derive(Debug)]
#[repr(align(128))]
struct Padded(AtomicUsize);

/// SplitMix64's finaliser: a well-mixed word from a counter.
fn splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn pool(n: usize, algorithm: Algorithm) -> Pool {
        let backends = (0..n)
            .map(|i| {
                Arc::new(Backend::new(BackendConfig {
                    address: format!("127.0.0.1:{}", 9001 + i).parse().unwrap(),
                    written: String::new(),
                    name: format!("b{i}"),
                    weight: 1,
                }))
            })
            .collect();
        Pool::new(backends, algorithm)
    }

    #[test]
    fn round_robin_cycles_and_skips_the_unhealthy() {
        let p = pool(3, Algorithm::RoundRobin);
        let picks: Vec<_> = (0..6).map(|_| p.pick(Ip(1), &[]).unwrap()).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
        p.backends()[1].healthy.store(false, Relaxed);
        let picks: Vec<_> = (0..4).map(|_| p.pick(Ip(1), &[]).unwrap()).collect();
        assert!(!picks.contains(&1), "{picks:?}");
    }

    #[test]
    fn round_robin_past_an_unhealthy_backend_keeps_the_others_shares_equal() {
        let p = pool(4, Algorithm::RoundRobin);
        p.backends()[1].healthy.store(false, Relaxed);
        let mut counts = [0; 4];
        for _ in 0..300 {
            counts[p.pick(Ip(1), &[]).unwrap()] += 1;
        }
        // The simulation's cursor resumes after each pick: 100 each. A
        // cursor that only counts gives the one after the hole 150.
        assert_eq!(counts, [100, 0, 100, 100]);
    }

    #[test]
    fn tried_backends_are_skipped_and_all_tried_is_no_backend() {
        for algorithm in Algorithm::ALL {
            let p = pool(2, algorithm);
            for _ in 0..10 {
                assert_eq!(p.pick(Ip(1), &[0]), Ok(1), "{algorithm}");
            }
            assert!(p.pick(Ip(1), &[0, 1]).is_err(), "{algorithm}");
        }
    }

    #[test]
    fn drained_and_admin_down_backends_take_nothing_new() {
        let p = pool(3, Algorithm::LeastConnections);
        p.backends()[0].draining.store(true, Relaxed);
        p.backends()[1].admin_down.store(true, Relaxed);
        for _ in 0..5 {
            assert_eq!(p.pick(Ip(1), &[]), Ok(2));
        }
    }

    #[test]
    fn least_connections_reads_live_counts() {
        let p = pool(3, Algorithm::LeastConnections);
        p.backends()[0].active.store(5, Relaxed);
        p.backends()[1].active.store(1, Relaxed);
        p.backends()[2].active.store(3, Relaxed);
        assert_eq!(p.pick(Ip(1), &[]), Ok(1));
    }
}
