//! Dashboard state and its one `update`: an Action in, the Controls to send
//! to the live driver out. No terminal here, so every key sequence can be
//! tested as data.

use super::forms::{FloodForm, TimeoutsForm};
use super::popup_keys::{algorithms_key, flood_key, is_popup_action, labs_key, timeouts_key};
use crate::engine::{ServerRow, ServerState};
use crate::lab;
use crate::live::{Control, LiveFrame};
use crate::model::{Cidr, Ip};
use crate::spec::{
    Algorithm, Command, Dur, FilterSpec, OutlierSpec, Percent, Positive, RateLimitSpec,
};
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
    /// Show why the selected server got its last picks.
    Why,
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
    /// Slow start on (a 10 s ramp) or off.
    ToggleSlowStart,
    /// Outlier ejection on (5 failures in a row, 10 s) or off.
    ToggleEjection,
    /// The panic threshold on (50%) or off.
    TogglePanic,
    /// Redispatch after one unanswered SYN on or off.
    ToggleRedispatch,
    /// Sticky sessions (30 s) on or off.
    ToggleSticky,
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
    /// Open the selected server's detail view.
    Detail,
    /// Show or hide the latency histogram panel.
    ToggleHistogram,
    /// Move the focus to the next panel.
    FocusNext,
    /// Maximise the focused panel, or restore the layout.
    ToggleMaximise,
}

/// A panel of the main screen, for focus, maximising and the mouse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Panel {
    /// The servers table.
    Servers,
    /// The traffic sparklines.
    Traffic,
    /// The clients' counts by state and failure reason.
    Clients,
    /// The balancer's conn table and half-open gauge.
    Balancer,
    /// The latency histogram (when shown).
    Histogram,
    /// The event log.
    Log,
    /// The lesson.
    Lesson,
}

impl Panel {
    /// Every panel, in focus order.
    pub const ALL: [Panel; 7] = [
        Panel::Servers,
        Panel::Traffic,
        Panel::Clients,
        Panel::Balancer,
        Panel::Histogram,
        Panel::Log,
        Panel::Lesson,
    ];
}

