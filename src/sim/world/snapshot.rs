//! The World as Snapshots and report rows show it.

use super::World;
use crate::engine::{
    ClientCounts, Defences, Latencies, RateLimitState, SNAPSHOT_LOG_LINES, ServerRow, ServerState,
    Settings, Snapshot, TRACKED_SERVERS,
};
use crate::sim::client::TcpState;
use crate::spec::DropReason;

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
            clients: Some(self.client_counts()),
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
            log_total: self.log.total(),
            twin: None,
            objectives: self.objective_statuses(self.run_over()),
            addresses_ran_out: self.addresses_ran_out,
            disruptions: self.disruptions.clone(),
            inspected: self.inspection(),
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
        } else if self.lb.resilience.is_ejected(i) {
            ServerState::Ejected
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
            server_established: Some(s.established()),
            max_connections: Some(s.max_connections),
            connections: b.picks,
            new_per_sec: h.new_per_sec,
            packets: Some(s.stats.packets_in),
            packets_per_sec: Some(h.packets_per_sec),
            segments_served: Some(s.stats.segments_served),
            queued: Some(s.queued() as u64),
            drops: h.drops,
            probe_p95: b.probe_p95(),
            active_series: h.active.values(),
            bytes_per_sec: None,
            connect_p95: None,
            recent_picks: self.lb.picks.recent(i).copied().collect(),
            new_series: h.new.values(),
            probes_failed: h.probes_failed,
            probes_passed: h.probes_passed,
            down_since: h.down_since,
            probes: h.probes.iter().copied().collect(),
            changes: h.changes.iter().cloned().collect(),
        }
    }

    /// The name of server `b`, for explanations.
    fn server_name(&self, b: u32) -> String {
        self.servers
            .get(b as usize)
            .map_or_else(|| format!("backend {b}"), |s| s.name.clone())
    }

    /// Keep the first `n` picks of the run for [`World::first_picks`].
    pub fn explain_first(&mut self, n: usize) {
        self.lb.picks.keep_first(n);
    }

    /// The first picks of the run and why each backend was chosen, as
    /// many as [`World::explain_first`] asked for.
    pub fn first_picks(&self) -> Vec<String> {
        self.lb
            .picks
            .first()
            .iter()
            .map(|r| r.describe(|b| self.server_name(b)))
            .collect()
    }

    /// Clients by state, from the books kept as they move.
    pub(super) fn client_counts(&self) -> ClientCounts {
        let book = &self.client_states;
        ClientCounts {
            closed: book.get(TcpState::Closed),
            syn_sent: book.get(TcpState::SynSent),
            established: book.get(TcpState::Established),
            fin_wait: book.get(TcpState::FinWait),
            done: self.clients_done,
            killed: self.clients_killed,
        }
    }

    /// Clients by state, counted one by one: what the books must agree with.
    #[cfg(test)]
    pub(super) fn client_counts_by_scan(&self) -> ClientCounts {
        use super::Life;
        let mut c = ClientCounts::default();
        for super::ClientSlot {
            tcp: client,
            meta: m,
        } in &self.clients
        {
            if m.workload.is_attack() {
                continue;
            }
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

    /// The settings in force, typed.
    pub fn settings(&self) -> Settings {
        let lb = &self.lb;
        Settings {
            algorithm: lb.selector.algorithm(),
            syn_timeout: self.tcp.syn_timeout,
            segment_timeout: self.tcp.segment_timeout,
            max_retransmissions: self.tcp.max_retransmissions,
            retransmit: self.tcp.mode,
            half_open_timeout: lb.idle.half_open,
            established_timeout: lb.idle.established,
            health: lb.health,
            max_half_open: lb.backends.first().map_or(0, |b| b.max_half_open),
            on_backend_down: lb.on_backend_down,
            defences: Defences {
                validate_packets: lb.validate_packets,
                filter: lb.filter.lists().clone(),
                rate_limit: lb.limiter.as_ref().map(RateLimitState::of),
                early_drop: lb.early_drop_enabled(),
                syn_cookies: lb.cookies,
            },
            resilience: lb.resilience.spec,
        }
    }
}
