//! The World: every client, the balancer, every server and link, one event
//! queue and one seeded random stream. `World::new(&lab, seed)`, then
//! `run_until`, `apply` and `snapshot`. Deterministic and free of I/O: same
//! lab, seed and commands give the same run, byte for byte.

use super::addressing::{self, HEALTH_SOURCE, VIP};
use super::balancer::{Backward, Balancer, Forward, IdleCheck};
use super::client::{Client, Outcome, TcpConfig, TimerKind};
use super::command::Command;
use super::dist::{sample, sample_duration};
use super::log::{EventLog, LogKind};
use super::metrics::Metrics;
use super::net::{Link, LinkStats, unit};
use super::objectives::{ObjectiveStatus, Sample, Tracker};
use super::queue::EventQueue;
use super::reasons::DropReason;
use super::series::Series;
use super::server::{Job, Server, ServerOut};
use crate::lab::{AttackKind, ClosedSpec, FloodSpec, Lab, OpenSpec};
use crate::model::{Endpoint, Flags, FourTuple, Packet, SimDuration, SimTime};
use crate::policy::HealthTransition;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// How often servers sweep their own expired connections.
const SERVER_SWEEP_INTERVAL: SimDuration = SimDuration::from_secs(1);

/// Servers whose per-second history the World keeps (and Snapshots show).
pub const TRACKED_SERVERS: usize = 64;

/// Where a delivered packet arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dest {
    /// The balancer, from the client link.
    Balancer,
    /// The balancer, from server `n`'s link.
    BalancerFrom(u32),
    /// Server `n`.
    Server(u32),
    /// A client (found by its address).
    Client,
}

impl Dest {
    fn link(self) -> usize {
        match self {
            Dest::Balancer | Dest::Client => 0,
            Dest::BalancerFrom(s) | Dest::Server(s) => 1 + s as usize,
        }
    }
}

/// Everything that can happen at an instant.
#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
    Deliver { to: Dest, packet: Packet },
    ClientTimer { client: u32, kind: u8 },
    ServiceDone { server: u32, epoch: u32, job: Job },
    ServerSweep { server: u32 },
    ConnIdle { slot: u32, generation: u32 },
    ProbeSend { server: u32 },
    ProbeTimeout { server: u32, id: u32 },
    FloodTick { flood: u32 },
    OpenArrival { epoch: u32 },
    SecondTick,
    Command { index: u32 },
    ObjectiveOpen { index: u32 },
    ObjectiveClose { index: u32 },
}

/// Where a scheduled command came from, for the event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Typed or pressed by a person (or sent by a program).
    User,
    /// The lab's timeline.
    Timeline,
    /// A command script given to `lblab run --commands`.
    Script,
}

/// Which workload a client belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Workload {
    Closed,
    Open,
    /// A connection of attack flood `n`: not counted in client metrics.
    Attack(u32),
}

impl Workload {
    /// An attack connection (counted nowhere, never waited for).
    pub(super) fn is_attack(self) -> bool {
        matches!(self, Workload::Attack(_))
    }
}

/// Where a client is in its life (beyond its TCP state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Life {
    /// Has connections to make.
    Active,
    /// Made all its connections (or was retired).
    Done,
    /// Killed by a command.
    Killed,
    /// An open-arrival slot waiting for reuse.
    Free,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct ClientMeta {
    pub workload: Workload,
    pub life: Life,
    pub connections_left: u64,
    pub connections_made: u64,
    pub retire: bool,
}

pub(super) struct OpenState {
    pub spec: OpenSpec,
    pub rate: f64,
    pub started: u64,
    pub epoch: u32,
}

pub(super) struct Flood {
    pub spec: FloodSpec,
    /// When it begins.
    pub from: SimTime,
    pub until: SimTime,
    pub active: bool,
    /// Log the first SYN (floods from the lab file; a command logs itself).
    pub announce: bool,
}

/// Per-server history kept for the dashboard.
#[derive(Clone, Debug, Default)]
pub(super) struct ServerHistory {
    pub active: Series,
    pub new_per_sec: u64,
    pub packets_per_sec: u64,
    picks_at_last_second: u64,
    packets_at_last_second: u64,
    pub drops: u64,
    pub killed_at: Option<SimTime>,
    pub revived_at: Option<SimTime>,
}

/// The simulated world.
pub struct World {
    pub(super) lab: Lab,
    pub(super) seed: u64,
    pub(super) now: SimTime,
    pub(super) queue: EventQueue<Event>,
    pub(super) rng: Pcg64Mcg,
    pub(super) links: Vec<Link>,
    pub(super) clients: Vec<Client>,
    pub(super) meta: Vec<ClientMeta>,
    pub(super) free_clients: Vec<u32>,
    pub(super) active_clients: u64,
    pub(super) servers: Vec<Server>,
    pub(super) history: Vec<ServerHistory>,
    pub(super) lb: Balancer,
    pub(super) tcp: TcpConfig,
    pub(super) closed: Option<ClosedSpec>,
    pub(super) open: Option<OpenState>,
    pub(super) floods: Vec<Flood>,
    pub(super) metrics: Metrics,
    pub(super) log: EventLog,
    pub(super) scheduled: Vec<Option<(Command, Origin)>>,
    pub(super) objectives: Vec<Tracker>,
    pub(super) events: u64,
    out: Vec<Packet>,
    sout: ServerOut,
}

