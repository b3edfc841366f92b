//! The real proxy as the dashboard sees it: a Snapshot from its atomics.
//! What a proxy cannot see (packets, server queues, client states) is
//! `None` and shows as `–`.

use super::{BackendHistory, ProxyEngine};
use crate::backends::DemoBackend;
use crate::engine::{
    ConnCounters, Defences, Latencies, Percentiles, RateLimitState, RetransmitCounters,
    SNAPSHOT_LOG_LINES, ServerRow, ServerState, Settings, Snapshot, TRACKED_SERVERS,
};
use crate::engine::{Engine, LatencyHistogram};
use crate::model::SimDuration;
use crate::proxy::config::ProxyConfig;
use crate::proxy::pool::Backend;
use crate::proxy::samples::quantile_of_sorted;
use crate::proxy::stats::Rejection;
use crate::spec::{
    CookieMode, DropReason, Dur, FailReason, HealthSpec, OnBackendDown, Positive, RetransmitMode,
};
use std::sync::atomic::Ordering::Relaxed;

/// The proxy now.
pub(super) fn snapshot(e: &ProxyEngine) -> Snapshot {
    let config = e.shared.config.load_full();
    let stats = &e.shared.stats;
    let mut servers = e.server_rows_now();
    let servers_total = servers.len();
    servers.truncate(TRACKED_SERVERS);
    let refused: u64 = Rejection::ALL.iter().map(|r| stats.rejected(*r)).sum();
    let proxied = stats.proxied.load(Relaxed);
    let active: u64 = servers.iter().map(|s| u64::from(s.active)).sum();
    let mut failed = [0; FailReason::COUNT];
    failed[FailReason::Refused as usize] = refused;
    Snapshot {
        lab: e.name.clone(),
        seed: 0,
        now: e.now(),
        events: stats.accepted.load(Relaxed),
        finished: false,
        settings: settings(&config, e),
        servers,
        servers_total,
        clients: None,
        conns: ConnCounters {
            attempted: stats.accepted.load(Relaxed),
            established: proxied,
            completed: proxied.saturating_sub(active),
            failed,
        },
        drops: DropReason::ALL
            .iter()
            .map(|r| (*r, refusals_as_drops(*r, e)))
            .collect(),
        retransmits: RetransmitCounters::default(),
        latency: Latencies {
            handshake: connect_times(e),
            ..Latencies::default()
        },
        table_entries: u64::from(e.shared.open.load(Relaxed)),
        half_open: 0,
        floods_active: 0,
        flood_syns: 0,
        series: e.series.clone(),
        log: e.log.tail(SNAPSHOT_LOG_LINES),
        log_total: e.log.total(),
        twin: None,
        objectives: Vec::new(),
        // Real clients bring their own addresses.
        addresses_ran_out: None,
        disruptions: Vec::new(),
        // Its packets are the kernel's: no inspector.
        inspected: None,
    }
}

/// The p95 of recent connects, in microseconds (0 before any), for the
/// per-second chart.
/// The recent connects' p95 in microseconds (0 with none), how many
/// samples it stands on, and their histogram (the rings keep the newest
/// connects, not a time window, so it covers no set number of seconds).
pub(super) fn connect_latency(e: &ProxyEngine) -> (u64, u64, LatencyHistogram) {
    let t = connect_times(e);
    let pool = e.shared.pool.load_full();
    let micros = pool
        .backends()
        .iter()
        .flat_map(|b| b.connect_times.micros())
        .map(u64::from);
    (
        t.p95.map_or(0, |d| d.as_nanos() / 1_000),
        t.count,
        LatencyHistogram::of_micros(0, micros),
    )
}

/// Recent connects to every backend: the proxy's side of a handshake.
fn connect_times(e: &ProxyEngine) -> Percentiles {
    let pool = e.shared.pool.load_full();
    let mut all: Vec<u32> = pool
        .backends()
        .iter()
        .flat_map(|b| b.connect_times.micros())
        .collect();
    all.sort_unstable();
    let at = |q| quantile_of_sorted(&all, q).map(std_to_sim);
    Percentiles {
        count: all.len() as u64,
        p50: at(0.5),
        p95: at(0.95),
        p99: at(0.99),
        max: at(1.0),
        mean: (!all.is_empty()).then(|| {
            let sum: u64 = all.iter().map(|&us| u64::from(us)).sum();
            SimDuration::from_micros(sum / all.len() as u64)
        }),
    }
}

