//! Per-source rate limiting of new connections with GCRA, the generic cell
//! rate algorithm (ITU-T I.371; the "virtual scheduling" form that Redis
//! `CL.THROTTLE` and many API gateways use).
//!
//! A limit of `rate` connections per `per` with a `burst` becomes two numbers:
//! the *emission interval* `T = per / rate` (the spacing the limit allows on
//! average) and the *burst tolerance* `τ = (burst - 1) · T` (how far ahead of
//! that schedule a source may run). Each source keeps one *theoretical arrival
//! time* (TAT): when its next connection would be on schedule. A connection at
//! `now` is allowed iff `TAT - now <= τ`, and then `TAT = max(TAT, now) + T`.
//! A refused connection leaves the TAT alone, so hammering does not dig the
//! source a deeper hole, and `retry_after` is exactly the wait until
//! `TAT - τ`. One integer per source, no timers, no background refill: the
//! refill is implied by the clock moving on.
//!
//! The table of sources is bounded; see [`RateLimiter`] for what happens when
//! it is full.

use crate::model::{Ip, SimDuration, SimTime};
use crate::spec::RateLimitSpec;
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

/// A validated limit: at most `rate` new connections per `per` on average,
/// with up to `burst` of them back to back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    rate: u32,
    per: SimDuration,
    burst: u32,
    /// `per / rate`, rounded up to the nanosecond so that rounding can only
    /// make the limit stricter, never looser.
    interval: u64,
    /// `(burst - 1) · interval`.
    tolerance: u64,
}

/// Why a rate, period and burst make no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RateLimitError {
    /// A rate of zero would refuse everything.
    #[error("rate must be at least 1 connection per period")]
    ZeroRate,
    /// A period of zero makes no rate.
    #[error("the rate's period must be longer than zero")]
    ZeroPeriod,
    /// A burst of zero would refuse everything.
    #[error("burst must be at least 1 (0 would refuse every connection)")]
    ZeroBurst,
    /// Finer than the clock can tell apart.
    #[error(
        "{rate} per {per} is more than one connection per nanosecond, finer than the simulation clock"
    )]
    FinerThanTheClock {
        /// Connections per period.
        rate: u32,
        /// The period.
        per: SimDuration,
    },
    /// The burst would span more time than the clock can hold.
    #[error("burst {burst} at {rate} per {per} spans too long a time")]
    BurstTooLong {
        /// Connections back to back.
        burst: u32,
        /// Connections per period.
        rate: u32,
        /// The period.
        per: SimDuration,
    },
}

impl RateLimit {
    /// The limit a lab or command describes.
    pub fn from_spec(spec: &RateLimitSpec) -> Result<RateLimit, RateLimitError> {
        RateLimit::new(spec.rate.get(), spec.per.get(), spec.burst.get())
    }

    /// A limit of `rate` connections per `per`, letting `burst` through back
    /// to back; or which value makes no sense.
    pub fn new(rate: u32, per: SimDuration, burst: u32) -> Result<RateLimit, RateLimitError> {
        if rate == 0 {
            return Err(RateLimitError::ZeroRate);
        }
        if per == SimDuration::ZERO {
            return Err(RateLimitError::ZeroPeriod);
        }
        if burst == 0 {
            return Err(RateLimitError::ZeroBurst);
        }
        if u64::from(rate) > per.as_nanos() {
            return Err(RateLimitError::FinerThanTheClock { rate, per });
        }
        let interval = per.as_nanos().div_ceil(u64::from(rate));
        let tolerance = interval
            .checked_mul(u64::from(burst - 1))
            .ok_or(RateLimitError::BurstTooLong { burst, rate, per })?;
        Ok(RateLimit {
            rate,
            per,
            burst,
            interval,
            tolerance,
        })
    }

    /// Connections allowed per period, on average.
    pub const fn rate(&self) -> u32 {
        self.rate
    }

    /// The period the rate is counted over.
    pub const fn per(&self) -> SimDuration {
        self.per
    }

    /// Connections a quiet source may open back to back.
    pub const fn burst(&self) -> u32 {
        self.burst
    }

    /// The average spacing the limit allows (`per / rate`, rounded up to the
    /// nanosecond).
    pub const fn emission_interval(&self) -> SimDuration {
        SimDuration(self.interval)
    }

    /// How far ahead of the average spacing a source may run:
    /// `(burst - 1)` emission intervals.
    pub const fn burst_tolerance(&self) -> SimDuration {
        SimDuration(self.tolerance)
    }
}

impl fmt::Display for RateLimit {
    /// `3 per 60s, burst 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} per {}, burst {}", self.rate, self.per, self.burst)
    }
}

/// The limiter's answer for one new connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Within the limit: let it through.
    Allow,
    /// Over the limit: refuse it.
    Refuse {
        /// The shortest wait after which the same source would be allowed.
        retry_after: SimDuration,
    },
}

