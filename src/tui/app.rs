//! Dashboard state and its one `update`: an Action in, the Controls to send
//! to the live driver out. No terminal here, so every key sequence can be
//! tested as data.

use super::forms::{FloodForm, TimeoutsForm};
use super::log_view::LogView;
use super::popup_keys::is_popup_action;
use crate::engine::ServerRow;
use crate::lab;
use crate::live::{Control, LiveFrame};
use crate::spec::{Algorithm, Command};
use std::sync::Arc;

mod action;
mod inspect;
mod mouse;
mod overlays;
mod panels;
mod runs;
mod world_keys;

pub use action::Action;
pub(crate) use action::simulation_only;
pub use overlays::report_file_name;
pub use panels::Panel;

/// What is drawn over the main screen.
#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    /// Nothing.
    None,
    /// The key table.
    Help,
    /// The selected server's last picks and what the algorithm saw.
    Why,
    /// The connection inspector: a client's packets as a ladder diagram.
    Ladder,
    /// The SYN-flood popup.
    Flood(FloodForm),
    /// The algorithm picker, with the highlighted row.
    Algorithms(usize),
    /// The timeouts editor.
    Timeouts(Box<TimeoutsForm>),
    /// The lab picker, with the highlighted row.
    Labs(usize),
    /// One server's drill-down, by row index.
    Detail(usize),
    /// The end-of-lab summary.
    Summary,
    /// The log filter being typed (on the status line).
    Filter,
    /// A moment to go to being typed (on the status line).
    GoTo(String),
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
    /// Weights the keys have sent that no snapshot shows yet: a second
    /// press builds on the first, not on a snapshot that predates it.
    weights_sent: Vec<(String, u32)>,
    /// The latency histogram panel is shown.
    pub show_histogram: bool,
    /// The panel keys and the wheel act on.
    pub focus: Panel,
    /// The focused panel fills the body.
    pub maximised: bool,
    /// Opening a popup holds the world still (`--popups-run` turns it
    /// off).
    pub popups_pause: bool,
    /// This app asked the driver to hold the world for a popup.
    holding: bool,
    /// Space let the world run behind the open popup: do not hold it
    /// again until the popup closes.
    released: bool,
    /// The popup the help was opened over, shown again when it closes.
    under_help: Option<Overlay>,
    /// The generation whose end-of-lab summary has been shown.
    summary_shown: Option<u64>,
    /// The lesson step guided mode last announced, and in which run.
    step_announced: Option<(u64, usize)>,
    /// Every log entry of the run, scrolled and filtered.
    pub log: LogView,
    /// Lines the help is scrolled down by.
    pub help_scroll: u16,
    /// In `--compare`, the world(s) the keys act on.
    pub aim: crate::engine::Aim,
}

impl App {
    /// A dashboard showing `frame`.
    pub fn new(frame: Arc<LiveFrame>, monochrome: bool) -> App {
        let mut log = LogView::default();
        log.take(&frame.snapshot);
        App {
            frame,
            selected: 0,
            overlay: Overlay::None,
            notice: None,
            quit: false,
            monochrome,
            lesson_scroll: 0,
            weights_sent: Vec::new(),
            show_histogram: false,
            focus: Panel::Servers,
            maximised: false,
            popups_pause: true,
            holding: false,
            released: false,
            under_help: None,
            summary_shown: None,
            step_announced: None,
            log,
            help_scroll: 0,
            aim: crate::engine::Aim::Both,
        }
    }

    /// Takes a new frame from the driver.
    pub fn set_frame(&mut self, frame: Arc<LiveFrame>) {
        if frame.generation != self.frame.generation {
            self.selected = 0;
            self.lesson_scroll = 0;
        }
        if frame.generation != self.frame.generation {
            self.weights_sent.clear();
            self.log.restart();
        }
        self.notice_run_changes(&frame);
        self.frame = frame;
        self.log.take(&self.frame.snapshot);
        // A weight the snapshot shows has been applied; keep the rest.
        let rows_now = &self.frame.snapshot.servers;
        self.weights_sent.retain(|(name, w)| {
            rows_now
                .iter()
                .find(|r| &r.name == name)
                .is_some_and(|r| r.weight != *w)
        });
        let rows = self.frame.snapshot.servers.len();
        self.selected = self.selected.min(rows.saturating_sub(1));
        self.open_summary_at_the_end();
        self.announce_guided_step();
    }

    pub(super) fn selected_server(&self) -> Option<&ServerRow> {
        self.frame.snapshot.servers.get(self.selected)
    }

    /// Applies what `f` makes of the selected server, or shows why it
    /// cannot.
    fn on_selected(
        &mut self,
        f: impl FnOnce(&ServerRow) -> Result<Command, String>,
    ) -> Vec<Control> {
        match self.selected_server().map(f) {
            Some(Ok(command)) => vec![Control::Apply(command)],
            // A key that cannot act says why, instead of doing nothing.
            Some(Err(why)) => {
                self.notice = Some(why);
                Vec::new()
            }
            None => {
                self.notice = Some("no server to act on".into());
                Vec::new()
            }
        }
    }