impl World {
    /// Builds the World a lab describes, seeded with `seed`.
    pub fn new(lab: &Lab, seed: u64) -> World {
        let mut w = World {
            lab: lab.clone(),
            seed,
            now: SimTime::ZERO,
            queue: EventQueue::default(),
            rng: Pcg64Mcg::seed_from_u64(seed),
            links: vec![Link::new(lab.network.client_link)],
            clients: Vec::new(),
            meta: Vec::new(),
            free_clients: Vec::new(),
            active_clients: 0,
            servers: Vec::new(),
            history: Vec::new(),
            lb: Balancer::new(&lab.balancer, VIP).with_cookie_seed(seed),
            tcp: TcpConfig::from(&lab.clients.tcp),
            closed: lab.clients.closed.clone(),
            open: None,
            floods: Vec::new(),
            metrics: Metrics::default(),
            log: EventLog::default(),
            scheduled: Vec::new(),
            objectives: Vec::new(),
            events: 0,
            out: Vec::with_capacity(4),
            sout: ServerOut::default(),
        };
        let specs = lab.servers.expand();
        let n = specs.len().max(1) as u64;
        for (i, spec) in specs.iter().enumerate() {
            // Probes are spread over one interval so they do not all leave
            // at the same instant.
            let spread = u128::from(w.lb.health.interval.as_nanos()) * i as u128 / u128::from(n);
            let offset = SimDuration::from_nanos(spread as u64);
            w.add_server(spec, offset);
        }
        if let Some(closed) = lab.clients.closed.clone() {
            for _ in 0..closed.population {
                let spread = closed.start_spread.get().as_nanos();
                let start = if spread > 0 {
                    w.rng.next_u64() % spread
                } else {
                    0
                };
                w.spawn_closed_client(SimTime(start));
            }
        }
        if let Some(open) = lab.clients.open.clone() {
            w.open = Some(OpenState {
                rate: open.rate.get(),
                spec: open,
                started: 0,
                epoch: 0,
            });
            w.schedule_next_arrival();
        }
        for flood in &lab.clients.floods {
            w.start_flood(*flood, SimTime::ZERO + flood.start.get(), true);
        }
        w.queue
            .push(SimTime::ZERO + SimDuration::from_secs(1), Event::SecondTick);
        // Objective windows first, so a command at a window's edge falls
        // inside it ([start, end)) whether it comes from the timeline or
        // from a script scheduled after construction.
        for (i, objective) in lab.objectives.iter().enumerate() {
            w.objectives.push(Tracker::new(objective.clone()));
            let index = i as u32;
            let start = SimTime::ZERO + objective.window.start().get();
            if start == SimTime::ZERO {
                w.open_objective(index);
            } else {
                w.queue.push(start, Event::ObjectiveOpen { index });
            }
            if let Some(end) = objective.window.end() {
                w.queue
                    .push(SimTime::ZERO + end.get(), Event::ObjectiveClose { index });
            }
        }
        for entry in &lab.timeline {
            w.schedule_from(
                SimTime::ZERO + entry.at().get(),
                entry.command().clone(),
                Origin::Timeline,
            );
        }
        w
    }

    fn picks(&self) -> Vec<u64> {
        self.lb.backends.iter().map(|b| b.picks).collect()
    }

    fn open_objective(&mut self, index: u32) {
        let picks = self.picks();
        if let Some(t) = self.objectives.get_mut(index as usize) {
            t.open(&self.metrics, picks);
        }
    }

