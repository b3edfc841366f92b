//! The live driver: runs an engine on its own thread, paced against the
//! wall clock at a chosen speed, and publishes Snapshots for the dashboard.
//! Controls come in over an mpsc channel, frames go out over a watch
//! channel, so drawing never waits for the simulation and the simulation
//! never waits for a frame.

use crate::engine::{Engine, MakeEngine, Snapshot};
use crate::model::{SimDuration, SimTime};
use crate::run_file::pending;
use crate::spec::{Command, Lab, Origin};
use record::Recorder;
use recording::not_in_real_time;

mod record;
mod recording;
mod speed;
pub use record::{FIRST_EVERY, MAX_CHECKPOINTS, Replay, RunSetup, RunStatus};
pub use recording::Seek;
pub use speed::Speed;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// How often a frame is published while the World runs (60 Hz, twice the
/// dashboard's 30 fps, so a fresh frame is always waiting).
const PUBLISH_EVERY: Duration = Duration::from_micros(16_667);

/// Wall time the driver runs the World before it looks at its controls
/// again: short enough that a key press takes effect within a frame.
const SLICE: Duration = Duration::from_millis(4);

/// Events run between two looks at the wall clock.
const BATCH: u64 = 2048;

/// Most wall time the driver lets the World lag behind its target before
/// giving up on catching up (it then reports the speed it achieves).
const MAX_DEBT: Duration = Duration::from_millis(250);

/// Simulated time one single step advances.
pub const STEP: SimDuration = SimDuration::from_millis(100);

/// What the dashboard can ask of the driver.
#[derive(Clone, Debug, PartialEq)]
pub enum Control {
    /// Apply a Command to the engine now.
    Apply(Command),
    /// Pause or resume.
    TogglePause,
    /// Advance [`STEP`] of simulated time, then stay paused.
    Step,
    /// Change speed.
    SetSpeed(Speed),
    /// Hold the world still while the dashboard shows a popup (true), or
    /// let it go on (false). Separate from pause: closing the popup must
    /// not resume a run the user paused.
    Hold(bool),
    /// Guided mode on or off: pause at each timed lesson step's moment.
    Guide(bool),
    /// Write the run's report so far, as `lblab run` prints it, to this
    /// file; the log says where it went or why it could not.
    SaveReport(std::path::PathBuf),
    /// Send later keys' commands to one of a comparison's worlds, or both.
    Aim(crate::engine::Aim),
    /// Save the run so far as a run file (beside the session's own, or in
    /// the runs directory); the log and the status bar say where.
    SaveRun,
    /// Jump back or forward in simulated time: back re-simulates from the
    /// newest checkpoint before the moment.
    Seek(Seek),
    /// Start the lab again with the same seed (a replay starts over).
    Restart,
    /// Replace the lab and start it (with the given seed).
    Load(Box<Lab>, u64),
    /// Stop the driver.
    Quit,
}

/// How the driver is keeping up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pace {
    /// The speed asked for.
    pub speed: Speed,
    /// Simulated seconds per wall second actually achieved recently.
    pub achieved: f64,
    /// Paused.
    pub paused: bool,
    /// Held still while a popup is open.
    pub held: bool,
    /// Guided mode: the run pauses at each lesson step's moment.
    pub guided: bool,
    /// The CPU cannot keep up with the speed asked for.
    pub behind: bool,
    /// Simulated events per wall second recently.
    pub events_per_sec: f64,
}

/// One published frame: the engine's snapshot and the driver's pace.
#[derive(Clone, Debug)]
pub struct LiveFrame {
    /// The engine.
    pub snapshot: Snapshot,
    /// The driver.
    pub pace: Pace,
    /// The lab being run (changes only on load).
    pub lab: Arc<Lab>,
    /// Counts restarts and loads, so the dashboard can reset its view.
    pub generation: u64,
    /// Number of controls applied so far: a frame whose count covers a
    /// control shows its effect.
    pub applied: u64,
    /// The engine runs in real time (a real proxy): no pause, step, speed,
    /// restart or lab loading.
    pub real_time: bool,
    /// The recording, a replay, the checkpoints.
    pub run: RunStatus,
}

impl LiveFrame {
    /// A frame of `engine` running `lab` as a driver running at `speed`
    /// would publish it, for tests, benches and still pictures.
    pub fn still(engine: &dyn Engine, lab: &Lab, speed: Speed) -> LiveFrame {
        LiveFrame {
            snapshot: engine.snapshot(),
            pace: Pace {
                speed,
                achieved: match speed {
                    Speed::Factor(f) => f,
                    Speed::Max => 0.0,
                },
                paused: false,
                held: false,
                guided: false,
                behind: false,
                events_per_sec: 0.0,
            },
            lab: Arc::new(lab.clone()),
            generation: 0,
            applied: 0,
            real_time: engine.real_time(),
            run: RunStatus::default(),
        }
    }
}

