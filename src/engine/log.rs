//! The event log: what a person watching should notice (kills, health flips
//! with their detection delay, floods, config changes, the first drop of
//! each kind), newest last, bounded.

use crate::model::SimTime;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Entries the World keeps; older ones are forgotten.
pub const LOG_CAPACITY: usize = 512;

/// What sort of thing happened, for colour and filtering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LogKind {
    /// A server or client killed, revived, drained, added or removed.
    Chaos,
    /// A health check flipped a backend.
    Health,
    /// A flood started or stopped.
    Flood,
    /// A setting changed.
    Config,
    /// The first drop of a reason.
    Drop,
    /// A command that could not be applied.
    Error,
    /// An objective's verdict.
    Objective,
    /// Anything else worth a line.
    Info,
}

impl LogKind {
    /// The kind's name in a report and in the dashboard's log filter.
    pub const fn name(self) -> &'static str {
        match self {
            LogKind::Chaos => "chaos",
            LogKind::Health => "health",
            LogKind::Flood => "flood",
            LogKind::Config => "config",
            LogKind::Drop => "drop",
            LogKind::Error => "error",
            LogKind::Objective => "objective",
            LogKind::Info => "info",
        }
    }
}

/// One line of the event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When it happened.
    pub at: SimTime,
    /// What sort of thing it was.
    pub kind: LogKind,
    /// What happened, in words.
    pub text: String,
}

/// A bounded log, newest last.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    entries: VecDeque<LogEntry>,
    total: u64,
}

impl EventLog {
    /// Appends an entry, forgetting the oldest when full.
    pub fn push(&mut self, at: SimTime, kind: LogKind, text: impl Into<String>) {
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(LogEntry {
            at,
            kind,
            text: text.into(),
        });
        self.total += 1;
    }

    /// The newest `n` entries, oldest first.
    pub fn tail(&self, n: usize) -> Vec<LogEntry> {
        let skip = self.entries.len().saturating_sub(n);
        self.entries.iter().skip(skip).cloned().collect()
    }

    /// Entries ever logged, including forgotten ones.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// True if nothing was ever logged.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_entries() {
        let mut log = EventLog::default();
        for i in 0..(LOG_CAPACITY as u64 + 5) {
            log.push(SimTime(i), LogKind::Info, format!("{i}"));
        }
        assert_eq!(log.total(), LOG_CAPACITY as u64 + 5);
        let tail = log.tail(2);
        assert_eq!(tail[1].text, format!("{}", LOG_CAPACITY + 4));
        assert_eq!(log.tail(10_000).len(), LOG_CAPACITY);
        assert_eq!(log.tail(10_000)[0].text, "5");
    }
}
