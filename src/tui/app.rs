//! Dashboard state and its one `update`: an Action in, the Controls to send
//! to the live driver out. No terminal here, so every key sequence can be
//! tested as data.

use super::forms::{FloodForm, TimeoutsForm};
use crate::engine::{ServerRow, ServerState};
use crate::lab;
use crate::live::{Control, LiveFrame};
use crate::model::{Cidr, Ip};
use crate::spec::{Algorithm, Command, Dur, FilterSpec, Positive, RateLimitSpec};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Everything a key can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Leave the dashboard.
    Quit,
    /// Close the help, a popup or a notice.
    Close,
    /// Show the help overlay.
    Help,
    /// Select the server above.
    SelectUp,
    /// Select the server below.
    SelectDown,
    /// Kill the selected server.
    KillSelected,
    /// Revive the selected server, or stop draining it.
    ReviveSelected,
    /// Drain the selected server.
    DrainSelected,
    /// Raise the selected server's weight.
    WeightUp,
    /// Lower the selected server's weight.
    WeightDown,
    /// Kill a random server.
    KillRandomServer,
    /// Kill a random client.
    KillRandomClient,
    /// Open the flood popup, or stop the running flood.
    Flood,
    /// Open the algorithm picker.
    Algorithms,
    /// Open the timeouts editor.
    Timeouts,
    /// Pause or resume.
    TogglePause,
    /// Step 100 ms.
    Step,
    /// Run slower.
    Slower,
    /// Run faster.
    Faster,
    /// Restart the lab with the same seed.
    Restart,
    /// Open the lab picker.
    Labs,
    /// Turn the per-source rate limit on or off.
    ToggleRateLimit,
    /// Turn the allow list of the clients' range on or off.
    ToggleAllowList,
    /// Move SYN cookies to their next mode.
    CycleCookies,
    /// Scroll the lesson down.
    LessonDown,
    /// Scroll the lesson up.
    LessonUp,
    /// Previous field or choice in a popup.
    PopupUp,
    /// Next field or choice in a popup.
    PopupDown,
    /// Decrease the value under the cursor.
    PopupLess,
    /// Increase the value under the cursor.
    PopupMore,
    /// Type a digit into the value under the cursor.
    PopupDigit(u8),
    /// Delete the last digit of the value under the cursor.
    PopupBackspace,
    /// Apply the popup.
    PopupConfirm,
}

/// Highest weight `+` raises a server to (a lab may set more; `+` then does
/// nothing).
const MAX_WEIGHT: u32 = 100;

/// Lines the lesson panel scrolls per key press.
const SCROLL_STEP: u16 = 3;

/// The network the `A` key allows: where the simulation's clients live
/// (the spoofed flood sources of 198.18.0.0/15 are outside it).
const KEY_ALLOW_NETWORK: (Ip, u8) = (Ip::new(10, 0, 0, 0), 8);

/// The rate limit the `L` key sets: 20 new connections a second per
/// source, bursts of 40, 65 536 sources remembered.
const KEY_RATE_LIMIT: RateLimitSpec = RateLimitSpec {
    rate: Positive::new_const(20),
    per: Dur::from_secs(1),
    burst: Positive::new_const(40),
    sources: Positive::new_const(65_536),
};

/// What is drawn over the main screen.
#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    /// Nothing.
    None,
    /// The key table.
    Help,
    /// The SYN-flood popup.
    Flood(FloodForm),
    /// The algorithm picker, with the highlighted row.
    Algorithms(usize),
    /// The timeouts editor.
    Timeouts(TimeoutsForm),
    /// The lab picker, with the highlighted row.
    Labs(usize),
}

impl Overlay {
    /// A popup that takes keys for itself is open.
    pub fn is_popup(&self) -> bool {
        matches!(
            self,
            Overlay::Flood(_) | Overlay::Algorithms(_) | Overlay::Timeouts(_) | Overlay::Labs(_)
        )
    }
}

/// The dashboard's state.
pub struct App {
    /// The newest frame from the driver.
    pub frame: Arc<LiveFrame>,
    /// Index of the selected server row.
    pub selected: usize,
    /// What is drawn on top.
    pub overlay: Overlay,
    /// A one-line message for the status bar (what the last key did).
    pub notice: Option<String>,
    /// Set by Quit.
    pub quit: bool,
    /// Draw without colour (`NO_COLOR`).
    pub monochrome: bool,
    /// Lines the lesson panel is scrolled down by.
    pub lesson_scroll: u16,
}

impl App {
    /// A dashboard showing `frame`.
    pub fn new(frame: Arc<LiveFrame>, monochrome: bool) -> App {
        App {
            frame,
            selected: 0,
            overlay: Overlay::None,
            notice: None,
            quit: false,
            monochrome,
            lesson_scroll: 0,
        }
    }

