//! The keys of runs as data: save the run file, rewind and jump forward,
//! go to a typed moment; and what the status bar says when the driver
//! saved a run or a key branched a replay.

use super::{Action, App, Overlay};
use crate::live::{Control, LiveFrame, Seek};
use crate::model::{SimDuration, SimTime};

/// How far `<` and `>` jump.
pub const JUMP: SimDuration = SimDuration::from_secs(10);

/// Longest moment typed into the go-to field, in characters.
const GOTO_MAX: usize = 16;

impl App {
    /// Save the run, rewind, jump, open the go-to field.
    pub(super) fn on_runs(&mut self, action: Action) -> Vec<Control> {
        match action {
            Action::SaveRun => vec![Control::SaveRun],
            Action::RewindBack => {
                self.notice = Some(format!("rewinding {JUMP}…"));
                vec![Control::Seek(Seek::Back(JUMP))]
            }
            Action::RewindForward => {
                self.notice = Some(format!("jumping {JUMP} forward…"));
                vec![Control::Seek(Seek::Forward(JUMP))]
            }
            Action::GoToTime => {
                self.overlay = Overlay::GoTo(String::new());
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// A key while the go-to field is open; `None` lets the key act as
    /// anywhere else (Ctrl-C).
    pub(super) fn on_goto_field(&mut self, action: Action) -> Option<Vec<Control>> {
        let Overlay::GoTo(text) = &mut self.overlay else {
            return None;
        };
        match action {
            Action::GoToChar(c) if text.chars().count() < GOTO_MAX => text.push(c),
            Action::GoToChar(_) => {
                self.notice = Some(format!("a moment is {GOTO_MAX} characters at most"));
            }
            Action::GoToBackspace => {
                text.pop();
            }
            Action::Close => self.overlay = Overlay::None,
            Action::GoToConfirm => {
                let typed = text.trim().to_string();
                self.overlay = Overlay::None;
                return Some(match parse_moment(&typed) {
                    Ok(t) => {
                        self.notice =
                            Some(format!("going to t={}…", t.saturating_since(SimTime::ZERO)));
                        vec![Control::Seek(Seek::To(t))]
                    }
                    Err(why) => {
                        self.notice = Some(why);
                        Vec::new()
                    }
                });
            }
            _ => return None,
        }
        Some(Vec::new())
    }

    /// What changed in the recording between the frame shown and `next`,
    /// said on the status bar: a save (where it went), a branch.
    pub(super) fn notice_run_changes(&mut self, next: &LiveFrame) {
        let (was, now) = (&self.frame.run, &next.run);
        if now.saves != was.saves
            && let Some(text) = &now.saved
        {
            self.notice = Some(text.clone());
        }
        if let (None, Some(at)) = (was.branched_at, now.branched_at) {
            self.notice = Some(format!(
                "branched a new run at t={}: the rest of the replay is dropped, and this run is recorded",
                at.saturating_since(SimTime::ZERO)
            ));
        }
    }
}

/// A typed moment: a duration as labs write it (`90s`, `2m`, `1500ms`)
/// or a bare number of seconds.
pub fn parse_moment(typed: &str) -> Result<SimTime, String> {
    let bad = || format!("go to: expected a time like 90, 90s or 2m, found \"{typed}\"");
    if typed.is_empty() {
        return Err(bad());
    }
    let d = match typed.parse::<f64>() {
        Ok(secs) if (0.0..=86_400.0).contains(&secs) => SimDuration::from_secs_f64(secs),
        Ok(_) => return Err(bad()),
        Err(_) => crate::spec::parse_duration(typed).map_err(|_| bad())?,
    };
    Ok(SimTime::ZERO + d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_parse_as_seconds_or_durations() {
        let secs = |s: &str| parse_moment(s).map(|t| t.as_secs_f64());
        assert_eq!(secs("90"), Ok(90.0));
        assert_eq!(secs("2m"), Ok(120.0));
        assert_eq!(secs("150s"), Ok(150.0));
        assert_eq!(secs("1.5s"), Ok(1.5));
        assert!(secs("").is_err());
        assert!(secs("-3").is_err());
        assert!(secs("soon").unwrap_err().contains("90s"));
    }
}
