//! Health rise/fall: a backend's state flips only after `rise` consecutive
//! successful probes (to up) or `fall` consecutive failures (to down), as
//! HAProxy and pingora do, so one lost probe does not flap a backend.

/// A health flip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthTransition {
    /// Enough consecutive successes: the backend is up again.
    WentUp,
    /// Enough consecutive failures: the backend is down.
    WentDown,
}

/// The checker's view of one backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthTracker {
    up: bool,
    /// Consecutive results that disagree with `up`.
    streak: u32,
}

impl HealthTracker {
    /// A tracker starting up or down.
    pub const fn new(up: bool) -> HealthTracker {
        HealthTracker { up, streak: 0 }
    }

    /// The current verdict.
    pub const fn is_up(&self) -> bool {
        self.up
    }

    /// Consecutive results so far that argue for a flip.
    pub const fn streak(&self) -> u32 {
        self.streak
    }

    /// Records one probe result; returns the flip it causes, if any.
    pub fn record(&mut self, ok: bool, rise: u32, fall: u32) -> Option<HealthTransition> {
        if ok == self.up {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        let needed = if self.up { fall } else { rise }.max(1);
        if self.streak < needed {
            return None;
        }
        self.up = ok;
        self.streak = 0;
        Some(if ok {
            HealthTransition::WentUp
        } else {
            HealthTransition::WentDown
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goes_down_after_fall_consecutive_failures() {
        let mut h = HealthTracker::new(true);
        assert_eq!(h.record(false, 2, 3), None);
        assert_eq!(h.record(false, 2, 3), None);
        assert_eq!(h.record(false, 2, 3), Some(HealthTransition::WentDown));
        assert!(!h.is_up());
    }

    #[test]
    fn a_success_resets_the_failure_streak() {
        let mut h = HealthTracker::new(true);
        h.record(false, 2, 3);
        h.record(false, 2, 3);
        assert_eq!(h.record(true, 2, 3), None);
        assert_eq!(h.streak(), 0);
        assert_eq!(h.record(false, 2, 3), None);
        assert!(h.is_up());
    }

    #[test]
    fn comes_back_after_rise_consecutive_successes() {
        let mut h = HealthTracker::new(false);
        assert_eq!(h.record(true, 2, 3), None);
        assert_eq!(h.record(true, 2, 3), Some(HealthTransition::WentUp));
        assert!(h.is_up());
    }
}
