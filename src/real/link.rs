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

    /// Sleeps there and back (a handshake).
    pub async fn wait_round_trip(&self, pacer: &mut Pacer) {
        let d = self.draw() + self.draw();
        pacer.sleep(d).await;
    }

    /// Sleeps the next write's delay (nothing when there is none).
    pub async fn wait(&self, pacer: &mut Pacer) {
        pacer.sleep(self.draw()).await;
    }
}

/// The most a pacer carries over: past it, a task that was held up (not
/// by its sleeps) starts afresh rather than skipping sleeps to catch up.
const MAX_DEBT: Duration = Duration::from_millis(20);

/// Sleeps that keep to the lab's times over a task's life. The timer ends
/// a sleep on its next millisecond tick or after (about 1.2 ms late on
/// this kind of machine, a fifth of a segment's round trip), so each sleep
/// asks for what the task's sleeps so far overslept less: the total slept
/// stays within a tick of the total the lab asked for, and a sleep shorter
/// than what is owed (a 100 µs service time) is taken from the debt.
#[derive(Debug, Default)]
pub struct Pacer {
    /// Slept beyond what was asked, so far.
    debt: Duration,
}

impl Pacer {
    /// Sleeps about `d`, paying back what earlier sleeps overslept.
    pub async fn sleep(&mut self, d: Duration) {
        if d.is_zero() {
            return;
        }
        if d <= self.debt {
            self.debt -= d;
            return;
        }
        let ask = d - self.debt;
        let started = tokio::time::Instant::now();
        tokio::time::sleep(ask).await;
        let took = started.elapsed();
        self.debt = took.saturating_sub(ask).min(MAX_DEBT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pacers_sleeps_add_up_to_what_was_asked() {
        let mut pacer = Pacer::default();
        let asked = Duration::from_millis(2);
        let started = std::time::Instant::now();
        for _ in 0..100 {
            pacer.sleep(asked).await;
        }
        let took = started.elapsed();
        // 200 ms asked; plain sleeps would take about 320 ms (each ends on
        // the next tick or after). The pacer keeps the total near 200.
        assert!(took >= Duration::from_millis(199), "{took:?}");
        assert!(took <= Duration::from_millis(260), "{took:?}");
    }

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
