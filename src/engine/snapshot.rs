//! Snapshot: the one way to look at an engine. Plain serde data of bounded
//! size whatever the world's size: aggregates, the first servers, fixed
//! length series and the newest log lines. A figure an engine cannot know
//! (a real proxy sees no packets) is `None`, and shows as `–`.

use super::counters::{ConnCounters, Percentiles, RetransmitCounters};
use super::log::LogEntry;
use super::objective::ObjectiveStatus;
use super::pick::PickRecord;
use super::series::SeriesSet;
use super::settings::Settings;
use crate::model::{SimDuration, SimTime};
use crate::spec::DropReason;
use serde::{Deserialize, Serialize};

/// Log lines a Snapshot carries.
pub const SNAPSHOT_LOG_LINES: usize = 64;

/// Servers a Snapshot has rows for (and whose per-second history an
/// engine keeps); reports ask for every row.
pub const TRACKED_SERVERS: usize = 64;

/// A server's state as a person would name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerState {
    /// Running and passing health checks.
    Up,
    /// Running but failing health checks (or not yet back up).
    Down,
    /// Running, taking no new connections.
    Draining,
    /// Killed; the balancer may not know yet.
    Killed,
    /// Running and passing health checks, but taken out of rotation by
    /// outlier ejection for failing real connections.
    Ejected,
}

impl ServerState {
    /// Lower-case name for tables.
    pub const fn name(self) -> &'static str {
        match self {
            ServerState::Up => "up",
            ServerState::Down => "down",
            ServerState::Draining => "draining",
            ServerState::Killed => "killed",
            ServerState::Ejected => "ejected",
        }
    }
}

/// One row of the servers table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerRow {
    /// Server name.
    pub name: String,
    /// What a person would call its state.
    pub state: ServerState,
    /// The health checker's verdict.
    pub healthy: bool,
    /// Weight for weighted algorithms.
    pub weight: u32,
    /// Established connections through the balancer.
    pub active: u32,
    /// Half-open connections through the balancer.
    pub half_open: u32,
    /// The balancer's half-open limit for it.
    pub max_half_open: u32,
    /// Established connections the server holds itself.
    pub server_established: Option<u32>,
    /// The server's cap on established connections.
    pub max_connections: Option<u32>,
    /// Connections assigned over the run.
    pub connections: u64,
    /// Connections assigned in the last whole second.
    pub new_per_sec: u64,
    /// Packets that reached the server.
    pub packets: Option<u64>,
    /// Packets that reached it in the last whole second.
    pub packets_per_sec: Option<u64>,
    /// Data segments served.
    pub segments_served: Option<u64>,
    /// Segments waiting for a worker.
    pub queued: Option<u64>,
    /// Packets lost on its link or dropped by it.
    pub drops: u64,
    /// p95 of recent probe round trips.
    pub probe_p95: Option<SimDuration>,
    /// Active connections at each of the last seconds.
    pub active_series: Vec<u64>,
    /// Bytes it carried both ways in the last whole second (a real proxy
    /// counts bytes; the simulation counts packets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_sec: Option<u64>,
    /// p95 of the balancer's recent connects to it (a real proxy's side of
    /// the handshake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_p95: Option<SimDuration>,
    /// Its newest picks and why each went to it ("why this backend?"),
    /// oldest first, as data ([`PickRecord::describe`] words them); empty
    /// where an engine does not keep them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_picks: Vec<PickRecord>,
    /// Connections assigned in each of the last seconds, oldest first (the
    /// windowed share and the detail view's series).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_series: Vec<u64>,
    /// Health probes failed in a row, newest back (0 after a success):
    /// with the health spec's `fall`, how close the balancer is to
    /// marking it down.
    #[serde(default)]
    pub probes_failed: u32,
    /// Health probes passed in a row, newest back (0 after a failure):
    /// with `rise`, how close a down server is to coming back.
    #[serde(default)]
    pub probes_passed: u32,
    /// When the health checker last marked it down, while it stays down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_since: Option<SimTime>,
    /// Its newest probe results, oldest first (at most [`ROW_PROBES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<ProbeSample>,
    /// Its newest changes of state (kills, revivals, health flips,
    /// drains, weights, ejections), oldest first (at most
    /// [`ROW_CHANGES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<StateChange>,
}

/// Probe results a [`ServerRow`] carries at most.
pub const ROW_PROBES: usize = 24;

/// State changes a [`ServerRow`] carries at most.
pub const ROW_CHANGES: usize = 16;

/// One health probe's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeSample {
    /// When the result was known (the reply, or the timeout).
    pub at: SimTime,
    /// Its round trip, or `None` when it failed.
    pub rtt: Option<SimDuration>,
}

/// A change in one server's state, as its detail view lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    /// When it happened.
    pub at: SimTime,
    /// What happened, in a few words ("killed", "marked DOWN").
    pub what: String,
}

