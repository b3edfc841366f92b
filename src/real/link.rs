//! Link delay emulated in user space: a sleep before each write, of the
//! link's delay plus a uniform draw of its jitter. Loss and jitter below
//! a millisecond cannot be emulated without privileges; `lblab check
//! --real` refuses them before a run starts.

use crate::spec::LinkSpec;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The delay of one direction of the path, changeable while running.
#[derive(Debug)]
pub struct LinkDelay {
    state: Mutex<(Duration, Duration, Pcg64Mcg)>,
}

impl LinkDelay {
    /// A delay of `delay` plus up to `jitter`, drawn from `seed`.
    pub fn new(delay: Duration, jitter: Duration, seed: u64) -> LinkDelay {
        LinkDelay {
            state: Mutex::new((delay, jitter, Pcg64Mcg::seed_from_u64(seed))),
        }
    }

    /// The one-way delay of a path across the client link and a backend
    /// link.
    pub fn of_path(client: &LinkSpec, backend: &LinkSpec, seed: u64) -> LinkDelay {
        let std = |d: crate::spec::Dur| Duration::from_nanos(d.get().as_nanos());
        LinkDelay::new(
            std(client.delay) + std(backend.delay),
            std(client.jitter) + std(backend.jitter),
            seed,
        )
    }

    /// Changes the delay and jitter from now on.
    pub fn set(&self, delay: Duration, jitter: Duration) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.0 = delay;
        s.1 = jitter;
    }

    /// The next write's delay.
    pub fn draw(&self) -> Duration {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (delay, jitter) = (s.0, s.1);
        if jitter.is_zero() {
            return delay;
        }
        let nanos = u64::try_from(jitter.as_nanos()).unwrap_or(u64::MAX);
        delay + Duration::from_nanos(s.2.random_range(0..=nanos))
    }

    /// Sleeps there and back in one sleep, so the timer's rounding is
    /// paid once (a handshake).
    pub async fn wait_round_trip(&self) {
        let d = self.draw() + self.draw();
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }

    /// Sleeps the next write's delay (nothing when there is none).
    pub async fn wait(&self) {
        let d = self.draw();
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_jitter_every_draw_is_the_delay() {
        let d = LinkDelay::new(Duration::from_millis(5), Duration::ZERO, 1);
        assert!((0..50).all(|_| d.draw() == Duration::from_millis(5)));
    }

    #[test]
    fn jitter_spreads_draws_within_its_bound() {
        let d = LinkDelay::new(Duration::from_millis(5), Duration::from_millis(2), 1);
        let draws: Vec<Duration> = (0..200).map(|_| d.draw()).collect();
        assert!(draws.iter().all(|x| *x >= Duration::from_millis(5)));
        assert!(draws.iter().all(|x| *x <= Duration::from_millis(7)));
        assert!(
            draws.iter().any(|x| *x != draws[0]),
            "jitter drew one value"
        );
    }
}
