//! The real proxy behind the engine boundary, so the dashboard drives it
//! as it drives the simulation: Commands in (drain, take out of rotation,
//! weights, algorithm, health, limits, allow list), Snapshots out. Time is
//! the wall clock since the proxy started; the proxy runs on its own tokio
//! runtime, and `advance` only keeps the per-second history and the log.

mod apply;
mod view;

use super::config::ProxyConfig;
use super::pool::Backend;
use super::server::{Proxy, StartError};
use super::shared::Shared;
use super::stats::Rejection;
use crate::backends::{BackendOptions, DemoBackend};
use crate::engine::{
    Advance, Engine, EventLog, LinkStats, LogKind, ObjectiveStatus, SeriesSet, ServerRow, Snapshot,
};
use crate::model::SimTime;
use crate::spec::{Command, Lab, Lesson, Origin};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

/// The longest drain when the dashboard closes the proxy.
const QUIT_DRAIN: Duration = Duration::from_secs(1);

/// The longest `advance` waits for the wall clock to reach its deadline.
const MAX_WAIT: Duration = Duration::from_millis(5);

/// What the engine remembers of one backend between seconds.
#[derive(Debug)]
struct BackendHistory {
    active: crate::engine::Series,
    /// Connections assigned in each second.
    new: crate::engine::Series,
    total_at_last_second: u64,
    new_per_sec: u64,
    bytes_at_last_second: u64,
    bytes_per_sec: u64,
    healthy: bool,
}

impl Default for BackendHistory {
    fn default() -> Self {
        // Backends start up, so the first verdict worth logging is a fall.
        BackendHistory {
            active: crate::engine::Series::default(),
            new: crate::engine::Series::default(),
            total_at_last_second: 0,
            new_per_sec: 0,
            bytes_at_last_second: 0,
            bytes_per_sec: 0,
            healthy: true,
        }
    }
}

/// A running proxy as an engine.
pub struct ProxyEngine {
    runtime: tokio::runtime::Runtime,
    proxy: Option<Proxy>,
    shared: Arc<Shared>,
    name: String,
    started: Instant,
    log: EventLog,
    series: SeriesSet,
    history: HashMap<SocketAddr, BackendHistory>,
    seconds_done: u64,
    accepted_at_last_second: u64,
    proxied_at_last_second: u64,
    rejected_at_last_second: [u64; Rejection::ALL.len()],
    scheduled: Vec<(SimTime, Command, Origin)>,
    demo: Vec<DemoBackend>,
}

