//! A lab on real sockets behind the engine boundary: the lab's servers
//! and clients (the rig) through `lblab proxy` configured from the lab's
//! balancer. The clock is the wall clock since the run started; the
//! objectives are judged by the same trackers the simulation uses, on
//! what the real clients saw.

use super::config::proxy_config;
use super::front::Front;
use super::rig::Rig;
use crate::engine::{
    Advance, ConnCounters, Engine, Latency, LinkStats, LogKind, ObjectiveStatus, Sample, ServerRow,
    Snapshot, Tally, Tracker,
};
use crate::model::{SimDuration, SimTime};
use crate::proxy::config::ProxyConfig;
use crate::proxy::engine::ProxyEngine;
use crate::spec::{Command, DropReason, Lab, Origin};
use std::collections::HashMap;
use std::time::Instant;

/// One objective and its window, in the run's clock.
struct Judged {
    tracker: Tracker,
    opens: SimTime,
    closes: Option<SimTime>,
    opened: bool,
    closed: bool,
}

impl Judged {
    /// Its window is due to open by `now` and has not opened yet.
    fn opens_by(&self, now: SimTime) -> bool {
        !self.opened && now >= self.opens
    }

    /// Its window is due to close by `now` and has not closed yet.
    fn closes_by(&self, now: SimTime) -> bool {
        !self.closed && self.closes.is_some_and(|c| now >= c)
    }
}

/// The latencies the real clients and the health checker gave.
#[derive(Default)]
pub(super) struct Latencies {
    pub(super) handshake: Latency,
    pub(super) segment: Latency,
    pub(super) completion: Latency,
    pub(super) detection: Latency,
}

/// A lab running on real loopback sockets.
pub struct RealLab {
    pub(super) lab: Lab,
    pub(super) seed: u64,
    // The rig is declared first so that it stops first: clients gone, the
    // proxy's drain on drop has nothing to wait for.
    pub(super) rig: Rig,
    pub(super) proxy: Box<dyn Front>,
    judged: Vec<Judged>,
    pub(super) latency: Latencies,
    pub(super) killed_at: HashMap<String, SimTime>,
    was_healthy: HashMap<String, bool>,
    scheduled: Vec<(SimTime, Command, Origin)>,
    pub(super) chaos: rand_pcg::Pcg64Mcg,
}

/// The counters an objective's window measures on real sockets.
struct RealTally {
    conns: ConnCounters,
    drops: [u64; DropReason::COUNT],
}

impl Tally for RealTally {
    fn conns(&self) -> ConnCounters {
        self.conns
    }
    fn drops(&self) -> [u64; DropReason::COUNT] {
        self.drops
    }
    fn retransmits(&self) -> u64 {
        // The kernel's TCP retransmits out of sight.
        0
    }
}

impl RealLab {
    /// Starts the lab's servers, a proxy configured from its balancer,
    /// then its clients; the lab's timeline is scheduled.
    pub fn start(lab: &Lab, seed: u64) -> Result<RealLab, String> {
        RealLab::start_with(lab, seed, |lab, addresses| {
            let config: ProxyConfig = proxy_config(lab, addresses)?;
            Ok(Box::new(ProxyEngine::start(config, &lab.name, 1, false)?))
        })
    }

    /// [`start`](Self::start) with another balancer in front: `front`
    /// gets the lab and its servers' real addresses.
    pub fn start_with(
        lab: &Lab,
        seed: u64,
        front: impl FnOnce(&Lab, &[std::net::SocketAddr]) -> Result<Box<dyn Front>, String>,
    ) -> Result<RealLab, String> {
        let mut rig = Rig::start(lab, seed, Instant::now())?;
        let addresses: Vec<_> = rig.servers.iter().map(|s| s.backend.addr()).collect();
        let proxy = front(lab, &addresses)?;
        rig.start_clients(proxy.local_addr());
        let mut engine = RealLab {
            lab: lab.clone(),
            seed,
            rig,
            proxy,
            judged: Vec::new(),
            latency: Latencies::default(),
            killed_at: HashMap::new(),
            was_healthy: HashMap::new(),
            scheduled: Vec::new(),
            chaos: rand::SeedableRng::seed_from_u64(seed ^ 0xc4a0_5eed),
        };
        for o in &lab.objectives {
            engine.judged.push(Judged {
                tracker: Tracker::new(o.clone()),
                opens: SimTime::ZERO + o.window.start().get(),
                closes: o.window.end().map(|e| SimTime::ZERO + e.get()),
                opened: false,
                closed: false,
            });
        }
        for t in &lab.timeline {
            engine.schedule(
                SimTime::ZERO + t.at().get(),
                t.command().clone(),
                Origin::Timeline,
            );
        }
        engine.observe();
        Ok(engine)
    }

    /// A maker for drivers: a lab that cannot start on real sockets is
    /// reported and the process exits, as a failed bind would.
    pub fn try_maker() -> crate::engine::MakeEngine {
        std::sync::Arc::new(|lab: &Lab, seed: u64| -> Box<dyn Engine> {
            match RealLab::start(lab, seed) {
                Ok(e) => Box::new(e),
                Err(e) => {
                    eprintln!("lblab: cannot run {} on real sockets: {e}", lab.name);
                    std::process::exit(1);
                }
            }
        })
    }

    fn tally(&self) -> RealTally {
        let snap_drops = self.proxy.snapshot().drops;
        let mut drops = [0; DropReason::COUNT];
        for (r, n) in snap_drops {
            drops[r.index()] = n;
        }
        RealTally {
            conns: self.rig.book.conns(),
            drops,
        }
    }

