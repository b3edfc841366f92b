//! The driver's side of runs as data: a key's command applied so that it
//! replays, saving the run file and the report, where a replay stops,
//! and jumps back and forward in simulated time.

use super::{Control, Driver};
use crate::model::{SimDuration, SimTime};
use crate::run_file::pending::{self, stamped};
use crate::spec::Command;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A jump in simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seek {
    /// Back by this much (to 0 at the earliest).
    Back(SimDuration),
    /// Forward by this much.
    Forward(SimDuration),
    /// To this moment.
    To(SimTime),
}

impl Driver {
    /// Applies a key's command now, as a replay will apply it, and records
    /// it; during a replay (or after a rewind) it branches a new run.
    pub(super) fn apply_key(&mut self, cmd: Command) {
        let now = self.engine.now();
        // Every replayed command due by now first, then every event of
        // this instant, so the key lands where a replay puts it.
        self.rec
            .pending
            .advance(self.engine.as_mut(), now, u64::MAX, &mut self.rec.applied);
        let at = pending::apply_now(self.engine.as_mut(), cmd.clone());
        if self.rec.key_applied(at, stamped(at, cmd)) {
            self.engine.note(format!(
                "a key at t={} branches a new run: the replayed commands after it are dropped, and the recording goes on from here",
                at.saturating_since(SimTime::ZERO)
            ));
        }
    }

    /// Where the replay being played stops, if the run would reach it by
    /// `target` and has not stopped there yet.
    pub(super) fn replay_end(&self, target: SimTime) -> Option<SimTime> {
        if self.replay_end_noted || self.rec.branched_at.is_some() {
            return None;
        }
        let len = self.rec.setup.replay.as_ref()?.run.length?;
        let end = SimTime::ZERO + len.get();
        (self.engine.now() < end && target >= end).then_some(end)
    }

    /// Jumps in simulated time: from the newest checkpoint before the
    /// moment (copied) when going back or when one lies ahead, else from
    /// where the run is, re-simulating to the moment; the commands after it
    /// wait to replay (a key then branches a new run).
    pub(super) fn seek(&mut self, seek: Seek) {
        let now = self.engine.now();
        let target = match seek {
            Seek::Back(d) => SimTime(now.0.saturating_sub(d.as_nanos())),
            Seek::Forward(d) => now + d,
            Seek::To(t) => t,
        };
        let started = Instant::now();
        // A checkpoint ahead of the run (after a rewind) spares a forward
        // jump the simulating too.
        let from = match self.rec.checkpoint_before(target) {
            Some(at) if target < now || at > now => match self.rec.restore(target) {
                Some((engine, at)) => {
                    self.engine = engine;
                    at
                }
                None => now,
            },
            _ if target < now => {
                self.engine
                    .note("cannot rewind: no checkpoint of this run".to_string());
                return;
            }
            _ => now,
        };
        // In steps of the checkpoint interval, so a long jump leaves
        // checkpoints behind it like a run that went there at speed.
        while self.engine.now() < target && self.engine.stalled().is_none() {
            let step = (self.engine.now() + self.rec.every()).min(target);
            self.rec
                .pending
                .advance(self.engine.as_mut(), step, u64::MAX, &mut self.rec.applied);
            self.rec.maybe_checkpoint(self.engine.as_ref());
        }
        self.rec.pending.advance(
            self.engine.as_mut(),
            target,
            u64::MAX,
            &mut self.rec.applied,
        );
        if target < now {
            // Ends and steps behind the new moment may be met again.
            self.finish_noted = false;
            self.replay_end_noted = false;
        }
        let to = self.engine.now().saturating_since(SimTime::ZERO);
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let redone = target.saturating_since(from);
        let text = if target < now {
            format!(
                "rewound to t={to} ({redone} re-simulated from the checkpoint at {} in {ms:.0} ms); a key now branches a new run",
                from.saturating_since(SimTime::ZERO)
            )
        } else {
            format!("jumped forward to t={to} ({redone} simulated in {ms:.0} ms)")
        };
        self.engine.note(text);
        // The dashboard starts its view over, as after a restart: the
        // World's log and series are those of the new moment.
        self.generation += 1;
        self.reanchor();
    }

    /// Saves the run so far where [`Recorder::save_path`] says.
    pub(super) fn save_run(&mut self) {
        let now = self.engine.now();
        let Some(path) = self.rec.save_path(&self.lab.name, self.seed, now) else {
            self.saved("cannot save the run: neither XDG_DATA_HOME nor HOME is set".into());
            return;
        };
        let run = self.rec.run_file(&self.lab, self.seed, now);
        let text = match run.save(&path) {
            Ok(()) => format!(
                "run saved to {} ({} commands, t={})",
                path.display(),
                run.commands.len(),
                now.saturating_since(SimTime::ZERO)
            ),
            Err(e) => format!("cannot save the run: {e}"),
        };
        self.saved(text);
    }

    fn saved(&mut self, text: String) {
        self.engine.note(text.clone());
        self.rec.saved = Some(text);
        self.rec.saves += 1;
    }

    /// Writes the run file the session was asked to record to, as the
    /// driver stops.
    pub(super) fn record_on_quit(&mut self) -> Option<Result<PathBuf, String>> {
        if self.engine.real_time() {
            return None;
        }
        let path = self.rec.setup.record_to.clone()?;
        let run = self.rec.run_file(&self.lab, self.seed, self.engine.now());
        Some(run.save(&path).map(|()| path))
    }

    /// Writes the report of the run so far to `path` and logs the outcome.
    pub(super) fn save_report(&mut self, path: &Path) {
        let report = crate::report::Report::from_engine(
            &*self.engine,
            self.engine.workload_finished(),
            None,
        );
        let text = report.render(crate::report::Format::Table);
        let note = match std::fs::write(path, text) {
            Ok(()) => format!("report saved to {}", path.display()),
            Err(e) => format!("cannot save the report to {}: {e}", path.display()),
        };
        self.engine.note(note);
    }
}

/// Why a control cannot apply to an engine that runs in real time, if it
/// cannot.
pub(super) fn not_in_real_time(c: &Control) -> Option<&'static str> {
    match c {
        Control::TogglePause | Control::Step => {
            Some("a real proxy cannot pause or step: its clients keep coming")
        }
        Control::SetSpeed(_) => Some("a real proxy runs in real time only"),
        Control::Restart | Control::Load(..) => {
            Some("a real proxy cannot restart or load a lab from the dashboard")
        }
        Control::Guide(_) => Some("a real proxy has no lesson to guide"),
        Control::SaveRun => Some("a real proxy's run cannot be replayed: its clients are real"),
        Control::Seek(_) => Some("a real proxy cannot rewind: its clients are real"),
        Control::Aim(_) => Some("a real proxy runs one world"),
        Control::Apply(_) | Control::Hold(_) | Control::SaveReport(_) | Control::Quit => None,
    }
}
