//! What the driver keeps of the run it drives: the commands that took
//! effect and when (to write the run file), the commands of a replay still
//! to come, and checkpoints of the World to rewind to.
//!
//! Checkpoints are copies of the engine ([`Engine::fork`]) taken every
//! [`FIRST_EVERY`] of simulated time. At most [`MAX_CHECKPOINTS`] are
//! kept: when the list is full every other one is dropped (the first, at
//! t=0, stays) and the interval doubles, so memory stays bounded by
//! `MAX_CHECKPOINTS` copies of the World however long the run, while a
//! rewind re-simulates at most one interval.

use crate::engine::Engine;
use crate::model::{SimDuration, SimTime};
use crate::run_file::{Pending, RunFile};
use crate::spec::TimedCommand;
use std::path::PathBuf;

/// Simulated time between checkpoints at the start of a run.
pub const FIRST_EVERY: SimDuration = SimDuration::from_secs(10);

/// Most checkpoints kept at once.
pub const MAX_CHECKPOINTS: usize = 32;

/// A run to replay in the dashboard.
#[derive(Clone, Debug)]
pub struct Replay {
    /// What the header calls it (the file's name).
    pub name: String,
    /// The run.
    pub run: RunFile,
}

/// What the driver is told about recording and replaying when it starts.
#[derive(Clone, Debug, Default)]
pub struct RunSetup {
    /// Write the run file here when the driver stops; a key's save goes
    /// beside it.
    pub record_to: Option<PathBuf>,
    /// Replay this run: its script from the start, its commands at their
    /// times.
    pub replay: Option<Replay>,
}

/// What the dashboard is shown of the recording.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStatus {
    /// Commands recorded so far.
    pub commands: usize,
    /// Replaying this run (its name).
    pub replay: Option<String>,
    /// Replayed commands still to come.
    pub pending: usize,
    /// A key branched a new run off the replay (or off a rewind) here.
    pub branched_at: Option<SimTime>,
    /// The last save of the run file: where, or why not.
    pub saved: Option<String>,
    /// Counts saves, so the dashboard sees a second save to the same
    /// place.
    pub saves: u64,
    /// Checkpoints kept, and the simulated time between them.
    pub checkpoints: (usize, SimDuration),
}

struct Checkpoint {
    at: SimTime,
    engine: Box<dyn Engine>,
    /// Commands in effect when it was taken.
    applied: usize,
}

/// The recording, the replay and the checkpoints of one run.
pub(super) struct Recorder {
    pub setup: RunSetup,
    /// Commands scheduled from the start (a replayed run's script).
    pub script: Vec<TimedCommand>,
    /// Commands that took effect, in order.
    pub applied: Vec<TimedCommand>,
    /// Replayed commands still to come.
    pub pending: Pending,
    pub branched_at: Option<SimTime>,
    pub saved: Option<String>,
    pub saves: u64,
    checkpoints: Vec<Checkpoint>,
    every: SimDuration,
}

impl Recorder {
    pub fn new(setup: RunSetup) -> Recorder {
        let mut r = Recorder {
            setup,
            script: Vec::new(),
            applied: Vec::new(),
            pending: Pending::default(),
            branched_at: None,
            saved: None,
            saves: 0,
            checkpoints: Vec::new(),
            every: FIRST_EVERY,
        };
        r.reset_to_replay();
        r
    }

    /// Back to the start of the run: the replay's script and commands, or
    /// nothing recorded.
    pub fn reset_to_replay(&mut self) {
        let (script, commands) = match &self.setup.replay {
            Some(r) => (r.run.script.clone(), r.run.commands.clone()),
            None => (Vec::new(), Vec::new()),
        };
        self.script = script;
        self.pending = Pending::new(commands);
        self.applied.clear();
        self.branched_at = None;
        self.checkpoints.clear();
        self.every = FIRST_EVERY;
    }

    /// A new lab: no replay any more.
    pub fn forget_replay(&mut self) {
        self.setup.replay = None;
        self.reset_to_replay();
    }

