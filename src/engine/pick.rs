//! A pick explained: which backend a new flow went to, what the algorithm
//! saw and what around it decided. Engines keep the newest few per
//! backend in their Snapshot as data; a face puts them into words when it
//! shows them, so a Snapshot formats nothing it may never show.

use crate::model::{FourTuple, SimTime};
use crate::policy::explain::Saw;
use crate::spec::Algorithm;
use serde::{Deserialize, Serialize};

/// What decided a flow's backend besides (or instead of) the algorithm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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