    fn close_objective(&mut self, index: u32) {
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

    /// Adds a line to the event log (for drivers: a pause, a lab's end).
    pub fn note(&mut self, text: impl Into<String>) {
        self.log.push(self.now, LogKind::Info, text);
    }

    /// The lab's run is over: its workload finished, or its duration passed.
    pub fn run_over(&self) -> bool {
        self.workload_finished()
            || self
                .lab
                .duration
                .is_some_and(|d| self.now >= SimTime::ZERO + d.get())
    }

    /// Every objective's status now. With `run_over`, objectives whose
    /// window lasts to the end of the run are judged as they stand.
    pub fn objective_statuses(&self, run_over: bool) -> Vec<ObjectiveStatus> {
        let picks = self.picks();
        self.objectives
            .iter()
            .map(|t| t.status(&self.metrics, &picks, run_over))
            .collect()
    }

    #[inline]
    fn sample(&mut self, kind: Sample, d: SimDuration) {
        for t in &mut self.objectives {
            t.record(kind, d);
        }
    }

    /// Adds a server with its link, backend entry and timers; returns its index.
    pub(super) fn add_server(
        &mut self,
        spec: &crate::lab::ServerSpec,
        probe_offset: SimDuration,
    ) -> u32 {
        let i = self.servers.len();
        let endpoint = addressing::server_endpoint(i);
        self.servers.push(Server::new(spec, endpoint));
        self.history.push(ServerHistory::default());
        // A new server's link behaves like the backend links do now, which
        // commands may have changed since the lab started.
        let link = self
            .links
            .get(1)
            .map_or(self.lab.network.backend_link, |l| l.spec);
        self.links.push(Link::new(link));
        let b = self
            .lb
            .add_backend(endpoint, spec.weight.get(), spec.max_half_open.get());
        self.queue
            .push(self.now + probe_offset, Event::ProbeSend { server: b });
        self.queue.push(
            self.now + SERVER_SWEEP_INTERVAL,
            Event::ServerSweep { server: b },
        );
        b
    }

    /// The simulated clock.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The seed the World was built with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The lab the World was built from.
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.events
    }