/// The dashboard's end of a running driver.
pub struct LiveHandle {
    /// Controls to the driver.
    pub controls: mpsc::UnboundedSender<Control>,
    /// The newest frame.
    pub frames: watch::Receiver<Arc<LiveFrame>>,
    thread: Option<JoinHandle<Option<Result<PathBuf, String>>>>,
}

impl LiveHandle {
    /// Asks the driver to stop and waits for its thread; returns where the
    /// run file went (or why it could not), when it was asked to record.
    pub fn shutdown(mut self) -> Option<Result<PathBuf, String>> {
        let _ = self.controls.send(Control::Quit);
        self.thread.take().and_then(|t| t.join().ok().flatten())
    }
}

impl Drop for LiveHandle {
    fn drop(&mut self) {
        let _ = self.controls.send(Control::Quit);
    }
}

/// Starts a driver thread running `lab` with `seed` at `speed`, on the
/// engine `make` builds.
pub fn spawn(make: MakeEngine, lab: Lab, seed: u64, speed: Speed, paused: bool) -> LiveHandle {
    spawn_run(make, lab, seed, speed, paused, RunSetup::default())
}

/// [`spawn`], recording the run to a file and replaying one as `setup`
/// says.
pub fn spawn_run(
    make: MakeEngine,
    lab: Lab,
    seed: u64,
    speed: Speed,
    paused: bool,
    setup: RunSetup,
) -> LiveHandle {
    let (controls, rx) = mpsc::unbounded_channel();
    let mut driver = Driver::new(make, lab, seed, speed, paused, setup);
    let (tx, frames) = watch::channel(Arc::new(driver.frame()));
    let thread = std::thread::Builder::new()
        .name("lblab-world".into())
        .spawn(move || {
            driver.run(rx, tx);
            driver.record_on_quit()
        })
        .ok();
    LiveHandle {
        controls,
        frames,
        thread,
    }
}

struct Driver {
    make: MakeEngine,
    lab: Arc<Lab>,
    seed: u64,
    engine: Box<dyn Engine>,
    speed: Speed,
    paused: bool,
    held: bool,
    guided: bool,
    /// The pause at the end of a finite workload has happened (it happens
    /// once; space runs on).
    finish_noted: bool,
    generation: u64,
    applied: u64,
    // Pacing: simulated time `anchor_sim` corresponds to wall time
    // `anchor_wall`.
    anchor_wall: Instant,
    anchor_sim: SimTime,
    behind: bool,
    // Achieved speed over the last measuring window.
    window_wall: Instant,
    window_sim: SimTime,
    window_events: u64,
    achieved: f64,
    events_per_sec: f64,
    /// The recording, the replay and the checkpoints.
    rec: Recorder,
    /// The pause where a replayed recording ends has happened.
    replay_end_noted: bool,
}

impl Driver {
    fn new(
        make: MakeEngine,
        lab: Lab,
        seed: u64,
        speed: Speed,
        paused: bool,
        setup: RunSetup,
    ) -> Driver {
        let mut rec = Recorder::new(setup);
        let engine = pending::start(&make, &lab, seed, &rec.script);
        rec.maybe_checkpoint(engine.as_ref());
        // Real time is the only time a real engine has.
        let (speed, paused) = if engine.real_time() {
            (Speed::Factor(1.0), false)
        } else {
            (speed, paused)
        };
        let now = Instant::now();
        Driver {
            make,
            lab: Arc::new(lab),
            seed,
            engine,
            speed,
            paused,
            held: false,
            guided: false,
            finish_noted: false,
            generation: 0,
            applied: 0,
            anchor_wall: now,
            anchor_sim: SimTime::ZERO,
            behind: false,
            window_wall: now,
            window_sim: SimTime::ZERO,
            window_events: 0,
            achieved: 0.0,
            events_per_sec: 0.0,
            rec,
            replay_end_noted: false,
        }
    }

    fn frame(&self) -> LiveFrame {
        LiveFrame {
            snapshot: self.engine.snapshot(),
            pace: Pace {
                speed: self.speed,
                achieved: if self.still() { 0.0 } else { self.achieved },
                paused: self.paused,
                held: self.held,
                guided: self.guided,
                behind: self.behind && !self.still(),
                events_per_sec: if self.still() {
                    0.0
                } else {
                    self.events_per_sec
                },
            },
            lab: Arc::clone(&self.lab),
            generation: self.generation,
            applied: self.applied,
            real_time: self.engine.real_time(),
            run: self.rec.status(),
        }
    }

