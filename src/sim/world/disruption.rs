//! The disruption meter's side in the World: after a change of the
//! backends in rotation, what it did to a hashing algorithm's mapping goes
//! to the log and, for the report, to a bounded list.

use super::World;
use crate::engine::{DisruptionRecord, LogKind};

/// Disruption records a World keeps: a run that flaps a backend all day
/// keeps the newest, enough for any report to show the pattern.
pub const MAX_DISRUPTIONS: usize = 256;

impl World {
    /// Logs and records what the last change of the backends in rotation
    /// did to the mapping, if the balancer measured it.
    pub(super) fn note_disruption(&mut self) {
        let Some(d) = self.lb.take_disruption() else {
            return;
        };
        let flows = if d.flows.total == 0 {
            "no open flows".to_string()
        } else {
            format!("{} of {} open flows", d.flows.moved, d.flows.total)
        };
        self.log.push(
            self.now,
            LogKind::Info,
            format!(
                "{} now maps {:.1}% of flow keys elsewhere ({flows})",
                d.algorithm.name(),
                d.keys.share() * 100.0
            ),
        );
        for t in &mut self.objectives {
            t.record_moved(d.keys.share() * 100.0);
        }
        if self.disruptions.len() == MAX_DISRUPTIONS {
            self.disruptions.remove(0);
        }
        self.disruptions.push(DisruptionRecord {
            at: self.now,
            algorithm: d.algorithm.to_string(),
            keys_moved: d.keys.share(),
            flows_moved: d.flows.moved as u64,
            flows_open: d.flows.total as u64,
        });
    }
}