    /// What the World has measured.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Half-open conn-table entries of each backend, in server order.
    pub fn half_open_by_backend(&self) -> impl Iterator<Item = u32> + '_ {
        self.lb.views.iter().map(|v| v.half_open)
    }

    /// Every link's counters: the client link first, then one per server.
    pub fn link_stats(&self) -> Vec<LinkStats> {
        self.links.iter().map(|l| l.stats).collect()
    }

    /// True once every client has made all its connections and no open
    /// arrivals remain. Floods are background to clients; a lab with floods
    /// and no clients finishes when its floods end.
    pub fn workload_finished(&self) -> bool {
        let clients_done = self.active_clients == 0 && !self.arrivals_pending();
        clients_done && (self.has_clients() || self.floods.iter().all(|f| !f.active))
    }

    /// The lab has clients of its own (not only floods).
    fn has_clients(&self) -> bool {
        self.closed.as_ref().is_some_and(|c| c.population > 0) || self.open.is_some()
    }

    /// Floods under way now (started and not over).
    pub fn floods_running(&self) -> usize {
        self.floods
            .iter()
            .filter(|f| f.active && f.from <= self.now && self.now < f.until)
            .count()
    }

    /// Open arrivals will still come.
    pub fn arrivals_pending(&self) -> bool {
        self.open
            .as_ref()
            .is_some_and(|o| o.rate > 0.0 && o.spec.limit.is_none_or(|l| o.started < l))
    }

    /// True if the workload can ever finish on its own.
    pub fn workload_is_finite(&self) -> bool {
        let closed_finite = self
            .closed
            .as_ref()
            .is_none_or(|c| c.population == 0 || c.connections.is_some());
        let open_finite = self
            .open
            .as_ref()
            .is_none_or(|o| o.rate == 0.0 || o.spec.limit.is_some());
        let floods_finite =
            self.has_clients() || self.floods.iter().all(|f| f.until != SimTime::MAX);
        closed_finite && open_finite && floods_finite
    }

    /// Runs every event due at or before `until`, then sets the clock to
    /// `until`. Returns the number of events processed.
    pub fn run_until(&mut self, until: SimTime) -> u64 {
        let start = self.events;
        while let Some(t) = self.queue.peek_time() {
            if t > until {
                break;
            }
            self.step();
        }
        if until != SimTime::MAX {
            self.now = self.now.max(until);
        }
        self.events - start
    }

    /// Runs until the workload finishes or `limit` is reached; the clock
    /// stops at the last event processed. Returns true if it finished.
    pub fn run_to_completion(&mut self, limit: SimTime) -> bool {
        while !self.workload_finished() {
            match self.queue.peek_time() {
                Some(t) if t <= limit => {
                    self.step();
                }
                _ => {
                    self.now = self.now.max(limit);
                    return false;
                }
            }
        }
        true
    }

    /// When the next event is due, if any is queued.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// Processes the next event; false if the queue is empty.
    pub fn step(&mut self) -> bool {
        let Some((t, ev)) = self.queue.pop() else {
            return false;
        };
        self.now = t;
        self.events += 1;
        match ev {
            Event::Deliver { to, packet } => self.deliver(to, packet),
            Event::ClientTimer { client, kind } => self.on_client_timer(client, kind),
            Event::ServiceDone { server, epoch, job } => self.on_service_done(server, epoch, job),
            Event::ServerSweep { server } => {
                self.servers[server as usize].sweep(t);
                if !self.lb.backends[server as usize].removed {
                    self.queue
                        .push(t + SERVER_SWEEP_INTERVAL, Event::ServerSweep { server });
                }
            }
            Event::ConnIdle { slot, generation } => {
                if let IdleCheck::Recheck(due) = self.lb.on_idle_timer(slot, generation, t) {
                    self.queue.push(due, Event::ConnIdle { slot, generation });
                }
            }
            Event::ProbeSend { server } => self.send_probe(server),
            Event::ProbeTimeout { server, id } => self.on_probe_timeout(server, id),
            Event::FloodTick { flood } => self.on_flood_tick(flood),
            Event::OpenArrival { epoch } => self.on_open_arrival(epoch),
            Event::SecondTick => self.on_second(),
            Event::Command { index } => {
                if let Some((cmd, origin)) = self
                    .scheduled
                    .get_mut(index as usize)
                    .and_then(Option::take)
                {
                    self.apply_from(cmd, origin);
                }
            }
            Event::ObjectiveOpen { index } => self.open_objective(index),
            Event::ObjectiveClose { index } => self.close_objective(index),
        }
        true
    }

    /// Queues `cmd` to be applied at `at` (or now, if `at` has passed).
    pub fn schedule(&mut self, at: SimTime, cmd: Command) {
        self.schedule_from(at, cmd, Origin::User);
    }

    /// Queues `cmd` from `origin` to be applied at `at`.
    pub fn schedule_from(&mut self, at: SimTime, cmd: Command, origin: Origin) {
        let index = self.scheduled.len() as u32;
        self.scheduled.push(Some((cmd, origin)));
        self.queue.push(at.max(self.now), Event::Command { index });
    }

    // ---- packets -------------------------------------------------------

    /// Puts `p` on the link toward `to`; a lost packet is counted as dropped.
    #[inline]
    pub(super) fn send(&mut self, to: Dest, mut p: Packet) {
        p.sent_at = self.now;
        let link = to.link();
        match self.links[link].transmit(p.wire_bytes(), &mut self.rng) {
            Some(delay) => self
                .queue
                .push(self.now + delay, Event::Deliver { to, packet: p }),
            None => {
                if let Dest::Server(s) | Dest::BalancerFrom(s) = to {
                    self.history[s as usize].drops += 1;
                }
                self.drop_packet(DropReason::LinkLoss);
            }
        }
    }

    pub(super) fn drop_packet(&mut self, reason: DropReason) {
        if self.metrics.dropped(reason) {
            self.log.push(
                self.now,
                LogKind::Drop,
                format!("first packet dropped: {reason}"),
            );
        }
    }

    fn deliver(&mut self, to: Dest, p: Packet) {
        self.links[to.link()].arrived();
        match to {
            Dest::Balancer => self.balancer_from_client(p),
            Dest::BalancerFrom(s) => self.balancer_from_server(s, p),
            Dest::Server(s) => self.server_receive(s, p),
            Dest::Client => self.client_receive(p),
        }
    }

    fn balancer_from_client(&mut self, p: Packet) {
        let entropy = self.rng.next_u64();
        match self.lb.from_client(&p, self.now, entropy) {
            Forward::ToBackend {
                backend,
                packet,
                new_entry,
            } => {
                if let Some((slot, due)) = new_entry {
                    self.queue.push(
                        due,
                        Event::ConnIdle {
                            slot,
                            generation: self.lb_gen(slot),
                        },
                    );
                }
                self.send(Dest::Server(backend), packet);
            }
            Forward::Reply(answer) => self.send(Dest::Client, answer),
            Forward::Drop(reason) => self.drop_packet(reason),
        }
    }

    fn lb_gen(&self, slot: u32) -> u32 {
        self.lb.entry_gen(slot)
    }

    fn balancer_from_server(&mut self, s: u32, p: Packet) {
        if p.key.dst.ip == HEALTH_SOURCE {
            self.on_probe_reply(s, p);
            return;
        }
        match self.lb.from_backend(s, &p, self.now) {
            Backward::ToClient(out) => self.send(Dest::Client, out),
            Backward::ToBackend(ack, held) => {
                self.send(Dest::Server(s), ack);
                if let Some(h) = held {
                    self.send(Dest::Server(s), h);
                }
            }
            Backward::Drop(reason) => self.drop_packet(reason),
        }
    }

    fn server_receive(&mut self, s: u32, p: Packet) {
        let mut out = std::mem::take(&mut self.sout);
        let server = &mut self.servers[s as usize];
        let result = if p.key.src.ip == HEALTH_SOURCE {
            server.on_probe(&p, &mut out)
        } else {
            server.on_packet(&p, self.now, &mut self.rng, &mut out)
        };
        if let Err(reason) = result {
            self.history[s as usize].drops += 1;
            self.drop_packet(reason);
        }
        self.flush_server(s, &mut out);
        self.sout = out;
    }

    fn flush_server(&mut self, s: u32, out: &mut ServerOut) {
        let epoch = self.servers[s as usize].epoch;
        for (service, job) in out.jobs.drain(..) {
            self.queue.push(
                self.now + service,
                Event::ServiceDone {
                    server: s,
                    epoch,
                    job,
                },
            );
        }
        for p in out.packets.drain(..) {
            self.send(Dest::BalancerFrom(s), p);
        }
    }

    fn on_service_done(&mut self, s: u32, epoch: u32, job: Job) {
        let server = &mut self.servers[s as usize];
        if server.epoch != epoch {
            return; // served in a life the server no longer has
        }
        let mut out = std::mem::take(&mut self.sout);
        server.on_service_done(&job, &mut self.rng, &mut out);
        self.flush_server(s, &mut out);
        self.sout = out;
    }

    // ---- health checks -------------------------------------------------

    fn send_probe(&mut self, s: u32) {
        let b = &mut self.lb.backends[s as usize];
        if b.removed {
            return;
        }
        if b.probe_out.is_some() {
            // The previous probe is still out when the next is due: it failed.
            b.probe_out = None;
            self.probe_result(s, false, None);
        }
        let b = &mut self.lb.backends[s as usize];
        b.probe_seq = b.probe_seq.wrapping_add(1);
        let id = b.probe_seq;
        b.probe_out = Some((id, self.now));
        let src = Endpoint::new(HEALTH_SOURCE, (id % 28_000) as u16 + 32768);
        let probe = Packet::control(FourTuple::tcp(src, b.endpoint), Flags::SYN, id, 0);
        self.send(Dest::Server(s), probe);
        let health = self.lb.health;
        self.queue.push(
            self.now + health.timeout,
            Event::ProbeTimeout { server: s, id },
        );
        self.queue
            .push(self.now + health.interval, Event::ProbeSend { server: s });
    }

    fn on_probe_reply(&mut self, s: u32, p: Packet) {
        let id = p.ack.wrapping_sub(1);
        let b = &mut self.lb.backends[s as usize];
        if let Some((out_id, sent)) = b.probe_out
            && out_id == id
        {
            b.probe_out = None;
            let rtt = self.now - sent;
            self.probe_result(s, true, Some(rtt));
        }
    }

    fn on_probe_timeout(&mut self, s: u32, id: u32) {
        let b = &mut self.lb.backends[s as usize];
        if b.probe_out.is_some_and(|(out_id, _)| out_id == id) {
            b.probe_out = None;
            self.probe_result(s, false, None);
        }
    }

    fn probe_result(&mut self, s: u32, ok: bool, rtt: Option<SimDuration>) {
        let Some(flip) = self.lb.record_probe(s, ok, rtt) else {
            return;
        };
        let name = self.servers[s as usize].name.clone();
        let h = &self.history[s as usize];
        match flip {
            HealthTransition::WentDown => {
                let delay = h
                    .killed_at
                    .filter(|_| !self.servers[s as usize].alive)
                    .map(|k| self.now - k);
                if let Some(d) = delay {
                    self.metrics.detection.record(d);
                    self.sample(Sample::Detection, d);
                }
                let since = delay
                    .map(|d| format!(", {d} after it died"))
                    .unwrap_or_default();
                self.log.push(
                    self.now,
                    LogKind::Health,
                    format!(
                        "{name} marked DOWN after {} failed probes{since}",
                        self.lb.health.fall
                    ),
                );
                for rst in self.lb.backend_went_down(s) {
                    self.send(Dest::Client, rst);
                }
            }
            HealthTransition::WentUp => {
                let since = h
                    .revived_at
                    .filter(|_| self.servers[s as usize].alive)
                    .map(|r| format!(", {} after it came back", self.now - r))
                    .unwrap_or_default();
                self.log.push(
                    self.now,
                    LogKind::Health,
                    format!(
                        "{name} marked UP after {} good probes{since}",
                        self.lb.health.rise
                    ),
                );
            }
        }
    }

    // ---- floods --------------------------------------------------------

    pub(super) fn start_flood(&mut self, spec: FloodSpec, at: SimTime, announce: bool) {
        let until = spec.duration.map_or(SimTime::MAX, |d| at + d.get());
        let index = self.floods.len() as u32;
        self.floods.push(Flood {
            spec,
            from: at,
            until,
            active: true,
            announce,
        });
        self.queue.push(at, Event::FloodTick { flood: index });
    }

    fn on_flood_tick(&mut self, index: u32) {
        let now = self.now;
        let flood = &mut self.floods[index as usize];
        if !flood.active {
            return;
        }
        if now >= flood.until || flood.spec.rate.get() <= 0.0 {
            flood.active = false;
            self.log.push(now, LogKind::Flood, "SYN flood ended");
            return;
        }
        let (rate, sources) = (flood.spec.rate.get(), flood.spec.sources.get());
        let kind = flood.spec.kind;
        if flood.announce {
            flood.announce = false;
            self.log.push(
                now,
                LogKind::Flood,
                format!("SYN flood starts: {rate}/s from {sources} spoofed sources"),
            );
        }
        if kind != AttackKind::SpoofedSyn {
            self.metrics.flood_syns += 1;
            self.spawn_attacker(index);
            let gap = -(1.0 - unit(&mut self.rng)).ln() / rate;
            self.queue.push(
                now + SimDuration::from_secs_f64(gap).max(SimDuration::from_nanos(1)),
                Event::FloodTick { flood: index },
            );
            return;
        }
        let word = self.rng.next_u64();
        let src_ip = addressing::FLOOD_BASE.offset((word % u64::from(sources)) as u32);
        let port = 1024 + ((word >> 32) % 64_000) as u16;
        let syn = Packet::control(
            FourTuple::tcp(Endpoint::new(src_ip, port), VIP),
            Flags::SYN,
            (word >> 16) as u32,
            0,
        );
        self.metrics.flood_syns += 1;
        self.send(Dest::Balancer, syn);
        let gap = -(1.0 - unit(&mut self.rng)).ln() / rate;
        self.queue.push(
            now + SimDuration::from_secs_f64(gap).max(SimDuration::from_nanos(1)),
            Event::FloodTick { flood: index },
        );
    }

    // ---- clients -------------------------------------------------------

    pub(super) fn spawn_closed_client(&mut self, start: SimTime) {
        let connections = self.closed.as_ref().and_then(|c| c.connections);
        let i = self.clients.len();
        let mut c = Client::new(Endpoint::new(addressing::client_ip(i), 0), VIP);
        c.wake_at(start);
        self.clients.push(c);
        self.meta.push(ClientMeta {
            workload: Workload::Closed,
            life: Life::Active,
            connections_left: connections.unwrap_or(u64::MAX),
            connections_made: 0,
            retire: false,
        });
        self.active_clients += 1;
        self.sync_timers(i as u32);
    }

    pub(super) fn schedule_next_arrival(&mut self) {
        let Some(open) = &self.open else { return };
        if open.rate <= 0.0 || open.spec.limit.is_some_and(|l| open.started >= l) {
            return;
        }
        let (rate, epoch) = (open.rate, open.epoch);
        let gap = -(1.0 - unit(&mut self.rng)).ln() / rate;
        self.queue.push(
            self.now + SimDuration::from_secs_f64(gap),
            Event::OpenArrival { epoch },
        );
    }

    /// A client slot for a one-shot connection: a free one, or a new one.
    fn take_slot(&mut self, workload: Workload) -> Option<u32> {
        if let Some(i) = self.free_clients.pop() {
            self.meta[i as usize].workload = workload;
            return Some(i);
        }
        let i = self.clients.len();
        if i >= addressing::MAX_CLIENTS {
            self.log
                .push(self.now, LogKind::Error, "client address space exhausted");
            return None;
        }
        self.clients
            .push(Client::new(Endpoint::new(addressing::client_ip(i), 0), VIP));
        self.meta.push(ClientMeta {
            workload,
            life: Life::Free,
            connections_left: 0,
            connections_made: 0,
            retire: false,
        });
        Some(i as u32)
    }

    /// Opens one attack connection for flood `index` from a real address.
    fn spawn_attacker(&mut self, index: u32) {
        let Some(i) = self.take_slot(Workload::Attack(index)) else {
            return;
        };
        let m = &mut self.meta[i as usize];
        m.life = Life::Active;
        m.connections_left = 1;
        m.retire = false;
        self.connect(i);
    }

    fn on_open_arrival(&mut self, epoch: u32) {
        let Some(open) = &mut self.open else { return };
        if open.epoch != epoch || open.spec.limit.is_some_and(|l| open.started >= l) {
            return;
        }
        open.started += 1;
        let Some(i) = self.take_slot(Workload::Open) else {
            return;
        };
        let m = &mut self.meta[i as usize];
        m.life = Life::Active;
        m.connections_left = 1;
        m.retire = false;
        self.active_clients += 1;
        self.connect(i);
        self.schedule_next_arrival();
    }

    fn segments_dist(&self, c: u32) -> crate::lab::Dist<u64> {
        match self.meta[c as usize].workload {
            Workload::Closed => self.closed.as_ref().map(|s| s.segments),
            Workload::Open => self.open.as_ref().map(|o| o.spec.segments),
            // Attackers never finish on their own.
            Workload::Attack(_) => Some(crate::lab::Dist::Constant(u64::MAX / 2)),
        }
        .unwrap_or(crate::lab::Dist::Constant(1))
    }

    fn connect(&mut self, c: u32) {
        let segments = sample(&self.segments_dist(c), &mut self.rng).max(1);
        let iss = self.rng.next_u32();
        let m = &mut self.meta[c as usize];
        let port = addressing::ephemeral_port(m.connections_made);
        m.connections_made += 1;
        if !m.workload.is_attack() {
            self.metrics.attempted();
        }
        let mut out = std::mem::take(&mut self.out);
        self.clients[c as usize].connect(self.now, port, iss, segments, &self.tcp, &mut out);
        self.flush_client(c, &mut out);
        self.out = out;
    }

    fn flush_client(&mut self, c: u32, out: &mut Vec<Packet>) {
        for p in out.drain(..) {
            self.send(Dest::Balancer, p);
        }
        self.sync_timers(c);
    }

    /// Schedules a timer event for any deadline that moved earlier than the
    /// event already queued for it (later ones are found when that fires).
    #[inline]
    fn sync_timers(&mut self, c: u32) {
        let client = &mut self.clients[c as usize];
        for kind in TimerKind::ALL {
            let k = kind as usize;
            let due = client.deadline(kind);
            if due < client.pending[k] {
                client.pending[k] = due;
                self.queue.push(
                    due,
                    Event::ClientTimer {
                        client: c,
                        kind: k as u8,
                    },
                );
            }
        }
    }

    fn on_client_timer(&mut self, c: u32, k: u8) {
        let kind = TimerKind::ALL[k as usize & 1];
        let now = self.now;
        let client = &mut self.clients[c as usize];
        if client.pending[k as usize] != now {
            return; // superseded by an earlier event for the same timer
        }
        client.pending[k as usize] = SimTime::MAX;
        let due = client.deadline(kind);
        if due > now {
            self.sync_timers(c);
            return;
        }
        if self.meta[c as usize].life != Life::Active {
            return;
        }
        let mut out = std::mem::take(&mut self.out);
        match kind {
            TimerKind::Retransmit => {
                let o = self.clients[c as usize].on_retransmit_timer(now, &self.tcp, &mut out);
                self.flush_client(c, &mut out);
                self.on_outcome(c, o);
            }
            TimerKind::Wake => {
                let client = &mut self.clients[c as usize];
                client.wake_at(SimTime::MAX);
                if client.state == super::client::TcpState::Closed {
                    self.out = out;
                    self.connect(c);
                    return;
                }
                self.send_next_segment(c, &mut out);
            }
        }
        self.out = out;
    }

    fn segment_size(&mut self, c: u32) -> u32 {
        let dist = match self.meta[c as usize].workload {
            Workload::Closed => self.closed.as_ref().map(|s| s.segment_size),
            Workload::Open => self.open.as_ref().map(|o| o.spec.segment_size),
            Workload::Attack(_) => Some(crate::lab::Dist::Constant(1)),
        }
        .unwrap_or(crate::lab::Dist::Constant(1024));
        sample(&dist, &mut self.rng).clamp(1, u64::from(u32::MAX / 2)) as u32
    }

    fn gap(&mut self, c: u32) -> SimDuration {
        let dist = match self.meta[c as usize].workload {
            Workload::Closed => self.closed.as_ref().map(|s| s.gap),
            Workload::Open => self.open.as_ref().map(|o| o.spec.gap),
            Workload::Attack(f) => Some(crate::lab::Dist::Constant(
                match self.floods[f as usize].spec.kind {
                    AttackKind::SlowSenders => crate::lab::Dur::from_millis(1500),
                    _ => crate::lab::Dur::from_secs(3600),
                },
            )),
        };
        dist.map_or(SimDuration::ZERO, |d| sample_duration(&d, &mut self.rng))
    }

    fn send_next_segment(&mut self, c: u32, out: &mut Vec<Packet>) {
        let now = self.now;
        if self.clients[c as usize].segments_left == 0 {
            self.clients[c as usize].close(now, &self.tcp, out);
        } else {
            let len = self.segment_size(c);
            self.clients[c as usize].send_segment(now, len, &self.tcp, out);
        }
        self.flush_client(c, out);
    }

    fn client_receive(&mut self, p: Packet) {
        let Some(c) = addressing::client_index(p.key.dst.ip).filter(|&c| c < self.clients.len())
        else {
            self.drop_packet(DropReason::NoSocket);
            return;
        };
        let client = &self.clients[c];
        if self.meta[c].life != Life::Active
            || client.local.port != p.key.dst.port
            || client.state == super::client::TcpState::Closed
        {
            self.drop_packet(DropReason::NoSocket);
            return;
        }
        let c = c as u32;
        let mut out = std::mem::take(&mut self.out);
        let o = self.clients[c as usize].on_packet(&p, self.now, &mut out);
        self.flush_client(c, &mut out);
        self.out = out;
        self.on_outcome(c, o);
    }

    /// Counts what a client step did and moves its workload on.
    fn on_outcome(&mut self, c: u32, o: Outcome) {
        // Attack connections move on like any other but count nowhere.
        if self.meta[c as usize].workload.is_attack() {
            return self.on_attack_outcome(c, o);
        }
        match o {
            Outcome::Nothing => {}
            Outcome::Established { handshake } => {
                self.metrics.established(handshake);
                self.sample(Sample::Handshake, handshake);
                let mut out = std::mem::take(&mut self.out);
                self.send_next_segment(c, &mut out);
                self.out = out;
            }
            Outcome::SegmentAcked { latency } => {
                self.metrics.segment_acked(latency);
                self.sample(Sample::Segment, latency);
                if self.clients[c as usize].segments_left == 0 {
                    let mut out = std::mem::take(&mut self.out);
                    self.send_next_segment(c, &mut out);
                    self.out = out;
                } else {
                    let gap = self.gap(c);
                    self.clients[c as usize].wake_at(self.now + gap);
                    self.sync_timers(c);
                }
            }
            Outcome::Completed { duration } => {
                self.metrics.completed(duration);
                self.sample(Sample::Completion, duration);
                self.connection_over(c);
            }
            Outcome::Retransmitted(kind) => self.metrics.retransmitted(kind),
            Outcome::Failed(reason) => {
                self.metrics.failed(reason);
                self.connection_over(c);
            }
        }
    }

    fn on_attack_outcome(&mut self, c: u32, o: Outcome) {
        match o {
            Outcome::Established { .. } => {
                let mut out = std::mem::take(&mut self.out);
                self.send_next_segment(c, &mut out);
                self.out = out;
            }
            Outcome::SegmentAcked { .. } => {
                let gap = self.gap(c);
                self.clients[c as usize].wake_at(self.now + gap);
                self.sync_timers(c);
            }
            Outcome::Completed { .. } | Outcome::Failed(_) => self.finish_client(c, Life::Done),
            Outcome::Nothing | Outcome::Retransmitted(_) => {}
        }
    }

    /// A connection ended: think and go again, or stop.
    fn connection_over(&mut self, c: u32) {
        let m = &mut self.meta[c as usize];
        if m.life != Life::Active {
            return;
        }
        m.connections_left = m.connections_left.saturating_sub(1);
        if m.connections_left == 0 || m.retire {
            self.finish_client(c, Life::Done);
            return;
        }
        let think = self.closed.as_ref().map_or(SimDuration::ZERO, |s| {
            sample_duration(&s.think, &mut self.rng)
        });
        self.clients[c as usize].wake_at(self.now + think);
        self.sync_timers(c);
    }

    /// Ends a client's life as `life`; open-arrival slots go back to the pool.
    pub(super) fn finish_client(&mut self, c: u32, life: Life) {
        let m = &mut self.meta[c as usize];
        if m.life != Life::Active {
            return;
        }
        if !m.workload.is_attack() {
            self.active_clients -= 1;
        }
        if matches!(m.workload, Workload::Open | Workload::Attack(_)) && life == Life::Done {
            m.life = Life::Free;
            self.free_clients.push(c);
        } else {
            m.life = life;
        }
        self.clients[c as usize].wake_at(SimTime::MAX);
    }

    /// Kills client `c` on the spot (no FIN, no RST).
    pub(super) fn kill_client(&mut self, c: u32) {
        let o = self.clients[c as usize].abort();
        if let Outcome::Failed(reason) = o {
            self.metrics.failed(reason);
        }
        self.finish_client(c, Life::Killed);
    }

    // ---- per-second bookkeeping -----------------------------------------

    fn on_second(&mut self) {
        let table = self.lb.table_len() as u64;
        let half_open = self.lb.half_open_total();
        self.metrics.end_second(table, half_open);
        for (i, h) in self.history.iter_mut().enumerate().take(TRACKED_SERVERS) {
            let picks = self.lb.backends[i].picks;
            let packets = self.servers[i].stats.packets_in;
            h.new_per_sec = picks - h.picks_at_last_second;
            h.packets_per_sec = packets - h.packets_at_last_second;
            h.picks_at_last_second = picks;
            h.packets_at_last_second = packets;
            h.active.push(u64::from(self.lb.views[i].active));
        }
        self.queue
            .push(self.now + SimDuration::from_secs(1), Event::SecondTick);
    }

    /// Bytes held by the biggest per-connection structures, from their
    /// allocated capacities.
    pub fn memory(&self) -> MemoryBreakdown {
        MemoryBreakdown {
            conn_table: self.lb.table_bytes(),
            conn_table_entries: self.lb.table_len(),
            clients: self.clients.capacity() * std::mem::size_of::<Client>()
                + self.meta.capacity() * std::mem::size_of::<ClientMeta>(),
            servers: self.servers.iter().map(Server::table_bytes).sum(),
            queue: self.queue.capacity_bytes(),
            queued_events: self.queue.len(),
        }
    }
}

/// Where a World's memory goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBreakdown {
    /// The balancer's conn table: index, entries and free list.
    pub conn_table: usize,
    /// Live conn-table entries.
    pub conn_table_entries: usize,
    /// Client state machines and their workload records.
    pub clients: usize,
    /// Servers' own connection tables.
    pub servers: usize,
    /// The event queue.
    pub queue: usize,
    /// Events waiting.
    pub queued_events: usize,
}
