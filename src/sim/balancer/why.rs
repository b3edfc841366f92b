//! "Why this backend?": each new flow's pick with what the algorithm saw
//! and what around it decided (a sticky session, panic, slow start, the
//! connection cap, redispatch, the queue). The newest few per backend are
//! kept for the dashboard, and the first N of the run for `--explain`.

use super::Balancer;
use crate::model::{FourTuple, SimTime};
use crate::policy::explain::Saw;
use crate::spec::Algorithm;
use std::collections::VecDeque;

/// Picks kept per backend for the dashboard.
pub const RECENT_PICKS: usize = 4;

/// What decided a flow's backend besides (or instead of) the algorithm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Via {
    /// The algorithm's pick stood.
    #[default]
    Algorithm,
    /// The client's sticky session.
    Sticky,
    /// Panic: the algorithm over every backend, healthy or not.
    Panic,
    /// Slow start turned the algorithm's ramping pick away.
    SlowStart,
    /// The algorithm's pick was at its connection cap.
    Cap,
    /// The backend left the client's earlier SYNs unanswered.
    Redispatch,
    /// The SYN waited in the queue for a backend below its cap.
    Queue,
}

impl Via {
    /// Said after the explanation, or nothing for a plain pick.
    pub const fn note(self) -> &'static str {
        match self {
            Via::Algorithm => "",
            Via::Sticky => "the client's sticky session",
            Via::Panic => "in panic, over every backend",
            Via::SlowStart => "slow start turned its first pick away",
            Via::Cap => "its first pick was at the connection cap",
            Via::Redispatch => "redispatched from a backend that did not answer",
            Via::Queue => "after waiting in the queue",
        }
    }
}

/// One flow's pick.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PickRecord {
    /// When.
    pub at: SimTime,
    /// The flow, as the client sent it.
    pub flow: FourTuple,
    /// The backend it went to.
    pub backend: u32,
    /// The algorithm in force.
    pub algorithm: Algorithm,
    /// What the algorithm saw (none for a sticky session).
    pub saw: Option<Saw>,
    /// What else decided.
    pub via: Via,
    /// Backends ejected by outlier detection at the time.
    pub ejected: u32,
}

impl PickRecord {
    /// The pick in words, `name` giving each backend's name.
    pub fn describe(&self, name: impl Fn(u32) -> String) -> String {
        let mut text = format!(
            "{} {} -> {} by {}",
            self.at,
            self.flow.src,
            name(self.backend),
            self.algorithm
        );
        if let Some(saw) = &self.saw {
            text.push_str(": ");
            text.push_str(&saw.describe(&name));
        }
        let note = self.via.note();
        if !note.is_empty() {
            text.push_str(if self.saw.is_some() { "; " } else { ": " });
            text.push_str(note);
        }
        if self.ejected > 0 {
            text.push_str(&format!(" ({} ejected)", self.ejected));
        }
        text
    }
}

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
