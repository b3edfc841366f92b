//! Runs an engine on a lab to a deadline (or to completion) as fast as it
//! allows and produces its report. The only place outside the CLI that
//! reads the wall clock, and only to report speed.

use crate::engine::{Engine, MakeEngine};
use crate::model::{SimDuration, SimTime};
use crate::report::{Report, WallClock};
use crate::run_file::{Pending, RunFile, pending};
use crate::spec::{Lab, TimedCommand};
use std::time::Instant;

/// How a headless run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// At this much simulated time.
    After(SimDuration),
    /// When every finite workload has finished.
    Completion,
}

/// Why a lab cannot be run headless as asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RunError {
    /// Nothing would ever stop the run.
    #[error(
        "lab \"{0}\" has no duration and its clients never finish; give a duration with --for (for example --for 60s) or set `duration` in the lab"
    )]
    Endless(String),
    /// The clock stood still while events kept running.
    #[error(
        "lab \"{lab}\": the simulated clock stopped at {at} while {events} events ran without time passing; the run was stopped (its delays, timers and intervals are too short for time to advance: see `lblab check`)"
    )]
    Stalled {
        /// The lab's name.
        lab: String,
        /// Where the clock stood.
        at: String,
        /// Events processed in all.
        events: u64,
    },
}

/// Chooses how a run stops: `--for` wins, then the lab's duration, then
/// completion if the workload is finite.
pub fn stop_for(
    lab: &Lab,
    engine: &dyn Engine,
    run_for: Option<SimDuration>,
) -> Result<Stop, RunError> {
    if let Some(d) = run_for.or(lab.duration.map(|d| d.get())) {
        return Ok(Stop::After(d));
    }
    if engine.workload_is_finite() {
        Ok(Stop::Completion)
    } else {
        Err(RunError::Endless(lab.name.clone()))
    }
}

/// Whether `run` would accept `lab` without `--for`: builds its engine
/// and asks [`stop_for`], so `lblab check` refuses with the very message a
/// run would.
pub fn check_runnable(make: &MakeEngine, lab: &Lab) -> Result<Stop, RunError> {
    let engine = make(lab, lab.seed);
    stop_for(lab, engine.as_ref(), None)
}

/// Runs `engine` until `stop`; returns whether the workload finished.
pub fn run_engine(engine: &mut dyn Engine, stop: Stop) -> bool {
    match stop {
        Stop::After(d) => {
            engine.advance(SimTime::ZERO + d, u64::MAX);
            engine.workload_finished()
        }
        Stop::Completion => engine.run_to_completion(SimTime::MAX),
    }
}

/// Builds the engine for `lab` with `seed`, schedules the `script` of timed
/// commands, runs it and reports, with wall-clock figures.
pub fn run(
    make: MakeEngine,
    lab: &Lab,
    seed: u64,
    run_for: Option<SimDuration>,
    script: &[TimedCommand],
) -> Result<(Report, Box<dyn Engine>), RunError> {
    let mut engine = pending::start(&make, lab, seed, script);
    let stop = stop_for(lab, engine.as_ref(), run_for)?;
    let started = Instant::now();
    let finished = run_engine(engine.as_mut(), stop);
    finish(lab, engine, finished, started)
}

/// Replays a recorded run: its script scheduled from the start and its
/// commands applied at their times, as the live driver applied them; it
/// stops after `run_for`, or at the run's recorded length, or as
/// [`stop_for`] says. The report is the one the recorded session would get
/// headless, wall clock aside.
pub fn replay(
    make: MakeEngine,
    lab: &Lab,
    run: &RunFile,
    run_for: Option<SimDuration>,
) -> Result<(Report, Box<dyn Engine>), RunError> {
    let mut engine = pending::start(&make, lab, run.seed, &run.script);
    let stop = stop_for(
        lab,
        engine.as_ref(),
        run_for.or(run.length.map(|d| d.get())),
    )?;
    let started = Instant::now();
    let mut commands = Pending::new(run.commands.iter().cloned());
    let mut applied = Vec::new();
    let finished = match stop {
        Stop::After(d) => {
            commands.advance(engine.as_mut(), SimTime::ZERO + d, u64::MAX, &mut applied);
            engine.workload_finished()
        }
        Stop::Completion => loop {
            // Run to each command's moment unless the workload finishes
            // first, then apply it.
            let Some(at) = commands.next_at() else {
                break engine.run_to_completion(SimTime::MAX);
            };
            if engine.run_to_completion(at) || engine.stalled().is_some() {
                break engine.workload_finished();
            }
            commands.advance(engine.as_mut(), at, u64::MAX, &mut applied);
        },
    };
    finish(lab, engine, finished, started)
}

/// The run file of a headless run of `lab` with `seed` and `script` that
/// runs for `run_for` (or the lab's duration, or to completion): replayed,
/// it is the same run.
pub fn run_file_of(
    lab: &Lab,
    seed: u64,
    run_for: Option<SimDuration>,
    script: &[TimedCommand],
) -> RunFile {
    let mut run = RunFile::new(lab, seed);
    run.script = script.to_vec();
    run.length = run_for
        .or(lab.duration.map(|d| d.get()))
        .map(crate::spec::Dur);
    run
}

/// The report of a run that has ended, or why it has no report.
fn finish(
    lab: &Lab,
    engine: Box<dyn Engine>,
    finished: bool,
    started: Instant,
) -> Result<(Report, Box<dyn Engine>), RunError> {
    if let Some(at) = engine.stalled() {
        return Err(RunError::Stalled {
            lab: lab.name.clone(),
            at: format!("t={:.6}s", at.as_secs_f64()),
            events: engine.events_processed(),
        });
    }
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    let wall = WallClock {
        seconds,
        events_per_sec: engine.events_processed() as f64 / seconds,
        speedup: engine.now().as_secs_f64() / seconds,
    };
    let report = Report::from_engine(engine.as_ref(), finished, Some(wall));
    Ok((report, engine))
}
