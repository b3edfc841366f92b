//! The lab on real sockets as Snapshots show it: the proxy's view, with
//! what the real clients and servers saw put in (client states,
//! connection outcomes, latencies, server queues, kills).

use super::engine::RealLab;
use crate::engine::{Engine, Latencies, ServerRow, ServerState, Snapshot, TRACKED_SERVERS};
use crate::model::SimDuration;
use std::sync::atomic::Ordering::Relaxed;

/// Every server's row: the proxy's, with the server's own counters.
pub(super) fn rows(e: &RealLab) -> Vec<ServerRow> {
    let mut rows = e.proxy.server_rows();
    let picks = e.proxy.counts_picks();
    for row in &mut rows {
        let Some(s) = e.rig.server(&row.name) else {
            continue;
        };
        if !picks {
            row.connections = s.stats.carried.load(Relaxed);
        }
        row.server_established = Some(s.stats.established.load(Relaxed) as u32);
        row.max_connections = Some(s.spec.max_connections.get());
        row.segments_served = Some(s.stats.served.load(Relaxed));
        row.queued = Some(s.stats.queued.load(Relaxed));
        if !s.is_alive() {
            row.state = ServerState::Killed;
        }
    }
    rows
}

/// Every client has made its connections and none is under way.
pub(super) fn clients_finished(e: &RealLab) -> bool {
    let counts = e.rig.book.counts();
    let busy = counts.syn_sent + counts.established + counts.fin_wait;
    let arrivals_done = e.rig.workload().is_none_or(|w| w.arrivals_done());
    e.rig.book.live() == 0 && busy == 0 && arrivals_done
}

/// The run now.
pub(super) fn snapshot(e: &RealLab) -> Snapshot {
    let mut s = e.proxy.snapshot();
    let mut servers = rows(e);
    s.servers_total = servers.len();
    servers.truncate(TRACKED_SERVERS);
    s.servers = servers;
    s.lab = e.lab.name.clone();
    s.seed = e.seed;
    s.now = e.now();
    s.finished = e.workload_finished();
    s.clients = Some(e.rig.book.counts());
    s.conns = e.rig.book.conns();
    s.latency = Latencies {
        handshake: e.latency.handshake.summary(),
        segment: e.latency.segment.summary(),
        completion: e.latency.completion.summary(),
        detection: e.latency.detection.summary(),
    };
    s.flood_syns = e.rig.book.flood_syns.load(Relaxed);
    s.objectives = e.statuses(e.run_over());
    if let Some(w) = e.rig.workload() {
        let d = w.deadlines();
        let per_try = |total: std::time::Duration, tries: u32| {
            SimDuration::from_nanos((total.as_nanos() / u128::from(tries.max(1))) as u64)
        };
        let tcp = w.tcp();
        s.settings.syn_timeout = per_try(d.connect, tcp.max_retransmissions + 1);
        s.settings.segment_timeout = per_try(d.answer, tcp.max_retransmissions + 1);
        s.settings.max_retransmissions = tcp.max_retransmissions;
    }
    s
}
