//! Overlays and the world behind them: popups hold the world still,
//! space and `?` work inside them, the summary opens at a lab's end.

use super::{Action, App, Overlay};
use crate::live::Control;
use crate::spec::Command;
use crate::tui::popup_keys::{algorithms_key, flood_key, labs_key, timeouts_key};

/// The file `s` saves the report to, in the working directory: the lab,
/// the seed and the simulated second, so saves never overwrite each other
/// within a run.
pub fn report_file_name(app: &App) -> String {
    let s = &app.frame.snapshot;
    let lab = crate::text::file_safe(&s.lab);
    format!(
        "lblab-{lab}-seed{}-t{}s.txt",
        s.seed,
        s.now.as_secs_f64().floor()
    )
}

impl App {
    /// The lab is over (its duration is up, or its workload finished and
    /// the driver paused there): the summary opens once per run.
    pub(super) fn open_summary_at_the_end(&mut self) {
        let frame = &self.frame;
        let s = &frame.snapshot;
        let over = match frame.lab.duration {
            Some(d) => s.now >= crate::model::SimTime::ZERO + d.get() || s.finished,
            None => s.finished,
        };
        if over
            && frame.pace.paused
            && !frame.real_time
            && self.summary_shown != Some(frame.generation)
            && self.overlay == Overlay::None
        {
            self.summary_shown = Some(frame.generation);
            self.overlay = Overlay::Summary;
        }
    }

    /// Holds the world while an overlay is open, and lets it go when the
    /// last one closes: reading the algorithm list at ×5 must not cost
    /// the moment the lesson is about.
    pub(super) fn hold_for_overlay(&mut self) -> Option<Control> {
        // The summary opens on a paused world: nothing to hold.
        // Nor the filter line: the log it filters keeps coming.
        let open = !matches!(
            self.overlay,
            Overlay::None | Overlay::Summary | Overlay::Filter | Overlay::GoTo(_)
        );
        if !open {
            self.released = false;
        }
        if open && !self.holding && !self.released && self.popups_pause && !self.frame.real_time {
            self.holding = true;
            return Some(Control::Hold(true));
        }
        if !open && self.holding {
            self.holding = false;
            return Some(Control::Hold(false));
        }
        None
    }

    /// The keys every popup shares: space runs or stops the world behind
    /// it, `?` shows the help over it.
    pub(super) fn popup_shared_key(&mut self, action: Action) -> Option<Vec<Control>> {
        match action {
            Action::TogglePause if self.holding => {
                // The world was held for this popup: space lets it run,
                // and closing the popup leaves it running.
                self.holding = false;
                self.released = true;
                self.notice = Some("running behind the popup (space pauses)".into());
                Some(vec![Control::Hold(false)])
            }
            Action::TogglePause => Some(vec![Control::TogglePause]),
            Action::Help => {
                self.help_scroll = 0;
                self.under_help = Some(std::mem::replace(&mut self.overlay, Overlay::Help));
                Some(Vec::new())
            }
            _ => None,
        }
    }

    /// A key while a popup is open goes to the popup.
    pub(super) fn update_popup(&mut self, action: Action) -> Vec<Control> {
        let (controls, close) = match &mut self.overlay {
            Overlay::Flood(form) => match flood_key(form, action) {
                Ok(controls) => (controls, false),
                Err(why) => {
                    self.notice = Some(why);
                    (Vec::new(), false)
                }
            },
            Overlay::Algorithms(i) => {
                algorithms_key(i, action, self.frame.snapshot.settings.algorithm)
            }
            Overlay::Timeouts(form) => timeouts_key(form, action),
            Overlay::Labs(i) => match labs_key(i, action) {
                Ok(step) => step,
                Err(why) => {
                    self.notice = Some(why);
                    (Vec::new(), false)
                }
            },
            Overlay::None
            | Overlay::Help
            | Overlay::Why
            | Overlay::Ladder
            | Overlay::Detail(_)
            | Overlay::Summary
            | Overlay::Filter
            | Overlay::GoTo(_) => (Vec::new(), false),
        };
        // A flood that starts closes its popup and any notice with it.
        let started = controls
            .iter()
            .any(|c| matches!(c, Control::Apply(Command::StartFlood(_))));
        if close || started {
            self.overlay = Overlay::None;
        }
        if started {
            self.notice = None;
        }
        controls
    }

    /// Guided mode on or off (the driver pauses at each step's moment).
    pub(super) fn toggle_guided(&mut self) -> Vec<Control> {
        let on = !self.frame.pace.guided;
        let timed = self.frame.lab.lesson.timed_steps().count();
        self.notice = Some(match (on, timed) {
            (true, 0) => "this lab's lesson has no timed steps to stop at".into(),
            (true, n) => format!("guided: the run pauses at each of the lesson's {n} timed steps"),
            (false, _) => "guided mode off".into(),
        });
        vec![Control::Guide(on)]
    }

    /// Paused by guided mode at a step's moment: say what to press, once.
    pub(super) fn announce_guided_step(&mut self) {
        let f = &self.frame;
        if !(f.pace.guided && f.pace.paused) {
            return;
        }
        let now = f.snapshot.now.saturating_since(crate::model::SimTime::ZERO);
        let lesson = &f.lab.lesson;
        let Some(i) = lesson.current_step(now) else {
            return;
        };
        let at_its_moment = lesson.steps[i].at.is_some_and(|at| at.get() == now);
        if at_its_moment && self.step_announced != Some((f.generation, i)) {
            self.step_announced = Some((f.generation, i));
            self.notice = Some(crate::tui::guide::what_to_press(&lesson.steps[i], i + 1));
        }
    }

    /// In `--compare`: keys to both worlds, then A only, then B only.
    pub(super) fn cycle_aim(&mut self) -> Vec<Control> {
        if self.frame.snapshot.twin.is_none() {
            self.notice = Some("one world runs here: --compare 'COMMAND' runs two".into());
            return Vec::new();
        }
        self.aim = self.aim.next();
        self.notice = Some(format!("keys now act on {}", self.aim.name()));
        vec![Control::Aim(self.aim)]
    }
}