impl Decision {
    /// True for [`Decision::Allow`].
    pub const fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}

/// GCRA state for many sources in a table of bounded size.
///
/// **Eviction.** When the table is full and a new source arrives, the entry
/// with the smallest TAT goes (ties: the lowest address, so the outcome never
/// depends on hash order). If any entry's TAT is already in the past, the
/// smallest is one of them, and dropping it loses nothing: a source whose TAT
/// has passed behaves exactly like one never seen. Otherwise the victim is the
/// source closest to being back in good standing, the least recently
/// meaningful. That *is* a loss: an evicted abusive source starts fresh with a
/// full burst. A table smaller than the number of sources an attacker can
/// forge is therefore a hole, and `evictions()` is there to show it.
///
/// **Cost.** A min-heap of `(TAT, address)` holds exactly one entry per
/// source, and a heap entry is a lower bound on the source's real TAT
/// (allowed connections move the TAT forward without touching the heap, so
/// a check on a known source is one hash lookup). Eviction pops the minimum;
/// if its TAT is stale it is pushed back with the real one and the next is
/// tried. Each push-back pays for at least one earlier allowed check, so
/// eviction is O(log n) amortised and the heap never outgrows the table.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    capacity: usize,
    /// Each tracked source's TAT, in nanoseconds.
    tats: FxHashMap<Ip, u64>,
    /// One `(TAT at last push, source)` per tracked source; the TAT here is
    /// never later than the one in `tats`.
    by_tat: BinaryHeap<Reverse<(u64, Ip)>>,
    evictions: u64,
}

impl RateLimiter {
    /// A limiter applying `limit` to each source, tracking at most `capacity`
    /// sources (at least one).
    pub fn new(limit: RateLimit, capacity: usize) -> RateLimiter {
        let capacity = capacity.max(1);
        // Reserve for the common case only, so a huge configured capacity
        // costs memory as sources arrive rather than all up front.
        let reserve = capacity.min(4096);
        let mut tats = FxHashMap::default();
        tats.reserve(reserve);
        RateLimiter {
            limit,
            capacity,
            tats,
            by_tat: BinaryHeap::with_capacity(reserve),
            evictions: 0,
        }
    }

    /// The limit applied to each source.
    pub const fn limit(&self) -> RateLimit {
        self.limit
    }

    /// The most sources the table tracks at once.
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// Decides a new connection from `key` at `now`, and records it if
    /// allowed.
    #[inline]
    pub fn check(&mut self, key: Ip, now: SimTime) -> Decision {
        let now = now.as_nanos();
        let RateLimit {
            interval,
            tolerance,
            ..
        } = self.limit;
        if let Some(tat) = self.tats.get_mut(&key) {
            // Allowed iff TAT - now <= τ, written without going negative.
            let earliest = tat.saturating_sub(tolerance);
            if earliest > now {
                return Decision::Refuse {
                    retry_after: SimDuration(earliest - now),
                };
            }
            *tat = (*tat).max(now).saturating_add(interval);
            return Decision::Allow;
        }
        // A source never seen (or forgotten) has TAT <= now; burst >= 1, so
        // its first connection always passes.
        if self.tats.len() >= self.capacity {
            self.evict_one();
        }
        let tat = now.saturating_add(interval);
        self.tats.insert(key, tat);
        self.by_tat.push(Reverse((tat, key)));
        Decision::Allow
    }

    /// Sources currently tracked.
    pub fn len(&self) -> usize {
        self.tats.len()
    }

    /// True when no source is tracked.
    pub fn is_empty(&self) -> bool {
        self.tats.is_empty()
    }