/// Why `action` does nothing on a real proxy, if it does nothing there.
pub(crate) fn simulation_only(action: Action) -> Option<&'static str> {
    match action {
        Action::Flood => Some(
            "SYN floods are simulation-only: spoofed packets need raw sockets a proxy does not have",
        ),
        Action::KillRandomClient => Some("a real proxy's clients are not its to kill"),
        Action::CycleCookies => Some(
            "SYN cookies are the kernel's on real sockets (net.ipv4.tcp_syncookies), not the proxy's",
        ),
        Action::TogglePause | Action::Step | Action::Slower | Action::Faster => {
            Some("a real proxy runs in real time: no pause, step or speed")
        }
        Action::Restart | Action::Labs => Some("a real proxy runs its configuration, not a lab"),
        Action::ToggleSlowStart
        | Action::ToggleEjection
        | Action::TogglePanic
        | Action::ToggleRedispatch => {
            Some("slow start, ejection, panic and redispatch are the simulation's for now")
        }
        _ => None,
    }
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
    /// The selected server's last picks and what the algorithm saw.
    Why,
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
            weights_sent: Vec::new(),
            show_histogram: false,
            focus: Panel::Servers,
            maximised: false,
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
        }
        self.frame = frame;
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
    }

    fn selected_server(&self) -> Option<&ServerRow> {
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
            Action::Detail
            | Action::ToggleHistogram
            | Action::FocusNext
            | Action::ToggleMaximise => self.on_view(action),
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
            Action::Help => Overlay::Help,
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

    /// The selection and the keys that act on the selected server.
    fn on_servers(&mut self, action: Action) -> Vec<Control> {
        match action {
            Action::SelectUp => {
                self.selected = self.selected.saturating_sub(1);
                Vec::new()
            }
            Action::SelectDown => {
                let last = self.frame.snapshot.servers.len().saturating_sub(1);
                self.selected = (self.selected + 1).min(last);
                Vec::new()
            }
            Action::KillSelected => self.on_selected(|r| match r.state {
                ServerState::Killed => Err(format!("{} is already killed", r.name)),
                _ => Ok(Command::KillServer(r.name.clone())),
            }),
            Action::ReviveSelected => self.on_selected(|r| match r.state {
                ServerState::Killed | ServerState::Draining => {
                    Ok(Command::ReviveServer(r.name.clone()))
                }
                _ => Err(format!(
                    "{} is running: r revives a killed server or stops a drain",
                    r.name
                )),
            }),
            Action::DrainSelected => self.on_selected(|r| match r.state {
                ServerState::Up | ServerState::Down | ServerState::Ejected => {
                    Ok(Command::DrainServer(r.name.clone()))
                }
                other => Err(format!(
                    "{} is {}: only a running server drains",
                    r.name,
                    other.name()
                )),
            }),
            Action::WeightUp | Action::WeightDown => {
                let up = action == Action::WeightUp;
                let sent = self.weights_sent.clone();
                let controls = self.on_selected(|r| {
                    // Build on a weight already sent, not on a snapshot
                    // that predates it.
                    let weight = sent
                        .iter()
                        .find(|(n, _)| *n == r.name)
                        .map_or(r.weight, |(_, w)| *w);
                    match (up, weight) {
                        (true, MAX_WEIGHT..) => Err(format!(
                            "{} has weight {MAX_WEIGHT}, the most + sets",
                            r.name
                        )),
                        (false, 0) => Err(format!(
                            "{} has weight 0 already: it takes nothing new",
                            r.name
                        )),
                        (true, w) => Ok(Command::SetWeight(r.name.clone(), w + 1)),
                        (false, w) => Ok(Command::SetWeight(r.name.clone(), w - 1)),
                    }
                });
                for c in &controls {
                    if let Control::Apply(Command::SetWeight(name, w)) = c {
                        self.weights_sent.retain(|(n, _)| n != name);
                        self.weights_sent.push((name.clone(), *w));
                    }
                }
                controls
            }
            _ => Vec::new(),
        }
    }

    /// Random kills, and the keys that toggle a defence.
    fn on_chaos_and_defences(&mut self, action: Action) -> Vec<Control> {
        let defences = &self.frame.snapshot.settings.defences;
        let command = match action {
            Action::KillRandomServer => Command::KillRandomServer,
            Action::KillRandomClient => Command::KillRandomClient,
            Action::ToggleRateLimit => {
                let on = defences.rate_limit.is_some();
                Command::SetRateLimit((!on).then_some(KEY_RATE_LIMIT))
            }
            Action::CycleCookies => Command::SetSynCookies(defences.syn_cookies.next()),
            Action::ToggleAllowList if defences.filter.is_empty() => {
                let clients = Cidr::new(KEY_ALLOW_NETWORK.0, KEY_ALLOW_NETWORK.1);
                Command::SetFilter(FilterSpec {
                    allow: clients.into_iter().collect(),
                    deny: Vec::new(),
                })
            }
            Action::ToggleAllowList => Command::SetFilter(FilterSpec::default()),
            _ => return Vec::new(),
        };
        vec![Control::Apply(command)]
    }

    /// The resilience keys: each setting on with the values its key
    /// documents, or off.
    fn on_resilience(&mut self, action: Action) -> Vec<Control> {
        let r = &self.frame.snapshot.settings.resilience;
        let command = match action {
            Action::ToggleSlowStart => {
                Command::SetSlowStart(r.slow_start.is_none().then_some(Dur::from_secs(10)))
            }
            Action::ToggleEjection => {
                Command::SetOutlierEjection(r.outlier_ejection.is_none().then(OutlierSpec::default))
            }
            Action::TogglePanic => Command::SetPanicThreshold(
                r.panic_threshold
                    .is_none()
                    .then_some(Percent::new_const(50)),
            ),
            Action::ToggleRedispatch => {
                Command::SetRedispatch(r.redispatch.is_none().then_some(Positive::new_const(1)))
            }
            Action::ToggleSticky => {
                Command::SetSticky(r.sticky.is_none().then_some(Dur::from_secs(30)))
            }
            _ => return Vec::new(),
        };
        vec![Control::Apply(command)]
    }

    /// Pause, step, speed, restart, and the lesson's scrolling.
    fn on_run_and_lesson(&mut self, action: Action) -> Vec<Control> {
        let speed = self.frame.pace.speed;
        match action {
            Action::TogglePause => vec![Control::TogglePause],
            Action::Step => vec![Control::Step],
            Action::Slower => vec![Control::SetSpeed(speed.stepped(false))],
            Action::Faster => vec![Control::SetSpeed(speed.stepped(true))],
            Action::Restart => {
                self.overlay = Overlay::None;
                vec![Control::Restart]
            }
            Action::LessonDown => {
                let lesson = &self.frame.lab.lesson;
                let objectives = self.frame.snapshot.objectives.len();
                // Logical lines: two per objective and per paragraph, one per
                // step, and a heading; wrapping only adds to it.
                let lines = 2 * (objectives + lesson.text.len()) + lesson.steps.len() + 2;
                let max = u16::try_from(lines).unwrap_or(u16::MAX);
                self.lesson_scroll = self.lesson_scroll.saturating_add(SCROLL_STEP).min(max);
                Vec::new()
            }
            Action::LessonUp => {
                self.lesson_scroll = self.lesson_scroll.saturating_sub(SCROLL_STEP);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The keys that change what the screen shows, not the world.
    fn on_view(&mut self, action: Action) -> Vec<Control> {
        match action {
            Action::Detail if self.selected_server().is_some() => {
                self.overlay = Overlay::Detail(self.selected);
            }
            Action::Detail => self.notice = Some("no server to show".into()),
            Action::ToggleHistogram => {
                self.show_histogram = !self.show_histogram;
                if !self.show_histogram && self.focus == Panel::Histogram {
                    self.focus = Panel::Traffic;
                }
            }
            Action::FocusNext => self.focus = self.next_panel(self.focus),
            Action::ToggleMaximise => self.maximised = !self.maximised,
            _ => {}
        }
        Vec::new()
    }

    /// The panel after `panel` in focus order, skipping hidden ones.
    fn next_panel(&self, panel: Panel) -> Panel {
        let at = Panel::ALL.iter().position(|p| *p == panel).unwrap_or(0);
        (1..=Panel::ALL.len())
            .map(|i| Panel::ALL[(at + i) % Panel::ALL.len()])
            .find(|p| *p != Panel::Histogram || self.show_histogram)
            .unwrap_or(Panel::Servers)
    }

    /// A key while a popup is open goes to the popup.
    fn update_popup(&mut self, action: Action) -> Vec<Control> {
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
            Overlay::None | Overlay::Help | Overlay::Why | Overlay::Detail(_) => {
                (Vec::new(), false)
            }
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
}