    /// A key applies a command at `at`: replayed commands still to come
    /// are dropped (the run branches), and so are checkpoints past `at`,
    /// which belong to the run that was.
    pub fn key_applied(&mut self, at: SimTime, entry: TimedCommand) -> bool {
        let branched = !self.pending.is_empty();
        if branched {
            self.pending.clear();
            self.branched_at = Some(at);
        }
        self.checkpoints.retain(|c| c.at <= at);
        self.applied.push(entry);
        branched
    }

    /// Keeps a copy of `engine` if a checkpoint is due and none covers
    /// this moment yet (a rewound run passes its old checkpoints again).
    pub fn maybe_checkpoint(&mut self, engine: &dyn Engine) {
        let now = engine.now();
        let due = self
            .checkpoints
            .last()
            .is_none_or(|c| now >= c.at + self.every);
        if !due {
            return;
        }
        let Some(copy) = engine.fork() else {
            return;
        };
        self.checkpoints.push(Checkpoint {
            at: now,
            engine: copy,
            applied: self.applied.len(),
        });
        if self.checkpoints.len() > MAX_CHECKPOINTS {
            // Thin: keep the first and every other one after it.
            let mut i = 0;
            self.checkpoints.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.every = self.every + self.every;
        }
    }

    /// Simulated time between checkpoints now.
    pub fn every(&self) -> SimDuration {
        self.every
    }

    /// When the newest checkpoint at or before `t` was taken.
    pub fn checkpoint_before(&self, t: SimTime) -> Option<SimTime> {
        self.checkpoints
            .iter()
            .rev()
            .find(|c| c.at <= t)
            .map(|c| c.at)
    }

    /// The newest checkpoint at or before `t`, copied, with the commands
    /// in effect then and those after it waiting to replay. A checkpoint
    /// ahead of the run (after a rewind) counts commands still pending, so
    /// the run's commands are taken as one list, applied then pending.
    pub fn restore(&mut self, t: SimTime) -> Option<(Box<dyn Engine>, SimTime)> {
        let i = self.checkpoints.iter().rposition(|c| c.at <= t)?;
        let c = &self.checkpoints[i];
        let engine = c.engine.fork()?;
        let (at, done) = (c.at, c.applied);
        let mut all = std::mem::take(&mut self.applied);
        all.extend(std::mem::take(&mut self.pending).into_commands());
        let rest = all.split_off(done.min(all.len()));
        self.applied = all;
        self.pending = Pending::new(rest);
        Some((engine, at))
    }

    /// The run so far as a run file: `lab` with `seed`, run to `now`.
    pub fn run_file(&self, lab: &crate::spec::Lab, seed: u64, now: SimTime) -> RunFile {
        let mut run = RunFile::new(lab, seed);
        run.script = self.script.clone();
        run.commands = self.applied.clone();
        run.length = Some(crate::spec::Dur(now.saturating_since(SimTime::ZERO)));
        run
    }

    pub fn status(&self) -> RunStatus {
        RunStatus {
            commands: self.applied.len(),
            replay: self.setup.replay.as_ref().map(|r| r.name.clone()),
            pending: self.pending.len(),
            branched_at: self.branched_at,
            saved: self.saved.clone(),
            saves: self.saves,
            checkpoints: (self.checkpoints.len(), self.every),
        }
    }

    /// Where a key's save goes: beside the session's run file
    /// (`NAME-t95s.ron`), or in the runs directory.
    pub fn save_path(&self, lab: &str, seed: u64, now: SimTime) -> Option<PathBuf> {
        let secs = now.as_secs_f64().floor();
        match &self.setup.record_to {
            Some(p) => {
                let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned())?;
                Some(p.with_file_name(format!("{stem}-t{secs}s.ron")))
            }
            None => crate::run_file::runs_dir().map(|d| {
                let safe: String = lab
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                d.join(format!("{safe}-seed{seed}-t{secs}s.ron"))
            }),
        }
    }
}
