//! A World whose tap is drained into a pcap file as it runs: an engine
//! like any other to the headless runner, so a run with `--pcap` gives the
//! same report as one without.

use super::{PcapError, PcapFile};
use crate::engine::{
    Advance, DrawHashes, Engine, LinkStats, MakeEngine, ObjectiveStatus, SeriesLog, ServerRow,
    Snapshot, TimeAverages,
};
use crate::model::{SimDuration, SimTime};
use crate::sim::{TapRecord, TapSpec, World};
use crate::spec::{Command, Lab, Origin};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// While the tap is open the World runs in steps of this much simulated
/// time, each drained to the file, so memory holds one step's packets
/// rather than the whole window's. Steps only move the clock to deadlines
/// with nothing due, which changes nothing a run does.
const STEP: SimDuration = SimDuration::from_millis(100);

/// A pcap file being written from a run, shared between the engine that
/// fills it and the caller that finishes it.
pub struct Capture {
    spec: TapSpec,
    shared: Arc<Mutex<Shared>>,
}

struct Shared {
    file: Option<PcapFile<Box<dyn Write + Send>>>,
    /// The first write error; later packets are not attempted.
    error: Option<PcapError>,
}

impl Capture {
    /// Starts a pcap file on `out` (its header is written now) for the
    /// packets `spec` chooses.
    pub fn new(out: Box<dyn Write + Send>, spec: TapSpec) -> Result<Capture, PcapError> {
        Ok(Capture {
            spec,
            shared: Arc::new(Mutex::new(Shared {
                file: Some(PcapFile::new(out)?),
                error: None,
            })),
        })
    }

    /// An engine maker for the headless runner: each World `build` makes
    /// has its tap started and drained into this file.
    pub fn maker(&self, build: impl Fn(&Lab, u64) -> World + Send + Sync + 'static) -> MakeEngine {
        let spec = self.spec;
        let shared = Arc::clone(&self.shared);
        Arc::new(move |lab: &Lab, seed: u64| {
            let mut world = build(lab, seed);
            world.start_tap(spec);
            Box::new(Tapped {
                world,
                shared: Arc::clone(&shared),
                buf: Vec::new(),
            }) as Box<dyn Engine>
        })
    }

    /// Flushes the file; the number of packets written, or the first error.
    pub fn finish(self) -> Result<u64, PcapError> {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = shared.error.take() {
            return Err(e);
        }
        match shared.file.take() {
            Some(file) => {
                let written = file.written();
                file.finish()?;
                Ok(written)
            }
            None => Ok(0),
        }
    }
}

/// The World with its tap, drained after every step. Every method of
/// [`Engine`] is passed on to the World, those with a default body too: a
/// default here would quietly drop what the World reports (a test checks
/// that a report is the same with and without a capture).
struct Tapped {
    world: World,
    shared: Arc<Mutex<Shared>>,
    /// Reused between drains.
    buf: Vec<TapRecord>,
}

impl Tapped {
    fn drain(&mut self) {
        self.world.drain_tap(&mut self.buf);
        if self.buf.is_empty() {
            return;
        }
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let Shared { file, error } = &mut *shared;
        if let (Some(file), None) = (file.as_mut(), error.as_ref()) {
            for rec in &self.buf {
                if let Err(e) = file.write(rec) {
                    *error = Some(e);
                    break;
                }
            }
        }
        self.buf.clear();
    }
}

impl Engine for Tapped {
    fn now(&self) -> SimTime {
        self.world.now()
    }

    fn seed(&self) -> u64 {
        self.world.seed()
    }

    fn events_processed(&self) -> u64 {
        self.world.events_processed()
    }

    fn apply(&mut self, command: Command, origin: Origin) {
        Engine::apply(&mut self.world, command, origin);
        self.drain();
    }

    fn schedule(&mut self, at: SimTime, command: Command, origin: Origin) {
        self.world.schedule_from(at, command, origin);
    }

    fn advance(&mut self, until: SimTime, max_events: u64) -> Advance {
        let mut events = 0;
        loop {
            let step = if self.world.tap_open() {
                until.min(self.world.now() + STEP)
            } else {
                until
            };
            let a = self.world.advance(step, max_events - events);
            self.drain();
            events += a.events;
            if !a.reached || step == until {
                return Advance {
                    events,
                    reached: a.reached,
                };
            }
        }
    }

    fn stalled(&self) -> Option<SimTime> {
        self.world.stalled()
    }

    fn run_to_completion(&mut self, limit: SimTime) -> bool {
        loop {
            let step = if self.world.tap_open() {
                limit.min(self.world.now() + STEP)
            } else {
                limit
            };
            let done = self.world.run_to_completion(step);
            self.drain();
            if done || step == limit || self.world.stalled().is_some() {
                return done;
            }
        }
    }

    fn workload_finished(&self) -> bool {
        self.world.workload_finished()
    }

    fn workload_is_finite(&self) -> bool {
        self.world.workload_is_finite()
    }

    fn run_over(&self) -> bool {
        self.world.run_over()
    }

    fn note(&mut self, text: String) {
        self.world.note(text);
    }

    fn snapshot(&self) -> Snapshot {
        Engine::snapshot(&self.world)
    }

    fn server_rows(&self) -> Vec<ServerRow> {
        Engine::server_rows(&self.world)
    }

    fn link_stats(&self) -> Vec<LinkStats> {
        self.world.link_stats()
    }

    fn objective_statuses(&self, run_over: bool) -> Vec<ObjectiveStatus> {
        self.world.objective_statuses(run_over)
    }

    fn explained_picks(&self) -> Vec<String> {
        Engine::explained_picks(&self.world)
    }

    fn time_averages(&self) -> Option<TimeAverages> {
        Engine::time_averages(&self.world)
    }

    fn draw_hashes(&self) -> Option<DrawHashes> {
        Engine::draw_hashes(&self.world)
    }

    fn series_log(&self) -> Option<SeriesLog> {
        Engine::series_log(&self.world)
    }

    /// A copy of the World without the tap's file: a fork does not write
    /// packets twice.
    fn fork(&self) -> Option<Box<dyn Engine>> {
        Engine::fork(&self.world)
    }

    fn real_time(&self) -> bool {
        Engine::real_time(&self.world)
    }
}
