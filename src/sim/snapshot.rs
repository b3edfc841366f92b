//! Snapshot: the one way to look at the World. Plain serde data of bounded
//! size whatever the World's size: aggregates, the first servers, fixed
//! length series and the newest log lines.

use super::client::TcpState;
use super::command::Timeout;
use super::log::LogEntry;
use super::metrics::{ConnCounters, Percentiles, RetransmitCounters, SeriesSet};
use super::objectives::ObjectiveStatus;
use super::reasons::DropReason;
use super::world::{Life, TRACKED_SERVERS, World};
use crate::lab::{OnBackendDown, RetransmitMode};
use crate::model::{SimDuration, SimTime};
use crate::policy::Algorithm;
use serde::{Deserialize, Serialize};

/// Log lines a Snapshot carries.
pub const SNAPSHOT_LOG_LINES: usize = 64;

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
}

impl ServerState {
    /// Lower-case name for tables.
    pub const fn name(self) -> &'static str {
        match self {
            ServerState::Up => "up",
            ServerState::Down => "down",
            ServerState::Draining => "draining",
            ServerState::Killed => "killed",
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
    pub server_established: u32,
    /// The server's cap on established connections.
    pub max_connections: u32,
    /// Connections assigned over the run.
    pub connections: u64,
    /// Connections assigned in the last whole second.
    pub new_per_sec: u64,
    /// Packets that reached the server.
    pub packets: u64,
    /// Packets that reached it in the last whole second.
    pub packets_per_sec: u64,
    /// Data segments served.
    pub segments_served: u64,
    /// Segments waiting for a worker.
    pub queued: u64,
    /// Packets lost on its link or dropped by it.
    pub drops: u64,
    /// p95 of recent probe round trips.
    pub probe_p95: Option<SimDuration>,
    /// Active connections at each of the last seconds.
    pub active_series: Vec<u64>,
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
    /// SYN retransmissions over all clients.
    pub syn_retries: u64,
    /// Data and FIN retransmissions over all clients.
    pub data_retries: u64,
}

/// The settings a timeouts editor shows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The algorithm in use.
    pub algorithm: Algorithm,
    /// Client timeouts and the balancer's and health checker's, by name.
    pub timeouts: [(Timeout, SimDuration); 6],
    /// Client retransmissions before failure.
    pub max_retransmissions: u32,
    /// Fixed or RFC 6298.
    pub retransmit: RetransmitMode,
    /// Health rise.
    pub rise: u32,
    /// Health fall.
    pub fall: u32,
    /// The half-open limit of the first backend (all share one by command).
    pub max_half_open: u32,
    /// What happens to connections of a dead backend.
    pub on_backend_down: OnBackendDown,
    /// When SYNs are answered with cookies.
    pub syn_cookies: crate::sim::CookieMode,
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
    /// The simulated clock.
    pub now: SimTime,
    /// Events processed.
    pub events: u64,
    /// Every finite workload has finished.
    pub finished: bool,
    /// Settings in force.
    pub settings: Settings,
    /// The first [`TRACKED_SERVERS`] servers.
    pub servers: Vec<ServerRow>,
    /// Servers in the World (rows may be fewer).
    pub servers_total: usize,
    /// Clients by state.
    pub clients: ClientCounts,
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
    /// The lab's objectives and where they stand.
    pub objectives: Vec<ObjectiveStatus>,
    /// The defences in force, in words (`rate limit 3/60s`).
    pub defences: Vec<String>,
}

impl World {
    /// The World as it is now.
    pub fn snapshot(&self) -> Snapshot {
        let servers = (0..self.servers.len().min(TRACKED_SERVERS))
            .map(|i| self.server_row(i))
            .collect();
        let m = &self.metrics;
        Snapshot {
            lab: self.lab.name.clone(),
            seed: self.seed,
            now: self.now,
            events: self.events,
            finished: self.workload_finished(),
            settings: self.settings(),
            servers,
            servers_total: self.servers.len(),
            clients: self.client_counts(),
            conns: m.conns,
            drops: DropReason::ALL
                .iter()
                .map(|r| (*r, m.drops[r.index()]))
                .collect(),
            retransmits: m.retransmits,
            latency: Latencies {
                handshake: m.handshake.summary(),
                segment: m.segment.summary(),
                completion: m.completion.summary(),
                detection: m.detection.summary(),
            },
            table_entries: self.lb.table_len() as u64,
            half_open: self.lb.half_open_total(),
            floods_active: self.floods_running(),
            flood_syns: m.flood_syns,
            series: m.series.clone(),
            log: self.log.tail(SNAPSHOT_LOG_LINES),
            objectives: self.objective_statuses(self.run_over()),
            defences: self.defences(),
        }
    }

