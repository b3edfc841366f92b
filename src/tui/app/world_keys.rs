//! The keys that act on the world: the selected server, chaos, defences,
//! resilience, and the run itself (pause, step, speed, restart).

use super::{Action, App, Overlay};
use crate::engine::ServerState;
use crate::live::Control;
use crate::model::{Cidr, Ip};
use crate::spec::{Command, Dur, FilterSpec, OutlierSpec, Percent, Positive, RateLimitSpec};

/// Highest weight `+` raises a server to (a lab may set more; `+` then does
/// nothing).
const MAX_WEIGHT: u32 = 100;

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

impl App {
    /// The selection and the keys that act on the selected server.
    pub(super) fn on_servers(&mut self, action: Action) -> Vec<Control> {
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
    pub(super) fn on_chaos_and_defences(&mut self, action: Action) -> Vec<Control> {
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
    pub(super) fn on_resilience(&mut self, action: Action) -> Vec<Control> {
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
    pub(super) fn on_run_and_lesson(&mut self, action: Action) -> Vec<Control> {
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
            Action::LessonDown => self.scroll_focused(false),
            Action::LessonUp => self.scroll_focused(true),
            _ => Vec::new(),
        }
    }
}