    /// Simulated time stands still: paused, or held for a popup.
    fn still(&self) -> bool {
        self.paused || self.held
    }

    fn reanchor(&mut self) {
        self.anchor_wall = Instant::now();
        self.anchor_sim = self.engine.now();
        self.window_wall = self.anchor_wall;
        self.window_sim = self.anchor_sim;
        self.window_events = self.engine.events_processed();
        self.behind = false;
        // Figures from before a change of speed or a pause would describe
        // a run that is no longer happening.
        self.achieved = 0.0;
        self.events_per_sec = 0.0;
    }

    /// Handles one control; false when the driver should stop.
    fn control(&mut self, c: Control) -> bool {
        if self.engine.real_time()
            && let Some(why) = not_in_real_time(&c)
        {
            self.engine.note(why.to_string());
            self.applied += 1;
            return true;
        }
        match c {
            Control::Apply(cmd) if self.engine.real_time() => {
                self.engine.apply(cmd, Origin::User);
            }
            Control::Apply(cmd) => self.apply_key(cmd),
            Control::TogglePause => {
                self.paused = !self.paused;
                self.reanchor();
            }
            Control::Step => {
                self.paused = true;
                let to = self.engine.now() + STEP;
                self.rec
                    .pending
                    .advance(self.engine.as_mut(), to, u64::MAX, &mut self.rec.applied);
                self.rec.maybe_checkpoint(self.engine.as_ref());
                self.reanchor();
            }
            Control::SetSpeed(s) => {
                self.speed = s;
                self.reanchor();
            }
            Control::Hold(h) => {
                // Real time cannot be held; a real proxy ignores it.
                self.held = h && !self.engine.real_time();
                self.reanchor();
            }
            Control::SaveReport(path) => self.save_report(&path),
            Control::Aim(aim) => {
                if self.engine.aim(aim) {
                    self.engine.note(format!("keys now act on {}", aim.name()));
                }
            }
            Control::Guide(on) => self.guided = on,
            Control::SaveRun => self.save_run(),
            Control::Seek(seek) => self.seek(seek),
            Control::Restart => {
                self.finish_noted = false;
                self.replay_end_noted = false;
                self.rec.reset_to_replay();
                self.engine = pending::start(&self.make, &self.lab, self.seed, &self.rec.script);
                self.rec.maybe_checkpoint(self.engine.as_ref());
                self.generation += 1;
                self.reanchor();
            }
            Control::Load(lab, seed) => {
                self.finish_noted = false;
                self.replay_end_noted = false;
                self.rec.forget_replay();
                self.engine = (self.make)(&lab, seed);
                self.rec.maybe_checkpoint(self.engine.as_ref());
                self.lab = Arc::new(*lab);
                self.seed = seed;
                self.generation += 1;
                self.reanchor();
            }
            Control::Quit => return false,
        }
        self.applied += 1;
        true
    }

    fn run(&mut self, mut rx: mpsc::UnboundedReceiver<Control>, tx: watch::Sender<Arc<LiveFrame>>) {
        let mut last_publish = Instant::now();
        loop {
            // Every waiting control first, so a key takes effect at once.
            let mut changed = false;
            loop {
                match rx.try_recv() {
                    Ok(c) => {
                        if !self.control(c) {
                            return;
                        }
                        changed = true;
                    }
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => return,
                }
            }
            if changed {
                last_publish = Instant::now();
                if tx.send(Arc::new(self.frame())).is_err() {
                    return;
                }
            }
            if self.still() {
                // Nothing moves until the next control.
                match rx.blocking_recv() {
                    Some(c) => {
                        if !self.control(c) {
                            return;
                        }
                        if tx.send(Arc::new(self.frame())).is_err() {
                            return;
                        }
                        continue;
                    }
                    None => return,
                }
            }
            self.advance();
            // A pause the World reached by itself (the lab's end) is shown
            // at once: the loop is about to wait for a control.
            if self.paused || last_publish.elapsed() >= PUBLISH_EVERY {
                last_publish = Instant::now();
                if tx.send(Arc::new(self.frame())).is_err() {
                    return;
                }
            }
        }
    }