    /// Applies `action`; returns the controls to send to the driver.
    pub fn update(&mut self, action: Action) -> Vec<Control> {
        let mut controls = self.update_overlay_or_main(action);
        controls.extend(self.hold_for_overlay());
        controls
    }

    fn update_overlay_or_main(&mut self, action: Action) -> Vec<Control> {
        if self.overlay == Overlay::Summary {
            match action {
                Action::SaveReport | Action::Help | Action::Quit => {}
                Action::Close => {
                    self.overlay = Overlay::None;
                    return Vec::new();
                }
                // Space runs on past the end; any other key acts on the
                // screen behind the summary, which closes first.
                _ => self.overlay = Overlay::None,
            }
        }
        if matches!(self.overlay, Overlay::GoTo(_))
            && let Some(controls) = self.on_goto_field(action)
        {
            return controls;
        }
        if self.overlay.is_popup()
            && let Some(controls) = self.popup_shared_key(action)
        {
            return controls;
        }
        if self.overlay == Overlay::Filter && action == Action::Close {
            // Esc while typing a filter drops it.
            self.log.filter.clear();
            self.log.scroll = 0;
        }
        if self.overlay == Overlay::Help
            && action == Action::Close
            && let Some(under) = self.under_help.take()
        {
            self.overlay = under;
            return Vec::new();
        }
        if self.overlay.is_popup() && is_popup_action(action) {
            return self.update_popup(action);
        }
        if self.frame.real_time
            && let Some(why) = simulation_only(action)
        {
            self.notice = Some(why.into());
            return Vec::new();
        }
        match action {
            Action::Quit
            | Action::Close
            | Action::Help
            | Action::Why
            | Action::Flood
            | Action::Algorithms
            | Action::Timeouts
            | Action::Labs => self.open_or_leave(action),
            Action::SelectUp
            | Action::SelectDown
            | Action::KillSelected
            | Action::ReviveSelected
            | Action::DrainSelected
            | Action::WeightUp
            | Action::WeightDown => self.on_servers(action),
            Action::KillRandomServer
            | Action::KillRandomClient
            | Action::ToggleRateLimit
            | Action::CycleCookies
            | Action::ToggleAllowList => self.on_chaos_and_defences(action),
            Action::ToggleSlowStart
            | Action::ToggleEjection
            | Action::TogglePanic
            | Action::ToggleRedispatch
            | Action::ToggleSticky => self.on_resilience(action),
            Action::TogglePause
            | Action::Step
            | Action::Slower
            | Action::Faster
            | Action::Restart
            | Action::LessonDown
            | Action::LessonUp => self.on_run_and_lesson(action),
            Action::SaveReport => vec![Control::SaveReport(report_file_name(self).into())],
            Action::SaveRun | Action::RewindBack | Action::RewindForward | Action::GoToTime => {
                self.on_runs(action)
            }
            Action::ToggleGuided => self.toggle_guided(),
            Action::CycleAim => self.cycle_aim(),
            Action::Inspect => self.inspect_selected(),
            Action::Detail
            | Action::ToggleHistogram
            | Action::FocusNext
            | Action::ToggleMaximise
            | Action::FilterLog
            | Action::FilterChar(_)
            | Action::FilterBackspace
            | Action::FilterConfirm
            | Action::LogNewest
            | Action::HelpUp
            | Action::HelpDown => self.on_view(action),
            // Popup actions with no popup open do nothing.
            _ => Vec::new(),
        }
    }

    /// Quit, close, help, and the keys that open a popup.
    fn open_or_leave(&mut self, action: Action) -> Vec<Control> {
        let snap = &self.frame.snapshot;
        self.overlay = match action {
            Action::Quit => {
                self.quit = true;
                return vec![Control::Quit];
            }
            Action::Close => {
                self.notice = None;
                Overlay::None
            }
            Action::Help => {
                self.help_scroll = 0;
                Overlay::Help
            }
            Action::Why => Overlay::Why,
            // A running flood stops; otherwise the flood popup opens.
            Action::Flood if snap.floods_active > 0 => {
                return vec![Control::Apply(Command::StopFlood)];
            }
            Action::Flood => Overlay::Flood(FloodForm::default()),
            Action::Algorithms => Overlay::Algorithms(
                Algorithm::ALL
                    .iter()
                    .position(|a| a.name() == snap.settings.algorithm.name())
                    .unwrap_or(0),
            ),
            Action::Timeouts => {
                Overlay::Timeouts(Box::new(TimeoutsForm::from_settings(&snap.settings)))
            }
            Action::Labs => Overlay::Labs(
                lab::BUILTIN
                    .iter()
                    .position(|(name, _)| *name == self.frame.lab.name)
                    .unwrap_or(0),
            ),
            _ => return Vec::new(),
        };
        Vec::new()
    }
}