/// How many clients are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCounts {
    /// Waiting to start, or thinking between connections.
    pub closed: u64,
    /// Waiting for SYN|ACK.
    pub syn_sent: u64,
    /// Exchanging data.
    pub established: u64,
    /// Waiting for FIN|ACK.
    pub fin_wait: u64,
    /// Made all their connections.
    pub done: u64,
    /// Killed by a command.
    pub killed: u64,
}

/// Latency summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latencies {
    /// First SYN to SYN|ACK.
    pub handshake: Percentiles,
    /// Segment sent to its ACK.
    pub segment: Percentiles,
    /// First SYN to clean close.
    pub completion: Percentiles,
    /// A server's death to the health checker marking it down.
    pub detection: Percentiles,
}

/// Everything a dashboard or report shows, at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Lab name.
    pub lab: String,
    /// Seed of the run.
    pub seed: u64,
    /// The engine's clock.
    pub now: SimTime,
    /// Events processed.
    pub events: u64,
    /// Every finite workload has finished.
    pub finished: bool,
    /// Settings in force.
    pub settings: Settings,
    /// The first [`TRACKED_SERVERS`] servers.
    pub servers: Vec<ServerRow>,
    /// Servers in the world (rows may be fewer).
    pub servers_total: usize,
    /// Clients by state, when the engine runs the clients itself.
    pub clients: Option<ClientCounts>,
    /// Connection counters.
    pub conns: ConnCounters,
    /// Drops by reason, in [`DropReason::ALL`] order.
    pub drops: Vec<(DropReason, u64)>,
    /// Retransmissions.
    pub retransmits: RetransmitCounters,
    /// Latency summaries.
    pub latency: Latencies,
    /// Conn-table entries now.
    pub table_entries: u64,
    /// Half-open conn-table entries now.
    pub half_open: u64,
    /// Floods running now.
    pub floods_active: usize,
    /// SYNs sent by floods.
    pub flood_syns: u64,
    /// Per-second history.
    pub series: SeriesSet,
    /// The newest log lines, oldest first.
    pub log: Vec<LogEntry>,
    /// Log entries ever written, the forgotten included: the dashboard
    /// keeps the whole log by taking the entries past the count it has.
    #[serde(default)]
    pub log_total: u64,
    /// The second world of the dashboard's `--compare`, at the same
    /// instant; `None` for a single world.
    #[serde(skip)]
    pub twin: Option<Box<Snapshot>>,
    /// The lab's objectives and where they stand.
    pub objectives: Vec<ObjectiveStatus>,
    /// When every client address was first in use at once, so arrivals
    /// were refused (a simulation that ran out of its finite pool).
    #[serde(default)]
    pub addresses_ran_out: Option<SimTime>,
    /// What each change of the backends in rotation did to a hashing
    /// algorithm's mapping, oldest first (the newest few hundred).
    #[serde(default)]
    pub disruptions: Vec<DisruptionRecord>,
    /// The connection inspector's client and its newest packets, when
    /// `Command::Inspect` chose one (the dashboard's ladder diagram).
    #[serde(default)]
    pub inspected: Option<Inspection>,
}

impl Snapshot {
    /// The name of server `b` for words about it, such as a pick's
    /// explanation: its row's, or its number past the tracked rows.
    pub fn server_name(&self, b: u32) -> String {
        self.servers
            .get(b as usize)
            .map_or_else(|| format!("backend {b}"), |r| r.name.clone())
    }
}

/// The newest packets to and from one client, on both sides of the
/// balancer: at most [`crate::sim::WATCH_PACKETS`] of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    /// The client's address.
    pub address: crate::model::Ip,
    /// Its number, when the address is a client's (not a flood's).
    pub client: Option<u32>,
    /// Its packets, oldest first.
    pub packets: Vec<InspectedPacket>,
}

/// One packet of an inspected client, as it was put on a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectedPacket {
    /// When it was sent.
    pub at: SimTime,
    /// On a backend link (balancer to server), not the client link.
    pub backend: bool,
    /// Sent toward the balancer (by the client or the server).
    pub toward_balancer: bool,
    /// The packet, with its addresses as on that link.
    pub packet: crate::model::Packet,
}

/// What one change of the backends in rotation did to a hashing
/// algorithm's mapping of flows to backends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DisruptionRecord {
    /// When the change took effect.
    pub at: SimTime,
    /// The algorithm, as its name with numbers.
    pub algorithm: String,
    /// Share of a standard sample of flow keys now mapped elsewhere, 0 to 1.
    pub keys_moved: f64,
    /// Open flows that would now map elsewhere.
    pub flows_moved: u64,
    /// Open flows at the change.
    pub flows_open: u64,
}
