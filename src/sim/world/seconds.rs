//! Once a second: series, per-server history; and objective windows
//! opening and closing.

use super::{Event, World};
use crate::engine::{LogKind, TRACKED_SERVERS};
use crate::model::SimDuration;
use crate::sim::objectives::Sample;

impl World {
    pub(super) fn on_second(&mut self) {
        let table = self.lb.table_len() as u64;
        let half_open = self.lb.half_open_total();
        self.metrics.end_second(table, half_open);
        for (i, h) in self.history.iter_mut().enumerate().take(TRACKED_SERVERS) {
            let picks = self.lb.backends[i].picks;
            let packets = self.servers[i].stats.packets_in;
            h.new_per_sec = picks - h.picks_at_last_second;
            h.new.push(h.new_per_sec);
            h.packets_per_sec = packets - h.packets_at_last_second;
            h.picks_at_last_second = picks;
            h.packets_at_last_second = packets;
            h.active.push(u64::from(self.lb.views[i].active));
        }
        self.queue
            .push(self.now + SimDuration::from_secs(1), Event::SecondTick);
    }

    pub(super) fn picks(&self) -> Vec<u64> {
        self.lb.backends.iter().map(|b| b.picks).collect()
    }

    pub(super) fn open_objective(&mut self, index: u32) {
        let picks = self.picks();
        if let Some(t) = self.objectives.get_mut(index as usize) {
            t.open(&self.metrics, picks);
        }
    }

    pub(super) fn close_objective(&mut self, index: u32) {
        let picks = self.picks();
        if let Some(t) = self.objectives.get_mut(index as usize) {
            t.close(&self.metrics, &picks);
            let status = t.status(&self.metrics, &picks, true);
            let value = status
                .value
                .map_or("no value".to_string(), |v| format!("{v:.2}{}", status.unit));
            self.log.push(
                self.now,
                LogKind::Objective,
                format!(
                    "objective {}: {} ({}: {value})",
                    status.verdict, status.name, status.claim
                ),
            );
        }
    }

    #[inline]
    pub(super) fn sample(&mut self, kind: Sample, d: SimDuration) {
        for t in &mut self.objectives {
            t.record(kind, d);
        }
    }
}