    /// Takes a new frame from the driver.
    pub fn set_frame(&mut self, frame: Arc<LiveFrame>) {
        if frame.generation != self.frame.generation {
            self.selected = 0;
            self.lesson_scroll = 0;
        }
        self.frame = frame;
        let rows = self.frame.snapshot.servers.len();
        self.selected = self.selected.min(rows.saturating_sub(1));
    }

    fn selected_server(&self) -> Option<&ServerRow> {
        self.frame.snapshot.servers.get(self.selected)
    }

    fn on_selected(&mut self, f: impl FnOnce(&ServerRow) -> Option<Command>) -> Vec<Control> {
        match self.selected_server() {
            Some(row) => f(row).map(Control::Apply).into_iter().collect(),
            None => {
                self.notice = Some("no server to act on".into());
                Vec::new()
            }
        }
    }

    /// Applies `action`; returns the controls to send to the driver.
    pub fn update(&mut self, action: Action) -> Vec<Control> {
        if self.overlay.is_popup() && is_popup_action(action) {
            return self.update_popup(action);
        }
        let snap = &self.frame.snapshot;
        let pace = self.frame.pace;
        match action {
            Action::Quit => {
                self.quit = true;
                vec![Control::Quit]
            }
            Action::Close => {
                self.overlay = Overlay::None;
                self.notice = None;
                Vec::new()
            }
            Action::Help => {
                self.overlay = Overlay::Help;
                Vec::new()
            }
            Action::SelectUp => {
                self.selected = self.selected.saturating_sub(1);
                Vec::new()
            }
            Action::SelectDown => {
                let last = snap.servers.len().saturating_sub(1);
                self.selected = (self.selected + 1).min(last);
                Vec::new()
            }
            Action::KillSelected => self.on_selected(|r| {
                (r.state != ServerState::Killed).then(|| Command::KillServer(r.name.clone()))
            }),
            Action::ReviveSelected => self.on_selected(|r| {
                (r.state == ServerState::Killed || r.state == ServerState::Draining)
                    .then(|| Command::ReviveServer(r.name.clone()))
            }),
            Action::DrainSelected => self.on_selected(|r| {
                (r.state == ServerState::Up || r.state == ServerState::Down)
                    .then(|| Command::DrainServer(r.name.clone()))
            }),
            Action::WeightUp => self.on_selected(|r| {
                (r.weight < MAX_WEIGHT).then(|| Command::SetWeight(r.name.clone(), r.weight + 1))
            }),
            Action::WeightDown => self.on_selected(|r| {
                (r.weight > 0).then(|| Command::SetWeight(r.name.clone(), r.weight - 1))
            }),
            Action::KillRandomServer => vec![Control::Apply(Command::KillRandomServer)],
            Action::KillRandomClient => vec![Control::Apply(Command::KillRandomClient)],
            Action::Flood => {
                if snap.floods_active > 0 {
                    vec![Control::Apply(Command::StopFlood)]
                } else {
                    self.overlay = Overlay::Flood(FloodForm::default());
                    Vec::new()
                }
            }
            Action::Algorithms => {
                let current = Algorithm::ALL
                    .iter()
                    .position(|a| *a == snap.settings.algorithm)
                    .unwrap_or(0);
                self.overlay = Overlay::Algorithms(current);
                Vec::new()
            }
            Action::Timeouts => {
                self.overlay = Overlay::Timeouts(TimeoutsForm::from_settings(&snap.settings));
                Vec::new()
            }
            Action::TogglePause => vec![Control::TogglePause],
            Action::Step => vec![Control::Step],
            Action::Slower => vec![Control::SetSpeed(pace.speed.stepped(false))],
            Action::Faster => vec![Control::SetSpeed(pace.speed.stepped(true))],
            Action::Restart => {
                self.overlay = Overlay::None;
                vec![Control::Restart]
            }
            Action::ToggleRateLimit => {
                let on = snap.settings.defences.rate_limit.is_some();
                let spec = (!on).then_some(KEY_RATE_LIMIT);
                vec![Control::Apply(Command::SetRateLimit(spec))]
            }
            Action::CycleCookies => {
                let mode = snap.settings.defences.syn_cookies.next();
                vec![Control::Apply(Command::SetSynCookies(mode))]
            }
            Action::ToggleAllowList => {
                let on = !snap.settings.defences.filter.is_empty();
                let filter = if on {
                    FilterSpec::default()
                } else {
                    let clients = Cidr::new(KEY_ALLOW_NETWORK.0, KEY_ALLOW_NETWORK.1);
                    FilterSpec {
                        allow: clients.into_iter().collect(),
                        deny: Vec::new(),
                    }
                };
                vec![Control::Apply(Command::SetFilter(filter))]
            }
            Action::Labs => {
                let current = lab::BUILTIN
                    .iter()
                    .position(|(name, _)| *name == self.frame.lab.name)
                    .unwrap_or(0);
                self.overlay = Overlay::Labs(current);
                Vec::new()
            }
            Action::LessonDown => {
                let lesson = &self.frame.lab.lesson;
                // Logical lines: two per objective and per paragraph, one per
                // step, and a heading; wrapping only adds to it.
                let lines =
                    2 * (snap.objectives.len() + lesson.text.len()) + lesson.steps.len() + 2;
                let max = u16::try_from(lines).unwrap_or(u16::MAX);
                self.lesson_scroll = self.lesson_scroll.saturating_add(SCROLL_STEP).min(max);
                Vec::new()
            }
            Action::LessonUp => {
                self.lesson_scroll = self.lesson_scroll.saturating_sub(SCROLL_STEP);
                Vec::new()
            }
            // Popup actions with no popup open do nothing.
            _ => Vec::new(),
        }
    }