    /// Runs the World toward where the wall clock says it should be, for at
    /// most one slice of wall time, then sleeps if it is ahead.
    fn advance(&mut self) {
        let started = Instant::now();
        let mut target = match self.speed {
            Speed::Max => SimTime::MAX,
            Speed::Factor(f) => {
                let wall = started.duration_since(self.anchor_wall).as_secs_f64();
                self.anchor_sim + SimDuration::from_secs_f64(wall * f)
            }
        };
        // A lab with a duration stops there once, so its objectives are
        // judged on the screen as in a headless report; space runs on.
        let end = self.lab.duration.map(|d| SimTime::ZERO + d.get());
        let stop_at_end = end.filter(|&e| self.engine.now() < e && target >= e);
        if let Some(e) = stop_at_end {
            target = e;
        }
        // Guided mode stops at each lesson step's moment, before the end.
        let step = self.guided_stop(target);
        if let Some((_, at)) = step {
            target = target.min(at);
        }
        // A replay stops where its recording ended, once.
        let replay_end = self.replay_end(target);
        if let Some(e) = replay_end {
            target = target.min(e);
        }
        let mut caught_up = false;
        while !caught_up && started.elapsed() < SLICE && self.engine.stalled().is_none() {
            caught_up = self
                .rec
                .pending
                .advance(self.engine.as_mut(), target, BATCH, &mut self.rec.applied)
                .reached;
            self.rec.maybe_checkpoint(self.engine.as_ref());
        }
        if let Some(why) = self.reason_to_stop(step, replay_end, stop_at_end) {
            // The run stops itself and says why in its log; space runs on.
            self.paused = true;
            self.engine.note(why);
            self.reanchor();
            return;
        }
        self.measure();
        match self.speed {
            Speed::Max => self.behind = false,
            Speed::Factor(f) => {
                self.behind = !caught_up;
                // Forgive a debt the CPU cannot repay, so a slow stretch
                // does not turn into a burst later; the header shows the
                // speed achieved instead.
                let debt = target.saturating_since(self.engine.now()).as_secs_f64() / f;
                if debt > MAX_DEBT.as_secs_f64() {
                    self.anchor_wall = Instant::now();
                    self.anchor_sim = self.engine.now();
                }
                if caught_up {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        }
    }

    /// Why the run should pause by itself where it stands now, if it
    /// should: a stalled clock, a guided lesson step's moment, the end of
    /// a replayed recording, the lab's duration, or (once) the end of a
    /// finite workload.
    fn reason_to_stop(
        &mut self,
        step: Option<(usize, SimTime)>,
        replay_end: Option<SimTime>,
        stop_at_end: Option<SimTime>,
    ) -> Option<String> {
        let now = self.engine.now();
        if let Some(at) = self.engine.stalled() {
            return Some(format!(
                "the simulated clock stopped at t={:.6}s: events kept running without time passing, so the run is paused for good (the lab's delays and timers are too short; see lblab check)",
                at.as_secs_f64()
            ));
        }
        if let Some((i, at)) = step
            && now >= at
        {
            let text = self.lab.lesson.steps.get(i).map_or("", |s| s.text.as_str());
            return Some(format!(
                "lesson step {} at {}: {text} (paused: space runs on)",
                i + 1,
                at.saturating_since(SimTime::ZERO)
            ));
        }
        if let Some(e) = replay_end
            && now >= e
        {
            self.replay_end_noted = true;
            return Some(format!(
                "the recorded run ends here, at t={}: paused (space runs on; a key branches a new run)",
                e.saturating_since(SimTime::ZERO)
            ));
        }
        if let Some(e) = stop_at_end
            && now >= e
        {
            return Some(format!(
                "the lab's {} are up: paused (space runs on)",
                lab_duration_words(e)
            ));
        }
        // A workload that ends (a lab with no duration) pauses once too,
        // so the end-of-lab summary is not scrolled away by idle time.
        if !self.finish_noted && self.engine.workload_is_finite() && self.engine.workload_finished()
        {
            self.finish_noted = true;
            return Some("every client has finished: paused (space runs on)".to_string());
        }
        None
    }

    /// In guided mode, the next lesson step's index and moment if the run
    /// would reach it by `target`.
    fn guided_stop(&self, target: SimTime) -> Option<(usize, SimTime)> {
        if !self.guided {
            return None;
        }
        let now = self.engine.now().saturating_since(SimTime::ZERO);
        let (i, at) = self.lab.lesson.next_step_after(now)?;
        let at = SimTime::ZERO + at;
        (target >= at).then_some((i, at))
    }

    fn measure(&mut self) {
        let wall = self.window_wall.elapsed();
        if wall < Duration::from_millis(500) {
            return;
        }
        let secs = wall.as_secs_f64();
        let sim = self
            .engine
            .now()
            .saturating_since(self.window_sim)
            .as_secs_f64();
        let events = self.engine.events_processed() - self.window_events;
        self.achieved = sim / secs;
        self.events_per_sec = events as f64 / secs;
        self.window_wall = Instant::now();
        self.window_sim = self.engine.now();
        self.window_events = self.engine.events_processed();
    }
}

fn lab_duration_words(end: SimTime) -> String {
    format!("{}", end.saturating_since(SimTime::ZERO))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_runs;