    pub(super) fn picks(&self) -> Vec<u64> {
        super::view::rows(self)
            .iter()
            .map(|r| r.connections)
            .collect()
    }

    /// Samples, health flips, windows and due commands since last time.
    fn observe(&mut self) {
        for (kind, _, d) in self.rig.book.take_samples() {
            match kind {
                Sample::Handshake => self.latency.handshake.record(d),
                Sample::Segment => self.latency.segment.record(d),
                Sample::Completion => self.latency.completion.record(d),
                Sample::Detection => self.latency.detection.record(d),
            }
            for j in &mut self.judged {
                j.tracker.record(kind, d);
            }
        }
        self.detect();
        self.windows();
        let now = self.now();
        let (due, later): (Vec<_>, Vec<_>) =
            self.scheduled.drain(..).partition(|(at, _, _)| *at <= now);
        self.scheduled = later;
        for (_, command, origin) in due {
            self.apply_command(command, origin);
        }
    }

    /// A killed server marked down: how long the health checker took.
    fn detect(&mut self) {
        let now = self.now();
        for row in self.proxy.server_rows() {
            let before = self.was_healthy.insert(row.name.clone(), row.healthy);
            if before == Some(true)
                && !row.healthy
                && let Some(at) = self.killed_at.remove(&row.name)
            {
                let d = SimDuration::from_nanos(now.0.saturating_sub(at.0));
                self.latency.detection.record(d);
                for j in &mut self.judged {
                    j.tracker.record(Sample::Detection, d);
                }
                self.proxy.note_now(
                    LogKind::Health,
                    format!(
                        "{} marked DOWN {:.0} ms after it died",
                        row.name,
                        d.as_millis_f64()
                    ),
                );
            }
        }
    }

    fn windows(&mut self) {
        let now = self.now();
        // Called every few milliseconds; the counters (a proxy snapshot
        // among them) are read only when a window opens or closes.
        if !self
            .judged
            .iter()
            .any(|j| j.opens_by(now) || j.closes_by(now))
        {
            return;
        }
        let tally = self.tally();
        let picks = self.picks();
        let mut said = Vec::new();
        for j in &mut self.judged {
            if j.opens_by(now) {
                j.opened = true;
                j.tracker.open(&tally, picks.clone());
            }
            if j.opened && j.closes_by(now) {
                j.closed = true;
                j.tracker.close(&tally, &picks);
                let s = j.tracker.status(&tally, &picks, true);
                let value = s
                    .value
                    .map_or("no value".to_string(), |v| format!("{v:.2}{}", s.unit));
                said.push(format!(
                    "objective {}: {} ({}: {value})",
                    s.verdict, s.name, s.claim
                ));
            }
        }
        for text in said {
            self.proxy.note_now(LogKind::Objective, text);
        }
    }

    pub(super) fn statuses(&self, run_over: bool) -> Vec<ObjectiveStatus> {
        let tally = self.tally();
        let picks = self.picks();
        self.judged
            .iter()
            .map(|j| j.tracker.status(&tally, &picks, run_over))
            .collect()
    }
}

impl Engine for RealLab {
    fn now(&self) -> SimTime {
        self.rig.book.now()
    }

    fn seed(&self) -> u64 {
        self.seed
    }

    fn events_processed(&self) -> u64 {
        self.proxy.events_processed()
    }

    fn apply(&mut self, command: Command, origin: Origin) {
        self.apply_command(command, origin);
    }

    fn schedule(&mut self, at: SimTime, command: Command, origin: Origin) {
        self.scheduled.push((at, command, origin));
    }

    fn advance(&mut self, until: SimTime, _max_events: u64) -> Advance {
        let before = self.events_processed();
        loop {
            self.proxy.advance(until);
            self.observe();
            // Headless runs ask for the whole run at once; a dashboard
            // asks for a frame's worth.
            if self.now() >= until || self.workload_finished() {
                break;
            }
        }
        Advance {
            events: self.events_processed() - before,
            reached: self.now() >= until,
        }
    }

    fn run_to_completion(&mut self, limit: SimTime) -> bool {
        self.advance(limit, u64::MAX);
        self.workload_finished()
    }

    fn workload_finished(&self) -> bool {
        self.workload_is_finite() && super::view::clients_finished(self)
    }

    fn workload_is_finite(&self) -> bool {
        let c = &self.lab.clients;
        (c.closed.is_some() || c.open.is_some())
            && c.closed.as_ref().is_none_or(|s| s.connections.is_some())
            && c.open.as_ref().is_none_or(|o| o.limit.is_some())
    }

    fn run_over(&self) -> bool {
        self.workload_finished()
            || self
                .lab
                .duration
                .is_some_and(|d| self.now() >= SimTime::ZERO + d.get())
    }

    fn note(&mut self, text: String) {
        self.proxy.note_now(LogKind::Info, text);
    }

    fn snapshot(&self) -> Snapshot {
        super::view::snapshot(self)
    }

    fn server_rows(&self) -> Vec<ServerRow> {
        super::view::rows(self)
    }

    fn link_stats(&self) -> Vec<LinkStats> {
        Vec::new()
    }

    fn objective_statuses(&self, run_over: bool) -> Vec<ObjectiveStatus> {
        self.statuses(run_over)
    }

    fn real_time(&self) -> bool {
        true
    }
}
