//! What the World remembers of each server for the dashboard: its
//! per-second series, its newest probe results and state changes, and the
//! health checker's streaks. Bounded, so a long run costs no more.

use crate::engine::{ProbeSample, ROW_CHANGES, ROW_PROBES, Series, StateChange};
use crate::model::{SimDuration, SimTime};
use std::collections::VecDeque;

/// Per-server history kept for the dashboard.
#[derive(Clone, Debug, Default)]
pub(in crate::sim) struct ServerHistory {
    pub active: Series,
    /// Connections assigned in each second.
    pub new: Series,
    pub new_per_sec: u64,
    pub packets_per_sec: u64,
    pub(super) picks_at_last_second: u64,
    pub(super) packets_at_last_second: u64,
    pub drops: u64,
    pub killed_at: Option<SimTime>,
    pub revived_at: Option<SimTime>,
    /// Probes failed in a row, newest back.
    pub probes_failed: u32,
    /// Probes passed in a row, newest back.
    pub probes_passed: u32,
    /// When health checks marked it down, while it stays down.
    pub down_since: Option<SimTime>,
    /// The newest probe results.
    pub probes: VecDeque<ProbeSample>,
    /// The newest changes of state.
    pub changes: VecDeque<StateChange>,
}

impl ServerHistory {
    /// Records a probe result.
    pub fn probe(&mut self, at: SimTime, rtt: Option<SimDuration>) {
        if rtt.is_some() {
            self.probes_passed = self.probes_passed.saturating_add(1);
            self.probes_failed = 0;
        } else {
            self.probes_failed = self.probes_failed.saturating_add(1);
            self.probes_passed = 0;
        }
        if self.probes.len() == ROW_PROBES {
            self.probes.pop_front();
        }
        self.probes.push_back(ProbeSample { at, rtt });
    }

    /// Records a change of state, in a few words.
    pub fn change(&mut self, at: SimTime, what: impl Into<String>) {
        if self.changes.len() == ROW_CHANGES {
            self.changes.pop_front();
        }
        self.changes.push_back(StateChange {
            at,
            what: what.into(),
        });
    }
}
