//! The World: every client, the balancer, every server and link, one event
//! queue and one seeded random stream. `World::new(&lab, seed)`, then
//! `run_until`, `apply` and `snapshot`. Deterministic and free of I/O: same
//! lab, seed and commands give the same run, byte for byte.

mod apply;
mod averages;
mod build;
mod clients;
mod disruption;
mod draws;
mod engine;
mod floods;
mod health;
mod history;
mod packets;
mod prefetch;
pub(in crate::sim) use prefetch::prefetch;
mod resilience;
mod run;
mod seconds;
mod snapshot;
mod stall;
mod streams;
mod tap;
#[cfg(test)]
mod tests;
mod workload;

pub use stall::CHECK_EVERY as STALL_CHECK_EVERY;

use history::ServerHistory;

use super::addressing::{self, VIP};
use super::balancer::Balancer;
use super::client::{Client, ClientStates, TcpConfig, Timer};
use super::metrics::Metrics;
use super::net::Link;
use super::queue::EventQueue;
use super::server::{Job, Server, ServerOut};
use crate::engine::Tracker;
use crate::engine::{DisruptionRecord, EventLog, LinkStats, LogKind, ObjectiveStatus};
use crate::model::{Packet, SimDuration, SimTime};
use crate::spec::{ClosedSpec, Command, FloodSpec, Lab, OpenSpec, Origin, ServerSpec};
use rand::Rng;

/// Worlds with at least this many clients prefetch what the next event
/// touches; smaller ones fit the caches and would only pay for the asking.
const PREFETCH_FROM_CLIENTS: usize = 20_000;

/// How often servers sweep their own expired connections.
const SERVER_SWEEP_INTERVAL: SimDuration = SimDuration::from_secs(1);

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
    ClientTimer { client: u32, timer: Timer },
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

/// A client as the World keeps it: its TCP state machine and, in the same
/// two cache lines, the workload record its segments read. In a world of
/// a hundred thousand clients every line a segment touches is a miss, so
/// the record is aligned to a line and kept to 128 bytes (its connection
/// counts, read only as a connection starts or ends, are apart in
/// [`ConnCounts`]).
#[derive(Clone, Debug)]
#[repr(align(64))]
pub(super) struct ClientSlot {
    pub tcp: Client,
    pub meta: ClientMeta,
}

const _: () = assert!(std::mem::size_of::<ClientSlot>() == 128);

/// What the World keeps of a client beyond its TCP state.
#[derive(Clone, Copy, Debug)]
pub(super) struct ClientMeta {
    pub workload: Workload,
    pub life: Life,
    pub retire: bool,
    /// The identity the current connection's draws are keyed by (see
    /// `streams`), and how many it has drawn.
    pub identity: u64,
    pub drawn: u32,
}

/// How many connections a client has made, and how many it has left.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ConnCounts {
    pub left: u64,
    pub made: u64,
}

#[derive(Clone)]
pub(super) struct OpenState {
    pub spec: OpenSpec,
    pub rate: f64,
    pub started: u64,
    pub epoch: u32,
}

#[derive(Clone)]
pub(super) struct Flood {
    pub spec: FloodSpec,
    /// When it begins.
    pub from: SimTime,
    pub until: SimTime,
    pub active: bool,
    /// Log the first SYN (floods from the lab file; a command logs itself).
    pub announce: bool,
}

/// The simulated world. Cloneable, so a dashboard can keep checkpoints
/// to rewind to.
#[derive(Clone)]
pub struct World {
    pub(super) lab: Lab,
    pub(super) seed: u64,
    pub(super) now: SimTime,
    pub(super) queue: EventQueue<Event>,
    /// Random streams, one per purpose (see `streams`).
    pub(super) streams: streams::Streams,
    /// Hashes of what clients and servers drew (see `draws`).
    pub(super) draws: draws::Draws,
    /// Gauges averaged over time (see `averages`).
    pub(super) averages: averages::Averages,
    /// Every second's row, kept when asked (`keep_series`).
    pub(super) series_log: Option<crate::engine::SeriesLog>,
    pub(super) links: Vec<Link>,
    pub(super) clients: Vec<ClientSlot>,
    /// Each client's connection counts, beside `clients`.
    pub(super) counts: Vec<ConnCounts>,
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
    /// Stops the World when its clock stands still (see `stall`).
    pub(super) stall: stall::StallWatch,
    /// When every client address was first in use at once (logged once,
    /// reported, and the objectives still open say `invalid`).
    pub(super) addresses_ran_out: Option<SimTime>,
    /// What changes of the backends in rotation did to a hashing
    /// algorithm's mapping, the newest [`MAX_DISRUPTIONS`].
    pub(super) disruptions: Vec<DisruptionRecord>,
    /// Running clients by TCP state.
    pub(super) client_states: ClientStates,
    /// Closed-population clients that made all their connections.
    pub(super) clients_done: u64,
    /// Clients killed by a command.
    pub(super) clients_killed: u64,
    /// For each client address, the server slot its last packet was found
    /// in, plus one: spares servers a hash lookup per packet.
    pub(super) conn_hints: Vec<u32>,
    /// Packets being captured for a pcap file (`tap`), if asked.
    pub(super) tap: Option<Box<super::tap::Tap>>,
    /// The packets of the client being inspected (`tap`), if one is.
    pub(super) watch: Option<Box<super::tap::Watch>>,
    out: Vec<Packet>,
    /// The servers' output buffer, lent to each server step. Boxed, so
    /// lending it moves a pointer: moving the buffers themselves made the
    /// CPU wait for the stores of the step before to reach its loads.
    sout: Option<Box<ServerOut>>,
}

impl World {
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

    /// The instant the clock stopped at, if it has stood still for tens of
    /// millions of events (the World then runs no more events).
    pub fn stalled(&self) -> Option<SimTime> {
        self.stall.stalled()
    }

    /// Calls a stall after `looks` looks of the stall watch in a row (a
    /// look every [`STALL_CHECK_EVERY`] events) instead of the default's
    /// tens of millions of events: for tests of what a stall does.
    pub fn with_stall_looks(mut self, looks: u32) -> World {
        self.stall = stall::StallWatch::with_limit(looks);
        self
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

    /// Bytes held by the biggest per-connection structures, from their
    /// allocated capacities.
    pub fn memory(&self) -> MemoryBreakdown {
        MemoryBreakdown {
            conn_table: self.lb.table.bytes(),
            conn_table_entries: self.lb.table_len(),
            clients: self.clients.capacity() * std::mem::size_of::<ClientSlot>()
                + self.counts.capacity() * std::mem::size_of::<ConnCounts>(),
            servers: self.servers.iter().map(Server::table_bytes).sum(),
            queue: self.queue.capacity_bytes(),
            queued_events: self.queue.len(),
        }
    }
}

/// The stream one segment's service time is drawn from (servers call it;
/// see `streams`).
pub(in crate::sim) fn service_stream(seed: u64, irs: u32, seq: u32) -> streams::Keyed {
    streams::Streams::service(seed, irs, seq)
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