impl ProxyEngine {
    /// Starts a proxy for `config` with `threads` workers carrying
    /// connections (health checks and demo backends run on one more); with
    /// `demo`, first starts an HTTP demo backend on each configured address
    /// (all must be on this machine), so `x` really kills one.
    pub fn start(
        config: ProxyConfig,
        name: &str,
        threads: usize,
        demo: bool,
    ) -> Result<ProxyEngine, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("lblab-proxy")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"))?;
        let demo = if demo {
            runtime.block_on(start_demo(&config))?
        } else {
            Vec::new()
        };
        let proxy = runtime
            .block_on(Proxy::start_with_workers(config, threads))
            .map_err(|e: StartError| e.to_string())?;
        let shared = Arc::clone(proxy.shared());
        let mut engine = ProxyEngine {
            runtime,
            proxy: Some(proxy),
            shared,
            name: name.to_string(),
            started: Instant::now(),
            log: EventLog::default(),
            series: SeriesSet::default(),
            history: HashMap::new(),
            seconds_done: 0,
            accepted_at_last_second: 0,
            proxied_at_last_second: 0,
            rejected_at_last_second: [0; Rejection::ALL.len()],
            scheduled: Vec::new(),
            demo,
        };
        let at = engine.local_addr();
        engine.note_now(LogKind::Info, format!("listening on {at}"));
        Ok(engine)
    }

    /// Where clients connect.
    pub fn local_addr(&self) -> SocketAddr {
        self.proxy
            .as_ref()
            .map_or(self.shared.config.load().listen, Proxy::local_addr)
    }

    /// The lab the dashboard shows for this proxy: its name, and a lesson
    /// that says how to drive it.
    pub fn lab(&self) -> Lab {
        let mut lab = Lab::named(&self.name);
        lab.summary = "a real proxy on this machine".into();
        let at = self.local_addr();
        lab.lesson = Lesson {
            text: vec![
                format!(
                    "A real load balancer listening on {at}, picking backends with the same \
                     code the simulation runs. Send it traffic from another terminal: \
                     curl http://{at}/, or wrk -c50 -d30s http://{at}/."
                ),
                "Figures a real proxy cannot see (packets, queues, client states) show as –."
                    .into(),
            ],
            steps: vec![
                "Send traffic and watch the shares follow the algorithm.".into(),
                "Press d to drain the selected backend: live connections finish, new ones go elsewhere.".into(),
                "Press x to take it out of rotation (with --demo, the backend really dies and health checks notice).".into(),
                "Press r to bring it back; press a to switch algorithm, t for health checks, L and A for the limits.".into(),
            ],
        };
        lab
    }

    /// Adds a line of `kind` to the event log, at the proxy's clock.
    pub fn note_now(&mut self, kind: LogKind, text: String) {
        let now = self.now();
        self.log.push(now, kind, text);
    }

    fn backend_named(&self, name: &str) -> Option<Arc<Backend>> {
        let pool = self.shared.pool.load();
        pool.backends()
            .iter()
            .find(|b| b.config.name == name)
            .cloned()
    }

    /// Per-second history, health flips and refusals since the last call.
    fn observe(&mut self) {
        self.log_flips();
        let whole = self.started.elapsed().as_secs();
        while self.seconds_done < whole {
            self.seconds_done += 1;
            self.close_second();
        }
        let now = self.now();
        let due: Vec<(Command, Origin)> = {
            let (due, later): (Vec<_>, Vec<_>) =
                self.scheduled.drain(..).partition(|(at, _, _)| *at <= now);
            self.scheduled = later;
            due.into_iter().map(|(_, c, o)| (c, o)).collect()
        };
        for (command, origin) in due {
            self.apply_command(command, origin);
        }
    }

    fn log_flips(&mut self) {
        let pool = self.shared.pool.load_full();
        for b in pool.backends() {
            let healthy = b.healthy.load(Relaxed);
            let entry = self.history.entry(b.config.address).or_default();
            if entry.healthy != healthy {
                entry.healthy = healthy;
                let (kind, word) = if healthy {
                    (LogKind::Info, "up")
                } else {
                    (LogKind::Health, "down")
                };
                let text = format!("{} marked {word} by health checks", b.config.name);
                let now = SimTime(self.started.elapsed().as_nanos() as u64);
                self.log.push(now, kind, text);
            }
        }
    }

    fn close_second(&mut self) {
        let stats = &self.shared.stats;
        let accepted = stats.accepted.load(Relaxed);
        let proxied = stats.proxied.load(Relaxed);
        self.series
            .new_conns
            .push(accepted - self.accepted_at_last_second);
        self.series
            .completed
            .push(proxied - self.proxied_at_last_second);
        self.accepted_at_last_second = accepted;
        self.proxied_at_last_second = proxied;
        let mut refused = 0;
        let mut words = Vec::new();
        for why in Rejection::ALL {
            let total = stats.rejected(why);
            let delta = total - self.rejected_at_last_second[why as usize];
            self.rejected_at_last_second[why as usize] = total;
            if delta > 0 {
                refused += delta;
                words.push(format!("{delta} {why}"));
            }
        }
        self.series.failed.push(refused);
        self.series.drops.push(refused);
        if !words.is_empty() {
            let now = SimTime(self.seconds_done * 1_000_000_000);
            self.log
                .push(now, LogKind::Drop, format!("refused {}", words.join(", ")));
        }
        let (p95, samples, histogram) = view::connect_latency(self);
        self.series.latency_p95_us.push(p95);
        self.series.latency_samples.push(samples);
        self.series.latency_histogram = histogram;
        let open = u64::from(self.shared.open.load(Relaxed));
        self.series.table.push(open);
        let pool = self.shared.pool.load_full();
        for b in pool.backends() {
            let h = self.history.entry(b.config.address).or_default();
            let total = b.total.load(Relaxed);
            h.new_per_sec = total - h.total_at_last_second.min(total);
            h.new.push(h.new_per_sec);
            h.total_at_last_second = total;
            let bytes = b.bytes_to.load(Relaxed) + b.bytes_from.load(Relaxed);
            h.bytes_per_sec = bytes - h.bytes_at_last_second.min(bytes);
            h.bytes_at_last_second = bytes;
            h.active.push(u64::from(b.active.load(Relaxed)));
        }
    }

    fn server_rows_now(&self) -> Vec<ServerRow> {
        let pool = self.shared.pool.load_full();
        pool.backends()
            .iter()
            .map(|b| view::row(b, self.history.get(&b.config.address), &self.demo))
            .collect()
    }
}

