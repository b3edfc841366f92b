//! Time averages for checking queueing theory from a report: the area
//! under each gauge (value × nanoseconds held), so `area / time` is its
//! mean over the run, exactly, not a once-a-second sample of it.
//!
//! The conn table's gauges are noted after every event (two reads); a
//! server's after every call that can change it (packets, service, sweep,
//! kill), so a World with many servers pays only for the one it touched.

use super::World;
use crate::engine::{BackendAverages, TimeAverages};
use crate::model::SimTime;
use crate::sim::server::Server;

/// One gauge's area so far.
#[derive(Clone, Copy, Debug, Default)]
pub(in crate::sim) struct Area {
    last: SimTime,
    value: u64,
    sum: u128,
}

impl Area {
    /// The gauge reads `value` from `now` on.
    #[inline]
    pub fn set(&mut self, now: SimTime, value: u64) {
        if value != self.value {
            self.sum += u128::from(self.value) * u128::from((now - self.last).as_nanos());
            self.last = now;
            self.value = value;
        }
    }

    /// The gauge's mean over [0, `now`].
    pub fn mean(&self, now: SimTime) -> f64 {
        let nanos = (now - SimTime::ZERO).as_nanos();
        if nanos == 0 {
            return self.value as f64;
        }
        let tail = u128::from(self.value) * u128::from((now - self.last).as_nanos());
        (self.sum + tail) as f64 / nanos as f64
    }
}

/// A server's gauges.
#[derive(Clone, Copy, Debug, Default)]
pub(in crate::sim) struct ServerAreas {
    active: Area,
    queue: Area,
    busy: Area,
}

impl ServerAreas {
    /// Notes what `server` holds from `now` on.
    #[inline]
    pub fn note(&mut self, now: SimTime, server: &Server) {
        self.active.set(now, u64::from(server.established()));
        self.queue.set(now, server.queued() as u64);
        self.busy.set(now, u64::from(server.busy_workers()));
    }
}

/// Every gauge the report averages.
#[derive(Clone, Debug, Default)]
pub(in crate::sim) struct Averages {
    pub table: Area,
    pub half_open: Area,
    pub servers: Vec<ServerAreas>,
}

impl World {
    /// Notes server `s`'s gauges after something changed it.
    #[inline]
    pub(super) fn note_server(&mut self, s: u32) {
        let (now, server) = (self.now, &self.servers[s as usize]);
        if let Some(a) = self.averages.servers.get_mut(s as usize) {
            a.note(now, server);
        }
    }

    /// Notes the conn table's gauges (after every event).
    #[inline]
    pub(super) fn note_table(&mut self) {
        let now = self.now;
        self.averages.table.set(now, self.lb.table_len() as u64);
        self.averages.half_open.set(now, self.lb.table.half_open());
    }

    /// The time averages over the run so far.
    pub fn time_averages(&self) -> TimeAverages {
        let now = self.now;
        let backends = self
            .servers
            .iter()
            .zip(&self.averages.servers)
            .map(|(s, a)| {
                let busy = a.busy.mean(now);
                BackendAverages {
                    name: s.name.clone(),
                    active: a.active.mean(now),
                    queue: a.queue.mean(now),
                    busy_workers: busy,
                    utilisation_pct: (s.workers > 0).then(|| busy * 100.0 / f64::from(s.workers)),
                    segments_served: s.stats.segments_served,
                    segments_waited: s.stats.segments_queued,
                }
            })
            .collect();
        TimeAverages {
            seconds: now.as_secs_f64(),
            table_entries: self.averages.table.mean(now),
            half_open: self.averages.half_open.mean(now),
            backends,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SimDuration;

    #[test]
    fn an_area_weighs_each_value_by_how_long_it_held() {
        let mut a = Area::default();
        let at = |ms| SimTime::ZERO + SimDuration::from_millis(ms);
        a.set(at(0), 2);
        a.set(at(100), 0);
        a.set(at(300), 4);
        // 2 for 100 ms, 0 for 200 ms, 4 for 100 ms: 600 / 400.
        assert!((a.mean(at(400)) - 1.5).abs() < 1e-12);
    }
}
