//! The second line of defence against a clock that stops: `lblab check`
//! refuses worlds whose round trips or timers can take no time, and this
//! watch stops a World that still manages to run event after event at one
//! instant, instead of spinning and growing without end.

use crate::model::SimTime;

/// Events between two looks at the clock (a power of two, so the look
/// costs a mask and a compare per event).
pub const CHECK_EVERY: u64 = 1 << 20;

/// Looks in a row that find the clock where it was: about 67 million
/// events at one instant, far beyond any burst a lab can start at once
/// (10 million clients starting together send fewer).
pub const LOOKS: u32 = 64;

/// Where the clock stood at the last looks.
#[derive(Clone, Copy, Debug)]
pub struct StallWatch {
    at: SimTime,
    looks: u32,
    /// Looks in a row at one instant that make a stall ([`LOOKS`] unless
    /// a test asks for fewer, to reach a stall in millions of events
    /// rather than tens of millions).
    limit: u32,
    stalled: Option<SimTime>,
}

impl Default for StallWatch {
    fn default() -> Self {
        StallWatch {
            at: SimTime::ZERO,
            looks: 0,
            limit: LOOKS,
            stalled: None,
        }
    }
}

impl StallWatch {
    /// A watch that calls a stall after `limit` looks in a row (at least
    /// one) instead of [`LOOKS`].
    pub fn with_limit(limit: u32) -> StallWatch {
        StallWatch {
            limit: limit.max(1),
            ..StallWatch::default()
        }
    }

    /// Notes the clock at `now`; true once it has not moved for the
    /// watch's limit of looks in a row.
    pub fn look(&mut self, now: SimTime) -> bool {
        if self.stalled.is_some() {
            return true;
        }
        if now == self.at {
            self.looks += 1;
            if self.looks >= self.limit {
                self.stalled = Some(now);
            }
        } else {
            self.at = now;
            self.looks = 0;
        }
        self.stalled.is_some()
    }

    /// The instant the clock stopped at, once it has.
    pub fn stalled(&self) -> Option<SimTime> {
        self.stalled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SimDuration;

    #[test]
    fn a_clock_that_moves_is_never_stalled() {
        let mut watch = StallWatch::default();
        let mut now = SimTime::ZERO;
        for _ in 0..10 * LOOKS {
            now += SimDuration::from_nanos(1);
            assert!(!watch.look(now));
        }
        assert_eq!(watch.stalled(), None);
    }

    #[test]
    fn a_clock_standing_still_is_stalled_after_the_looks() {
        let mut watch = StallWatch::default();
        let at = SimTime::ZERO + SimDuration::from_millis(3);
        watch.look(at);
        for _ in 1..LOOKS {
            assert!(!watch.look(at));
        }
        assert!(watch.look(at));
        assert_eq!(watch.stalled(), Some(at));
    }

    #[test]
    fn a_shorter_limit_calls_the_stall_sooner() {
        let mut watch = StallWatch::with_limit(3);
        let at = SimTime::ZERO + SimDuration::from_millis(3);
        watch.look(at);
        assert!(!watch.look(at));
        assert!(!watch.look(at));
        assert!(watch.look(at));
        assert_eq!(StallWatch::default().limit, LOOKS);
    }
}
