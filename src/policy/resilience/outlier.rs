//! Passive outlier ejection, as Envoy's consecutive-failure detector: the
//! balancer watches the outcomes of real connections (no probes), and a
//! backend that fails `consecutive_failures` in a row is ejected for
//! `base × n` (n: the times it has been ejected), at most `max`. Health
//! checks find a dead server after `fall` probes; ejection can find one
//! after a handful of failed connections, and catches servers that pass
//! their probes but fail real traffic.

use crate::model::{SimDuration, SimTime};
use crate::spec::OutlierSpec;

/// What the detector knows of one backend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutlierState {
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Times ejected so far.
    pub ejections: u32,
    /// Ejected until then, if ejected now.
    pub ejected_until: Option<SimTime>,
}

/// What an outcome did to a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing changes.
    Stay,
    /// Eject it until the time given.
    Eject(SimTime),
}

impl OutlierState {
    /// Records one connection's outcome at `now`; `may_eject` says whether
    /// the pool can spare one more ejected backend.
    pub fn record(
        &mut self,
        failed: bool,
        now: SimTime,
        spec: &OutlierSpec,
        may_eject: bool,
    ) -> Verdict {
        if !failed {
            self.consecutive_failures = 0;
            return Verdict::Stay;
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        if self.ejected_until.is_some()
            || self.consecutive_failures < spec.consecutive_failures.get()
            || !may_eject
        {
            return Verdict::Stay;
        }
        self.ejections = self.ejections.saturating_add(1);
        self.consecutive_failures = 0;
        let until = now + ejection_length(self.ejections, spec);
        self.ejected_until = Some(until);
        Verdict::Eject(until)
    }

    /// Ends the ejection if it is due at `now`; true if it ended.
    pub fn expire(&mut self, now: SimTime) -> bool {
        match self.ejected_until {
            Some(until) if until <= now => {
                self.ejected_until = None;
                true
            }
            _ => false,
        }
    }
}

/// The `n`-th ejection's length: `base × n`, at most `max`.
pub fn ejection_length(n: u32, spec: &OutlierSpec) -> SimDuration {
    let base = spec.base_ejection.get().as_nanos();
    let length = base.saturating_mul(u64::from(n.max(1)));
    SimDuration::from_nanos(length.min(spec.max_ejection.get().as_nanos()))
}

/// Whether one more backend may be ejected when `ejected` of `total` are:
/// never past `max_ejected_percent` of the pool (but one may always go
/// when the pool has two or more, as Envoy allows), and never the last
/// one eligible (`eligible` counts those in rotation now).
pub fn may_eject(ejected: usize, eligible: usize, total: usize, spec: &OutlierSpec) -> bool {
    let cap = spec.max_ejected_percent.of(total).max(1);
    eligible > 1 && ejected < cap
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Dur, Percent, Positive};

    fn spec() -> OutlierSpec {
        OutlierSpec {
            consecutive_failures: Positive::new_const(3),
            base_ejection: Dur::from_secs(10),
            max_ejection: Dur::from_secs(35),
            max_ejected_percent: Percent::new_const(20),
        }
    }

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn the_nth_failure_in_a_row_ejects_and_a_success_resets_the_count() {
        let mut o = OutlierState::default();
        assert_eq!(o.record(true, t(0), &spec(), true), Verdict::Stay);
        assert_eq!(o.record(true, t(0), &spec(), true), Verdict::Stay);
        assert_eq!(o.record(false, t(0), &spec(), true), Verdict::Stay);
        assert_eq!(o.consecutive_failures, 0);
        assert_eq!(o.record(true, t(1), &spec(), true), Verdict::Stay);
        assert_eq!(o.record(true, t(1), &spec(), true), Verdict::Stay);
        assert_eq!(o.record(true, t(1), &spec(), true), Verdict::Eject(t(11)));
        assert_eq!(o.ejections, 1);
    }

    #[test]
    fn ejections_grow_by_the_base_and_stop_at_the_cap() {
        let lengths: Vec<u64> = (1..=5)
            .map(|n| ejection_length(n, &spec()).as_nanos() / 1_000_000_000)
            .collect();
        assert_eq!(lengths, [10, 20, 30, 35, 35]);
        // Ejected a second time, the clock says 20 s.
        let mut o = OutlierState {
            ejections: 1,
            ..OutlierState::default()
        };
        for _ in 0..2 {
            o.record(true, t(100), &spec(), true);
        }
        assert_eq!(
            o.record(true, t(100), &spec(), true),
            Verdict::Eject(t(120))
        );
        assert!(!o.expire(t(119)));
        assert!(o.expire(t(120)));
        assert_eq!(o.ejected_until, None);
    }

    #[test]
    fn the_pool_keeps_its_share_and_its_last_backend() {
        // 20% of 10 is 2 at once.
        assert!(may_eject(0, 10, 10, &spec()));
        assert!(may_eject(1, 9, 10, &spec()));
        assert!(!may_eject(2, 8, 10, &spec()));
        // 20% of 3 rounds to 0, but one may always go.
        assert!(may_eject(0, 3, 3, &spec()));
        assert!(!may_eject(1, 2, 3, &spec()));
        // Never the last eligible backend.
        assert!(!may_eject(0, 1, 10, &spec()));
        // Not allowed now: the failure still counts, nothing is ejected.
        let mut o = OutlierState::default();
        for _ in 0..5 {
            assert_eq!(o.record(true, t(0), &spec(), false), Verdict::Stay);
        }
        assert_eq!(o.ejections, 0);
    }
}
