//! "Why this backend?": each new flow's pick with what the algorithm saw
//! and what around it decided (a sticky session, panic, slow start, the
//! connection cap, redispatch, the queue). The newest few per backend are
//! kept for the dashboard, and the first N of the run for `--explain`.

use super::Balancer;
use crate::engine::{PickRecord, Via};
use crate::model::{FourTuple, SimTime};
use crate::policy::explain::Saw;
use std::collections::VecDeque;

/// Picks kept per backend for the dashboard.
pub const RECENT_PICKS: usize = 4;

/// The picks a balancer keeps.
#[derive(Clone, Debug, Default)]
pub struct PickLog {
    /// The newest per backend, oldest first.
    recent: Vec<VecDeque<PickRecord>>,
    /// The first of the run, up to `first_limit`.
    first: Vec<PickRecord>,
    first_limit: usize,
    /// What the last pick saw, until its flow gets an entry.
    pub(super) saw: Option<Saw>,
    /// What decided the flow being admitted.
    pub(super) via: Via,
}

impl PickLog {
    /// The newest picks of backend `b`, oldest first.
    pub fn recent(&self, b: usize) -> impl Iterator<Item = &PickRecord> {
        self.recent.get(b).into_iter().flatten()
    }

    /// The first picks of the run (as many as asked for).
    pub fn first(&self) -> &[PickRecord] {
        &self.first
    }

    /// Keep the first `n` picks of the run.
    pub fn keep_first(&mut self, n: usize) {
        self.first_limit = n;
        self.first.truncate(n);
    }

    fn push(&mut self, record: PickRecord) {
        let b = record.backend as usize;
        if b >= self.recent.len() {
            self.recent.resize_with(b + 1, VecDeque::new);
        }
        let recent = &mut self.recent[b];
        if recent.len() == RECENT_PICKS {
            recent.pop_front();
        }
        recent.push_back(record);
        if self.first.len() < self.first_limit {
            self.first.push(record);
        }
    }
}

impl Balancer {
    /// Records the pick that gave `flow` backend `b` at `now`.
    pub(super) fn record_pick(&mut self, flow: FourTuple, b: usize, now: SimTime) {
        let ejected = self.resilience.ejected_count();
        let record = PickRecord {
            at: now,
            flow,
            backend: b as u32,
            algorithm: self.selector.algorithm(),
            saw: self.picks.saw.take(),
            via: std::mem::take(&mut self.picks.via),
            ejected: ejected as u32,
        };
        self.picks.push(record);
    }
}
