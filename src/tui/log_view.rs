//! The dashboard's copy of the event log: every entry of the run (the
//! engine's snapshot carries only the newest), a scroll position and a
//! filter. Memory is bounded: past [`KEPT`] entries the oldest go, and the
//! panel says how many.

use crate::engine::{LogEntry, Snapshot};
use std::collections::VecDeque;

/// Entries the dashboard keeps: at about 150 bytes each, 15 MB at most,
/// far more than a lesson's run writes (a few hundred lines).
pub const KEPT: usize = 100_000;

/// The log as the panel shows it.
#[derive(Clone, Debug, Default)]
pub struct LogView {
    entries: VecDeque<LogEntry>,
    /// Entries of the engine's log taken so far (its `log_total`).
    seen: u64,
    /// Entries lost: past [`KEPT`], or written faster than snapshots
    /// carried them.
    pub dropped: u64,
    /// Entries scrolled back from the newest (0 follows the newest).
    pub scroll: usize,
    /// Only entries containing this (any case) are shown.
    pub filter: String,
}

impl LogView {
    /// Takes the entries of `snapshot` not seen yet.
    pub fn take(&mut self, snapshot: &Snapshot) {
        let total = snapshot.log_total;
        if total < self.seen {
            // A new run (restart or another lab) starts its log afresh.
            self.restart();
        }
        let new = total - self.seen;
        let carried = snapshot.log.len() as u64;
        let take = new.min(carried);
        self.dropped += new - take;
        let skip = snapshot.log.len() - take as usize;
        for e in &snapshot.log[skip..] {
            if self.entries.len() == KEPT {
                self.entries.pop_front();
                self.dropped += 1;
            }
            self.entries.push_back(e.clone());
            if self.scroll > 0 {
                // A reader scrolled back keeps reading the same lines.
                self.scroll += 1;
            }
        }
        self.seen = total;
    }

    /// The entries the filter lets through, oldest first.
    pub fn shown(&self) -> Vec<&LogEntry> {
        let needle = self.filter.to_lowercase();
        self.entries
            .iter()
            .filter(|e| needle.is_empty() || matches(e, &needle))
            .collect()
    }

    /// Forgets the entries (a new run begins) but keeps the filter.
    pub fn restart(&mut self) {
        *self = LogView {
            filter: std::mem::take(&mut self.filter),
            ..LogView::default()
        };
    }

    /// Scrolls back (`up`) or forward by `n` entries, within the log.
    pub fn scroll_by(&mut self, up: bool, n: usize) {
        let max = self.shown().len().saturating_sub(1);
        self.scroll = if up {
            (self.scroll + n).min(max)
        } else {
            self.scroll.saturating_sub(n)
        };
    }

    /// Entries kept now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Nothing kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The entry's text or kind contains `needle` (already lower case).
fn matches(e: &LogEntry, needle: &str) -> bool {
    e.text.to_lowercase().contains(needle) || e.kind.name().contains(needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LogKind;
    use crate::model::SimTime;

    fn entry(i: u64) -> LogEntry {
        LogEntry {
            at: SimTime(i),
            kind: if i.is_multiple_of(2) {
                LogKind::Health
            } else {
                LogKind::Chaos
            },
            text: format!("line {i}"),
        }
    }

    fn snapshot_with(total: u64, carried: u64) -> Snapshot {
        let mut s = crate::sim::World::new(&crate::spec::Lab::named("t"), 1).snapshot();
        s.log = (total - carried..total).map(entry).collect();
        s.log_total = total;
        s
    }

    #[test]
    fn keeps_every_entry_across_snapshots_and_counts_the_lost() {
        let mut v = LogView::default();
        v.take(&snapshot_with(3, 3));
        v.take(&snapshot_with(5, 3));
        assert_eq!(v.len(), 5, "entries 3 and 4 added once each");
        assert_eq!(v.dropped, 0);
        // Ten entries written, but the snapshot carries only four.
        v.take(&snapshot_with(15, 4));
        assert_eq!(v.len(), 9);
        assert_eq!(v.dropped, 6);
        assert_eq!(v.shown().last().map(|e| e.text.as_str()), Some("line 14"));
    }

    #[test]
    fn filters_by_text_or_kind_and_scroll_stays_on_its_lines() {
        let mut v = LogView::default();
        v.take(&snapshot_with(10, 10));
        v.filter = "HEALTH".into();
        assert_eq!(v.shown().len(), 5);
        v.filter = "line 7".into();
        assert_eq!(v.shown().len(), 1);
        v.filter.clear();
        v.scroll_by(true, 3);
        assert_eq!(v.scroll, 3);
        v.take(&snapshot_with(12, 2));
        assert_eq!(v.scroll, 5, "new lines do not move what a reader reads");
        v.scroll_by(false, 100);
        assert_eq!(v.scroll, 0);
        v.scroll_by(true, 1000);
        assert_eq!(v.scroll, 11, "no scrolling past the oldest");
    }

    #[test]
    fn a_new_run_starts_a_new_log_but_keeps_the_filter() {
        let mut v = LogView::default();
        v.take(&snapshot_with(10, 10));
        v.filter = "x".into();
        v.take(&snapshot_with(2, 2));
        assert_eq!(v.len(), 2);
        assert_eq!(v.filter, "x");
    }
}