    /// Sources dropped from the full table to make room for new ones, since
    /// the limiter was made.
    pub const fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Drops the source with the smallest (TAT, address).
    fn evict_one(&mut self) {
        while let Some(Reverse((pushed, key))) = self.by_tat.pop() {
            match self.tats.get(&key) {
                Some(&tat) if tat == pushed => {
                    self.tats.remove(&key);
                    self.evictions += 1;
                    return;
                }
                // Moved on since it was pushed: requeue at its real TAT.
                // Every other entry's real TAT is at least its heap TAT, so
                // the first exact entry popped is the true minimum.
                Some(&tat) => self.by_tat.push(Reverse((tat, key))),
                None => debug_assert!(false, "heap entry for an untracked source"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MINUTE: SimDuration = SimDuration::from_secs(60);

    fn at(secs: u64) -> SimTime {
        SimTime(SimDuration::from_secs(secs).as_nanos())
    }

    fn limiter(rate: u32, per: SimDuration, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimit::new(rate, per, burst).unwrap(), 1024)
    }

    #[test]
    fn three_per_minute_lets_three_through_and_refuses_the_fourth() {
        let mut l = limiter(3, MINUTE, 3);
        let src = Ip::new(10, 0, 0, 1);
        for i in 1..=3 {
            assert_eq!(l.check(src, at(0)), Decision::Allow, "connection {i}");
        }
        assert!(!l.check(src, at(0)).is_allow(), "connection 4");
    }

    #[test]
    fn refill_follows_the_rate_on_the_sim_clock() {
        let mut l = limiter(3, MINUTE, 3);
        let src = Ip::new(10, 0, 0, 1);
        for _ in 0..3 {
            l.check(src, at(0));
        }
        // One emission interval (60 s / 3 = 20 s) buys exactly one more.
        assert_eq!(l.check(src, at(20)), Decision::Allow, "after 20 s");
        assert!(!l.check(src, at(20)).is_allow(), "only one after 20 s");
        // A long quiet spell refills to the burst, not beyond.
        let later = at(1000);
        for i in 1..=3 {
            assert_eq!(l.check(src, later), Decision::Allow, "after quiet, {i}");
        }
        assert!(!l.check(src, later).is_allow());
    }

    #[test]
    fn burst_lets_b_back_to_back_then_refuses() {
        for burst in [1, 2, 5, 17] {
            let mut l = limiter(10, SimDuration::from_secs(1), burst);
            let src = Ip::new(192, 0, 2, 7);
            let now = at(5);
            for i in 0..burst {
                assert_eq!(l.check(src, now), Decision::Allow, "burst {burst}, #{i}");
            }
            assert!(!l.check(src, now).is_allow(), "burst {burst}: one too many");
        }
    }

    #[test]
    fn retry_after_is_exact() {
        let mut l = limiter(3, MINUTE, 3);
        let src = Ip::new(10, 0, 0, 1);
        for _ in 0..3 {
            l.check(src, at(0));
        }
        let wait = match l.check(src, at(5)) {
            Decision::Refuse { retry_after } => retry_after,
            Decision::Allow => panic!("should be refused"),
        };
        assert_eq!(wait, SimDuration::from_secs(15));
        let due = at(5) + wait;
        let just_before = SimTime(due.as_nanos() - 1);
        assert_eq!(
            l.check(src, just_before),
            Decision::Refuse {
                retry_after: SimDuration(1)
            }
        );
        assert_eq!(l.check(src, due), Decision::Allow);
    }

    #[test]
    fn refusals_do_not_push_the_source_further_back() {
        let mut l = limiter(1, SimDuration::from_secs(1), 1);
        let src = Ip::new(10, 0, 0, 9);
        assert!(l.check(src, at(0)).is_allow());
        for ms in 0..1000 {
            let now = SimTime(SimDuration::from_millis(ms).as_nanos());
            assert!(!l.check(src, now).is_allow());
        }
        assert!(l.check(src, at(1)).is_allow());
    }

    #[test]
    fn keys_are_independent() {
        let mut l = limiter(1, MINUTE, 1);
        let a = Ip::new(10, 0, 0, 1);
        let b = Ip::new(10, 0, 0, 2);
        assert!(l.check(a, at(0)).is_allow());
        assert!(!l.check(a, at(0)).is_allow());
        assert!(l.check(b, at(0)).is_allow(), "a's debt is not b's");
        assert!(!l.check(b, at(1)).is_allow());
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn the_table_never_exceeds_its_cap_under_a_million_sources() {
        let limit = RateLimit::new(3, MINUTE, 3).unwrap();
        let mut l = RateLimiter::new(limit, 10_000);
        for i in 0..1_000_000u32 {
            let now = SimTime(u64::from(i) * 1_000);
            assert!(l.check(Ip(0x0a00_0000 + i), now).is_allow());
            assert!(l.len() <= 10_000, "len {} after {i}", l.len());
        }
        assert_eq!(l.len(), 10_000);
        assert_eq!(l.evictions(), 990_000);
    }

    #[test]
    fn eviction_takes_a_lapsed_source_before_a_throttled_one() {
        let mut l = RateLimiter::new(RateLimit::new(1, MINUTE, 1).unwrap(), 2);
        let hot = Ip::new(10, 0, 0, 1);
        let quiet = Ip::new(10, 0, 0, 2);
        // `hot` keeps running into its limit; `quiet` came once, long ago.
        l.check(quiet, at(0));
        l.check(hot, at(100));
        l.check(hot, at(100));
        // `quiet`'s TAT (60 s) is in the past at 130 s; `hot`'s (160 s) is not.
        l.check(Ip::new(10, 0, 0, 3), at(130));
        assert_eq!(l.evictions(), 1);
        assert!(!l.check(hot, at(130)).is_allow(), "hot kept its state");
    }

    #[test]
    fn eviction_without_a_lapsed_source_takes_the_oldest_tat() {
        let mut l = RateLimiter::new(RateLimit::new(1, MINUTE, 1).unwrap(), 2);
        let early = Ip::new(10, 0, 0, 2);
        let late = Ip::new(10, 0, 0, 1);
        l.check(early, at(0)); // TAT 60 s
        l.check(late, at(10)); // TAT 70 s
        l.check(Ip::new(10, 0, 0, 3), at(20)); // nothing lapsed: `early` goes
        assert!(!l.check(late, at(20)).is_allow(), "late kept its state");
        // The documented cost: the evicted source starts fresh.
        assert!(l.check(early, at(20)).is_allow(), "early was forgotten");
    }

    #[test]
    fn eviction_sees_tats_moved_on_since_they_entered_the_heap() {
        let mut l = RateLimiter::new(RateLimit::new(1, SimDuration::from_secs(1), 1).unwrap(), 2);
        let a = Ip::new(10, 0, 0, 1);
        let b = Ip::new(10, 0, 0, 2);
        l.check(a, at(0)); // heap: a@1s
        l.check(b, at(1)); // heap: b@2s
        l.check(a, at(5)); // a's real TAT is 6 s; its heap entry still says 1 s
        l.check(Ip::new(10, 0, 0, 3), at(5)); // true minimum is b (2 s)
        assert!(!l.check(a, at(5)).is_allow(), "a kept its state");
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn bad_limits_are_refused_with_a_reason() {
        let sec = SimDuration::from_secs(1);
        assert_eq!(
            RateLimit::new(0, sec, 1).unwrap_err().to_string(),
            "rate must be at least 1 connection per period"
        );
        assert_eq!(
            RateLimit::new(1, SimDuration::ZERO, 1)
                .unwrap_err()
                .to_string(),
            "the rate's period must be longer than zero"
        );
        assert_eq!(
            RateLimit::new(1, sec, 0).unwrap_err().to_string(),
            "burst must be at least 1 (0 would refuse every connection)"
        );
        assert_eq!(
            RateLimit::new(10, SimDuration(5), 1)
                .unwrap_err()
                .to_string(),
            "10 per 5ns is more than one connection per nanosecond, finer than the simulation clock"
        );
        assert!(
            RateLimit::new(1, SimDuration(u64::MAX), u32::MAX)
                .unwrap_err()
                .to_string()
                .starts_with("burst 4294967295")
        );
        let ok = RateLimit::new(3, MINUTE, 3).unwrap();
        assert_eq!(ok.emission_interval(), SimDuration::from_secs(20));
        assert_eq!(ok.burst_tolerance(), SimDuration::from_secs(40));
        assert_eq!(ok.to_string(), "3 per 60s, burst 3");
    }

    #[test]
    fn a_rate_that_does_not_divide_the_period_rounds_stricter() {
        // 1 s / 3 = 333_333_333.3 ns: the interval rounds up.
        let l = RateLimit::new(3, SimDuration::from_secs(1), 1).unwrap();
        assert_eq!(l.emission_interval(), SimDuration(333_333_334));
    }

    proptest! {
        /// Over any window of length W, one source gets at most
        /// `burst + floor(W · rate / per)` connections through.
        #[test]
        fn no_window_lets_more_through_than_burst_plus_rate(
            rate in 1u32..=20,
            per_ms in 1u64..=10_000,
            burst in 1u32..=10,
            // Each gap is (kind, fraction): back to back, a fraction of
            // the emission interval (keeps the source at its limit), or up
            // to three periods (lets it refill).
            gaps in prop::collection::vec((0u8..4, 0u64..=1000), 1..200),
        ) {
            let per = SimDuration::from_millis(per_ms);
            let mut l = limiter(rate, per, burst);
            let interval = l.limit().emission_interval().as_nanos();
            let src = Ip::new(10, 1, 2, 3);
            let mut now = 0u64;
            let mut passed = Vec::new();
            for (kind, fraction) in gaps {
                now += match kind {
                    0 => 0,
                    1 | 2 => interval * fraction / 1000,
                    _ => per.as_nanos() * 3 * fraction / 1000,
                };
                if l.check(src, SimTime(now)).is_allow() {
                    passed.push(now);
                }
            }
            // The tightest windows start and end on allowed connections.
            for (i, &start) in passed.iter().enumerate() {
                for (j, &end) in passed.iter().enumerate().skip(i) {
                    let window = u128::from(end - start);
                    let bound = u128::from(burst)
                        + window * u128::from(rate) / u128::from(per.as_nanos());
                    let count = (j - i + 1) as u128;
                    prop_assert!(
                        count <= bound,
                        "{count} passed in {window} ns; bound {bound}"
                    );
                }
            }
        }
    }
}
