//! Once a second: series, per-server history; and objective windows
//! opening and closing.

use super::{Event, World};
use crate::engine::Sample;
use crate::engine::{LogKind, SecondRow, TRACKED_SERVERS};
use crate::model::SimDuration;

impl World {
    pub(super) fn on_second(&mut self) {
        let table = self.lb.table_len() as u64;
        let half_open = self.lb.half_open_total();
        self.metrics.end_second(table, half_open);
        if self.series_log.is_some() {
            self.log_second(table, half_open);
        }
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

    /// Appends this second's row to the kept series (`keep_series`):
    /// the newest value of every series, and every backend's figures.
    fn log_second(&mut self, table: u64, half_open: u64) {
        let p = &self.metrics.series;
        let last = |s: &crate::engine::Series| s.last().unwrap_or(0);
        let samples = last(&p.latency_samples);
        let row = SecondRow {
            second: self.now.as_nanos() / 1_000_000_000,
            new_conns: last(&p.new_conns),
            completed: last(&p.completed),
            failed: last(&p.failed),
            drops: last(&p.drops),
            drops_by_reason: p.drops_by_reason.iter().map(last).collect(),
            latency_samples: samples,
            latency_p95_us: (samples > 0).then(|| last(&p.latency_p95_us)),
            table,
            half_open,
            backend_new: self.lb.backends.iter().map(|b| b.picks).collect(),
            backend_active: self.lb.views.iter().map(|v| u64::from(v.active)).collect(),
        };
        let Some(log) = &mut self.series_log else {
            return;
        };
        // Picks are totals: each second's are the change since the last row.
        let mut row = row;
        let totals = row.backend_new.clone();
        for (i, n) in row.backend_new.iter_mut().enumerate() {
            *n -= log.picks_before.get(i).copied().unwrap_or(0);
        }
        log.picks_before = totals;
        // Servers added by a command get their name and column from now on.
        for s in &self.servers[log.backends.len().min(self.servers.len())..] {
            log.backends.push(s.name.clone());
        }
        log.rows.push(row);
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