    fn update_popup(&mut self, action: Action) -> Vec<Control> {
        let mut close = false;
        let out = match &mut self.overlay {
            Overlay::Flood(form) => match action {
                Action::PopupUp => form.move_cursor(false),
                Action::PopupDown => form.move_cursor(true),
                Action::PopupLess => form.adjust(false),
                Action::PopupMore => form.adjust(true),
                Action::PopupDigit(d) => form.digit(d),
                Action::PopupBackspace => form.backspace(),
                Action::PopupConfirm => match form.spec() {
                    Ok(spec) => {
                        return self.finish_popup(vec![Control::Apply(Command::StartFlood(spec))]);
                    }
                    Err(why) => {
                        self.notice = Some(why);
                        Vec::new()
                    }
                },
                _ => Vec::new(),
            },
            Overlay::Algorithms(i) => match action {
                Action::PopupUp | Action::PopupLess => {
                    *i = i.checked_sub(1).unwrap_or(Algorithm::ALL.len() - 1);
                    Vec::new()
                }
                Action::PopupDown | Action::PopupMore => {
                    *i = (*i + 1) % Algorithm::ALL.len();
                    Vec::new()
                }
                Action::PopupDigit(d) if (1..=Algorithm::ALL.len() as u8).contains(&d) => {
                    *i = usize::from(d - 1);
                    Vec::new()
                }
                Action::PopupConfirm => {
                    close = true;
                    vec![Control::Apply(Command::SetAlgorithm(Algorithm::ALL[*i]))]
                }
                _ => Vec::new(),
            },
            Overlay::Timeouts(form) => match action {
                Action::PopupUp => form.move_cursor(false),
                Action::PopupDown => form.move_cursor(true),
                Action::PopupLess => form.adjust(false).into_iter().map(Control::Apply).collect(),
                Action::PopupMore => form.adjust(true).into_iter().map(Control::Apply).collect(),
                Action::PopupConfirm => {
                    close = true;
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Overlay::Labs(i) => {
                let n = lab::BUILTIN.len().max(1);
                match action {
                    Action::PopupUp | Action::PopupLess => {
                        *i = (*i + n - 1) % n;
                        Vec::new()
                    }
                    Action::PopupDown | Action::PopupMore => {
                        *i = (*i + 1) % n;
                        Vec::new()
                    }
                    Action::PopupConfirm => {
                        let name = lab::BUILTIN
                            .get(*i)
                            .map(|(name, _)| *name)
                            .unwrap_or_default();
                        match lab::builtin(name) {
                            Ok(lab) => {
                                close = true;
                                let seed = lab.seed;
                                vec![Control::Load(Box::new(lab), seed)]
                            }
                            Err(e) => {
                                self.notice = Some(e.to_string());
                                Vec::new()
                            }
                        }
                    }
                    _ => Vec::new(),
                }
            }
            Overlay::None | Overlay::Help => Vec::new(),
        };
        if close {
            self.overlay = Overlay::None;
        }
        out
    }

    fn finish_popup(&mut self, controls: Vec<Control>) -> Vec<Control> {
        self.overlay = Overlay::None;
        self.notice = None;
        controls
    }
}

fn is_popup_action(a: Action) -> bool {
    matches!(
        a,
        Action::PopupUp
            | Action::PopupDown
            | Action::PopupLess
            | Action::PopupMore
            | Action::PopupDigit(_)
            | Action::PopupBackspace
            | Action::PopupConfirm
    )
}