/// The refusals that have a drop reason of the same name.
fn refusals_as_drops(reason: DropReason, e: &ProxyEngine) -> u64 {
    let stats = &e.shared.stats;
    match reason {
        DropReason::Filtered => stats.rejected(Rejection::Filtered),
        DropReason::RateLimited => stats.rejected(Rejection::RateLimited),
        DropReason::NoHealthyBackend => stats.rejected(Rejection::NoBackend),
        _ => 0,
    }
}

fn settings(config: &ProxyConfig, e: &ProxyEngine) -> Settings {
    let h = &config.health;
    let limiter = e.shared.limiter.lock().unwrap_or_else(|p| p.into_inner());
    Settings {
        algorithm: config.algorithm,
        // A proxy's clients run their own TCP; it sets no SYN or segment
        // timers of theirs.
        syn_timeout: SimDuration::ZERO,
        segment_timeout: SimDuration::ZERO,
        max_retransmissions: 0,
        retransmit: RetransmitMode::Fixed,
        half_open_timeout: std_to_sim(config.connect_timeout),
        established_timeout: config.idle_timeout.map_or(SimDuration::ZERO, std_to_sim),
        health: HealthSpec {
            interval: Dur(std_to_sim(h.interval)),
            timeout: Dur(std_to_sim(h.timeout)),
            rise: Positive::new_const(h.rise),
            fall: Positive::new_const(h.fall),
        },
        max_half_open: 0,
        on_backend_down: OnBackendDown::Timeout,
        defences: Defences {
            validate_packets: false,
            filter: config.filter.clone(),
            rate_limit: limiter.as_ref().map(RateLimitState::of),
            early_drop: false,
            syn_cookies: CookieMode::Off,
        },
        resilience: crate::spec::ResilienceSpec {
            sticky: config.sticky.map(|d| Dur(std_to_sim(d))),
            ..crate::spec::ResilienceSpec::default()
        },
    }
}

fn std_to_sim(d: std::time::Duration) -> SimDuration {
    SimDuration::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// One backend's row.
pub(super) fn row(b: &Backend, h: Option<&BackendHistory>, demo: &[DemoBackend]) -> ServerRow {
    let healthy = b.healthy.load(Relaxed);
    let killed = b.admin_down.load(Relaxed)
        || demo
            .iter()
            .any(|d| d.addr() == b.config.address && !d.is_alive());
    let state = if killed {
        ServerState::Killed
    } else if !healthy {
        ServerState::Down
    } else if b.draining.load(Relaxed) {
        ServerState::Draining
    } else {
        ServerState::Up
    };
    ServerRow {
        name: b.config.name.clone(),
        state,
        healthy,
        weight: b.weight.load(Relaxed),
        active: b.active.load(Relaxed),
        half_open: 0,
        max_half_open: 0,
        server_established: None,
        max_connections: None,
        connections: b.total.load(Relaxed),
        new_per_sec: h.map_or(0, |h| h.new_per_sec),
        packets: None,
        packets_per_sec: None,
        segments_served: None,
        queued: None,
        drops: b.connect_errors.load(Relaxed),
        probe_p95: b.probe_times.quantile(0.95).map(std_to_sim),
        active_series: h.map_or_else(Vec::new, |h| h.active.values()),
        bytes_per_sec: Some(h.map_or(0, |h| h.bytes_per_sec)),
        connect_p95: b.connect_times.quantile(0.95).map(std_to_sim),
        recent_picks: Vec::new(),
        new_series: h.map_or_else(Vec::new, |h| h.new.values()),
        // The proxy's checker keeps its verdict, not its streaks.
        probes_failed: 0,
        probes_passed: 0,
        down_since: None,
        probes: Vec::new(),
        changes: Vec::new(),
    }
}
