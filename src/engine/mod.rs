//! The engine boundary: what the live driver, the headless runner, reports
//! and the dashboard drive, whichever engine runs behind it. An engine
//! takes Commands, advances in time and shows itself as Snapshots; nothing
//! outside an engine reaches past this trait into its internals.
//!
//! The deterministic simulation (`sim::World`) is the first engine.

mod counters;
mod latency;
mod log;
mod objective;
mod pick;
mod series;
mod settings;
mod snapshot;
mod tracker;

pub use counters::{
    BackendAverages, ConnCounters, DrawHash, DrawHashes, LinkStats, Percentiles,
    RetransmitCounters, TimeAverages,
};
pub use latency::Latency;
pub use log::{EventLog, LOG_CAPACITY, LogEntry, LogKind};
pub use objective::{ObjectiveStatus, Verdict};
pub use pick::{PickRecord, Via};
pub use series::{
    HISTOGRAM_SECONDS, LatencyHistogram, RecentLatency, SERIES_LEN, SecondRow, Series, SeriesLog,
    SeriesSet,
};
pub use settings::{Defences, RateLimitState, Settings};
pub use snapshot::{
    ClientCounts, DisruptionRecord, InspectedPacket, Inspection, Latencies, ProbeSample,
    ROW_CHANGES, ROW_PROBES, SNAPSHOT_LOG_LINES, ServerRow, ServerState, Snapshot, StateChange,
    TRACKED_SERVERS,
};

pub use tracker::{Sample, Tally, Tracker};

use crate::model::SimTime;
use crate::spec::{Command, Lab, Origin};

/// How far a call to [`Engine::advance`] got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advance {
    /// Events processed by the call.
    pub events: u64,
    /// Every event due by the deadline ran and the clock stands at it.
    pub reached: bool,
}

/// A world that takes Commands, advances in time and shows itself as
/// Snapshots: the simulation, or a real proxy.
pub trait Engine: Send {
    /// The engine's clock.
    fn now(&self) -> SimTime;

    /// The seed the run was started with.
    fn seed(&self) -> u64;

    /// Events processed so far.
    fn events_processed(&self) -> u64;

    /// Applies `command` now; the event log says where it came from.
    fn apply(&mut self, command: Command, origin: Origin);

    /// Queues `command` to be applied at `at` (now, if `at` has passed).
    fn schedule(&mut self, at: SimTime, command: Command, origin: Origin);

    /// Runs what is due at or before `until`, at most `max_events` events.
    /// When nothing due by `until` is left, the clock moves to `until`.
    fn advance(&mut self, until: SimTime, max_events: u64) -> Advance;

    /// The instant the engine's clock stopped at, when events kept running
    /// without simulated time passing and the engine stopped itself.
    fn stalled(&self) -> Option<SimTime> {
        None
    }

    /// Runs until the workload finishes or the clock reaches `limit`; the
    /// clock stops at the last event processed. True if it finished.
    fn run_to_completion(&mut self, limit: SimTime) -> bool;

    /// Every finite workload has finished.
    fn workload_finished(&self) -> bool;

    /// The workload can finish on its own.
    fn workload_is_finite(&self) -> bool;

    /// The lab's run is over: its workload finished or its duration passed.
    fn run_over(&self) -> bool;

    /// Adds a line to the event log (a pause, a lab's end).
    fn note(&mut self, text: String);

    /// The engine as it is now.
    fn snapshot(&self) -> Snapshot;

    /// A row for every server, beyond the Snapshot's first
    /// [`TRACKED_SERVERS`] too, for reports.
    fn server_rows(&self) -> Vec<ServerRow>;

    /// Every link's counters, clients' link first; empty for an engine
    /// without simulated links.
    fn link_stats(&self) -> Vec<LinkStats>;

    /// Every objective's status; with `run_over`, those still open are
    /// judged as they stand.
    fn objective_statuses(&self, run_over: bool) -> Vec<ObjectiveStatus>;

    /// The first picks of the run and why each backend was chosen, as
    /// many as were asked for before it ran; empty where an engine keeps
    /// none.
    fn explained_picks(&self) -> Vec<String> {
        Vec::new()
    }

    /// Gauges averaged over the run (conn table, each backend's queue and
    /// workers), where the engine keeps them.
    fn time_averages(&self) -> Option<TimeAverages> {
        None
    }

    /// Hashes of the clients' arrivals and the servers' service times,
    /// where the engine draws them.
    fn draw_hashes(&self) -> Option<DrawHashes> {
        None
    }

    /// Every per-second row of the run, where the engine was asked to
    /// keep them.
    fn series_log(&self) -> Option<SeriesLog> {
        None
    }

    /// The engine runs in real time on real sockets: it cannot be paused,
    /// stepped, sped up, restarted or swapped for another lab, and the
    /// simulation's packet-level chaos (spoofed floods) is not its to do.
    fn real_time(&self) -> bool {
        false
    }

    /// A copy of the engine as it is now, which runs on exactly as this
    /// one would: a checkpoint to rewind to. `None` for an engine that
    /// cannot be copied (a real proxy).
    fn fork(&self) -> Option<Box<dyn Engine>> {
        None
    }

    /// Sends later commands to one of a comparison's worlds, or both;
    /// false for an engine that runs one world.
    fn aim(&mut self, _aim: Aim) -> bool {
        false
    }
}

/// Which of a comparison's two worlds the keys act on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Aim {
    /// Both, at the same instant.
    #[default]
    Both,
    /// A only: the lab as it is.
    A,
    /// B only: the lab with the comparison's commands.
    B,
}

impl Aim {
    /// The next in the order the dashboard's key cycles through.
    pub const fn next(self) -> Aim {
        match self {
            Aim::Both => Aim::A,
            Aim::A => Aim::B,
            Aim::B => Aim::Both,
        }
    }

    /// In words, for the header and the log.
    pub const fn name(self) -> &'static str {
        match self {
            Aim::Both => "both worlds",
            Aim::A => "A only",
            Aim::B => "B only",
        }
    }
}

/// Builds an engine for a lab and seed: what drivers call to start, restart
/// and load labs. A closure, so a real engine can carry its configuration.
pub type MakeEngine = std::sync::Arc<dyn Fn(&Lab, u64) -> Box<dyn Engine> + Send + Sync>;