    /// A row for every server, beyond the first [`TRACKED_SERVERS`] too
    /// (their sparklines stay empty), for reports.
    pub fn server_rows(&self) -> Vec<ServerRow> {
        (0..self.servers.len())
            .map(|i| self.server_row(i))
            .collect()
    }

    fn server_row(&self, i: usize) -> ServerRow {
        let s = &self.servers[i];
        let v = &self.lb.views[i];
        let b = &self.lb.backends[i];
        let h = &self.history[i];
        let state = if !s.alive {
            ServerState::Killed
        } else if !v.healthy {
            ServerState::Down
        } else if v.draining {
            ServerState::Draining
        } else {
            ServerState::Up
        };
        ServerRow {
            name: s.name.clone(),
            state,
            healthy: v.healthy,
            weight: v.weight,
            active: v.active,
            half_open: v.half_open,
            max_half_open: b.max_half_open,
            server_established: s.established(),
            max_connections: s.max_connections,
            connections: b.picks,
            new_per_sec: h.new_per_sec,
            packets: s.stats.packets_in,
            packets_per_sec: h.packets_per_sec,
            segments_served: s.stats.segments_served,
            queued: s.queued() as u64,
            drops: h.drops,
            probe_p95: b.probe_p95(),
            active_series: h.active.values(),
        }
    }

    fn client_counts(&self) -> ClientCounts {
        let mut c = ClientCounts::default();
        for (client, m) in self.clients.iter().zip(&self.meta) {
            if m.workload.is_attack() {
                continue;
            }
            c.syn_retries += u64::from(client.syn_retries);
            c.data_retries += u64::from(client.data_retries);
            match m.life {
                Life::Done => c.done += 1,
                Life::Killed => c.killed += 1,
                Life::Free => {}
                Life::Active => match client.state {
                    TcpState::Closed => c.closed += 1,
                    TcpState::SynSent => c.syn_sent += 1,
                    TcpState::Established => c.established += 1,
                    TcpState::FinWait => c.fin_wait += 1,
                },
            }
        }
        c
    }

    fn defences(&self) -> Vec<String> {
        let mut d = vec![format!(
            "half-open limit {}",
            self.lb.backends.first().map_or(0, |b| b.max_half_open)
        )];
        if let Some(l) = &self.lb.limiter {
            // The eviction count shows when the source table is too small
            // for the attack (evicted sources start with a fresh burst).
            d.push(format!(
                "rate limit {} ({} sources, {} evicted)",
                l.limit(),
                l.len(),
                l.evictions()
            ));
        }
        if self.lb.cookies != crate::sim::CookieMode::Off {
            d.push(format!("SYN cookies {}", self.lb.cookies.name()));
        }
        if self.lb.early_drop_enabled() {
            d.push("early drop".to_string());
        }
        let (allow, deny) = (self.lb.filter.allow().len(), self.lb.filter.deny().len());
        if allow + deny > 0 {
            d.push(format!("filter +{allow}/-{deny}"));
        }
        d
    }

    fn settings(&self) -> Settings {
        Settings {
            algorithm: self.lb.selector.algorithm(),
            timeouts: [
                (Timeout::Syn, self.tcp.syn_timeout),
                (Timeout::Segment, self.tcp.segment_timeout),
                (Timeout::HalfOpenIdle, self.lb.half_open_timeout),
                (Timeout::EstablishedIdle, self.lb.established_timeout),
                (Timeout::HealthInterval, self.lb.health.interval),
                (Timeout::HealthTimeout, self.lb.health.timeout),
            ],
            max_retransmissions: self.tcp.max_retransmissions,
            retransmit: self.tcp.mode,
            rise: self.lb.health.rise,
            fall: self.lb.health.fall,
            max_half_open: self.lb.backends.first().map_or(0, |b| b.max_half_open),
            on_backend_down: self.lb.on_backend_down,
            syn_cookies: self.lb.cookies,
        }
    }
}
