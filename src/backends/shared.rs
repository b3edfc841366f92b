//! What every connection of one backend shares, across kills and revives.

use super::{BackendOptions, Service};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// A backend's name, options, counters and failure draws.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) options: BackendOptions,
    served: AtomicU64,
    connections: AtomicU64,
    rng: Mutex<Pcg64Mcg>,
    /// Speaks this instead of the mode's protocol, when set.
    pub(crate) service: Option<Arc<dyn Service>>,
    /// Its listen queue, when not the default.
    pub(crate) backlog: Option<u32>,
}

impl Shared {
    /// Seeds the failure draws from the name and port, so that a run of
    /// the demo needs no OS entropy and two backends do not fail in step.
    pub(crate) fn new(name: String, options: BackendOptions, port: u16) -> Self {
        let seed = fnv1a(name.as_bytes()) ^ u64::from(port).rotate_left(32);
        Shared {
            name,
            options,
            served: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            rng: Mutex::new(Pcg64Mcg::seed_from_u64(seed)),
            service: None,
            backlog: None,
        }
    }

    /// Whether the next non-health request gets a 500.
    pub(crate) fn should_fail(&self) -> bool {
        let p = self.options.fail_rate;
        // The ends need no draw, which keeps 0 and 1 exact.
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        let bits = self
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_u64();
        unit_float(bits) < p
    }

    /// Counts one answered request (or one finished echo).
    pub(crate) fn count_served(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one accepted connection.
    pub(crate) fn count_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests answered so far.
    pub(crate) fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Connections accepted so far.
    pub(crate) fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

/// A uniform float in `[0, 1)` from the top 53 bits.
fn unit_float(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// FNV-1a: a stable hash (unlike std's), so a name always seeds the same.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_rate(fail_rate: f64) -> Shared {
        let options = BackendOptions {
            fail_rate,
            ..BackendOptions::default()
        };
        Shared::new("web-1".into(), options, 9001)
    }

    #[test]
    fn rates_zero_and_one_are_exact() {
        let never = with_rate(0.0);
        let always = with_rate(1.0);
        assert!((0..1000).all(|_| !never.should_fail()));
        assert!((0..1000).all(|_| always.should_fail()));
    }

    #[test]
    fn a_rate_in_between_fails_about_that_often() {
        let s = with_rate(0.25);
        let fails = (0..10_000).filter(|_| s.should_fail()).count();
        assert!((2_200..2_800).contains(&fails), "{fails} of 10000");
    }

    #[test]
    fn the_same_name_and_port_draw_the_same_sequence() {
        let a = with_rate(0.5);
        let b = with_rate(0.5);
        let other = Shared::new("web-2".into(), a.options, 9002);
        let draw = |s: &Shared| (0..64).map(|_| s.should_fail()).collect::<Vec<_>>();
        let first = draw(&a);
        assert_eq!(first, draw(&b));
        assert_ne!(first, draw(&other));
    }

    #[test]
    fn unit_float_spans_zero_to_below_one() {
        assert_eq!(unit_float(0), 0.0);
        assert!(unit_float(u64::MAX) < 1.0);
    }
}