/// Starts an HTTP demo backend on every configured address.
async fn start_demo(config: &ProxyConfig) -> Result<Vec<DemoBackend>, String> {
    let mut demo = Vec::with_capacity(config.backends.len());
    for b in &config.backends {
        if !b.address.ip().is_loopback() {
            return Err(format!(
                "--demo starts backends on this machine only, and {} is not a loopback address",
                b.written
            ));
        }
        let backend = DemoBackend::spawn(b.name.clone(), b.address, BackendOptions::default())
            .await
            .map_err(|e| format!("cannot start demo backend {}: {e}", b.name))?;
        demo.push(backend);
    }
    Ok(demo)
}

impl Drop for ProxyEngine {
    fn drop(&mut self) {
        if let Some(proxy) = self.proxy.take() {
            // Someone quitting a dashboard waits for the screen, not for
            // every client: live connections get a short drain at most.
            let drain = self.shared.config.load().drain_timeout.min(QUIT_DRAIN);
            self.runtime.block_on(proxy.shutdown(drain));
        }
        for b in &self.demo {
            b.kill();
        }
    }
}

impl Engine for ProxyEngine {
    fn now(&self) -> SimTime {
        SimTime(self.started.elapsed().as_nanos() as u64)
    }

    fn seed(&self) -> u64 {
        0
    }

    fn events_processed(&self) -> u64 {
        self.shared.stats.accepted.load(Relaxed)
    }

    fn apply(&mut self, command: Command, origin: Origin) {
        self.apply_command(command, origin);
    }

    fn schedule(&mut self, at: SimTime, command: Command, origin: Origin) {
        self.scheduled.push((at, command, origin));
    }

    fn advance(&mut self, until: SimTime, _max_events: u64) -> Advance {
        let before = self.events_processed();
        let now = self.now();
        if until > now {
            let wait = Duration::from_nanos(until.0 - now.0).min(MAX_WAIT);
            std::thread::sleep(wait);
        }
        self.observe();
        Advance {
            events: self.events_processed() - before,
            reached: self.now() >= until,
        }
    }

    fn run_to_completion(&mut self, limit: SimTime) -> bool {
        while self.now() < limit {
            self.advance(limit, u64::MAX);
        }
        false
    }

    fn workload_finished(&self) -> bool {
        false
    }

    fn workload_is_finite(&self) -> bool {
        false
    }

    fn run_over(&self) -> bool {
        false
    }

    fn note(&mut self, text: String) {
        self.note_now(LogKind::Info, text);
    }

    fn snapshot(&self) -> Snapshot {
        view::snapshot(self)
    }

    fn server_rows(&self) -> Vec<ServerRow> {
        self.server_rows_now()
    }

    fn link_stats(&self) -> Vec<LinkStats> {
        Vec::new()
    }

    fn objective_statuses(&self, _run_over: bool) -> Vec<ObjectiveStatus> {
        Vec::new()
    }

    fn real_time(&self) -> bool {
        true
    }
}
