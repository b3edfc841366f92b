//! The one key table: every key the dashboard knows, the Action it means,
//! and the line the help overlay prints for it. Keys not in the table are
//! ignored, in every state.

use super::app::{Action, Overlay};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// A key as the table names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A printable character (its case matters).
    Char(char),
    /// The character with Ctrl held.
    Ctrl(char),
    /// Escape.
    Esc,
    /// Enter.
    Enter,
    /// Backspace.
    Backspace,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// End.
    End,
}

impl Key {
    /// The key of a terminal event, if the table could name it.
    pub fn from_event(e: &KeyEvent) -> Option<Key> {
        if e.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        Some(match e.code {
            KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
            KeyCode::Char(c) => Key::Char(c),
            KeyCode::Esc => Key::Esc,
            KeyCode::Enter => Key::Enter,
            KeyCode::Backspace => Key::Backspace,
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::Left => Key::Left,
            KeyCode::Right => Key::Right,
            KeyCode::Tab => Key::Tab,
            KeyCode::BackTab => Key::BackTab,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::End => Key::End,
            _ => return None,
        })
    }

    /// How help and hints write the key.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Esc => "Esc".into(),
            Key::Enter => "Enter".into(),
            Key::Backspace => "Backspace".into(),
            Key::Up => "↑".into(),
            Key::Down => "↓".into(),
            Key::Left => "←".into(),
            Key::Right => "→".into(),
            Key::Tab => "Tab".into(),
            Key::BackTab => "Shift-Tab".into(),
            Key::PageUp => "PgUp".into(),
            Key::PageDown => "PgDn".into(),
            Key::End => "End".into(),
        }
    }
}

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere, popups included.
    Global,
    /// The main screen (no popup open).
    Main,
    /// Inside a popup (flood, algorithm picker, timeouts editor).
    Popup,
}

/// One line of the key table.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    /// Where it applies.
    pub scope: Scope,
    /// The keys that trigger it.
    pub keys: &'static [Key],
    /// What they do.
    pub action: Action,
    /// What the help overlay says.
    pub help: &'static str,
    /// A word or two for the status bar, for the bindings it shows.
    pub hint: Option<&'static str>,
}

const fn bind(scope: Scope, keys: &'static [Key], action: Action, help: &'static str) -> Binding {
    Binding {
        scope,
        keys,
        action,
        help,
        hint: None,
    }
}

const fn hinted(
    scope: Scope,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    hint: &'static str,
) -> Binding {
    Binding {
        scope,
        keys,
        action,
        help,
        hint: Some(hint),
    }
}

/// Every binding, in the order the help overlay lists them.
pub const KEYS: &[Binding] = &[
    bind(Scope::Global, &[Key::Ctrl('c')], Action::Quit, "quit"),
    hinted(Scope::Main, &[Key::Char('q')], Action::Quit, "quit", "quit"),
    hinted(
        Scope::Main,
        &[Key::Char('?')],
        Action::Help,
        "this help",
        "help",
    ),
    bind(
        Scope::Main,
        &[Key::Up, Key::Char('k')],
        Action::SelectUp,
        "select the server above",
    ),
    bind(
        Scope::Main,
        &[Key::Down, Key::Char('j')],
        Action::SelectDown,
        "select the server below",
    ),
    hinted(
        Scope::Main,
        &[Key::Char('x')],
        Action::KillSelected,
        "kill the selected server",
        "kill",
    ),
    hinted(
        Scope::Main,
        &[Key::Char('r')],
        Action::ReviveSelected,
        "revive the selected server (or stop draining it)",
        "revive",
    ),
    hinted(
        Scope::Main,
        &[Key::Char('d')],
        Action::DrainSelected,
        "drain the selected server",
        "drain",
    ),
    bind(
        Scope::Main,
        &[Key::Char('+'), Key::Char('=')],
        Action::WeightUp,
        "raise the selected server's weight",
    ),
    bind(
        Scope::Main,
        &[Key::Char('-')],
        Action::WeightDown,
        "lower the selected server's weight",
    ),
    bind(
        Scope::Main,
        &[Key::Char('X')],
        Action::KillRandomServer,
        "kill a random server",
    ),
    bind(
        Scope::Main,
        &[Key::Char('C')],
        Action::KillRandomClient,
        "kill a random client",
    ),
    hinted(
        Scope::Main,
        &[Key::Char('f')],
        Action::Flood,
        "SYN flood: open the flood popup, or stop the running flood",
        "flood",
    ),
    hinted(
        Scope::Main,
        &[Key::Char('a')],
        Action::Algorithms,
        "choose the balancing algorithm",
        "algorithm",
    ),
    bind(
        Scope::Main,
        &[Key::Char('w')],
        Action::Why,
        "why: the selected server's last picks and what the algorithm saw",
    ),
    bind(
        Scope::Main,
        &[Key::Char('i')],
        Action::Inspect,
        "inspect: the packets of the selected server's last client, as a ladder",
    ),
    hinted(
        Scope::Main,
        &[Key::Char('t')],
        Action::Timeouts,
        "edit timeouts, retries, health checks, half-open limit",
        "timeouts",
    ),
    hinted(
        Scope::Main,
        &[Key::Char(' ')],
        Action::TogglePause,
        "pause / resume",
        "pause",
    ),
    bind(
        Scope::Main,
        &[Key::Char('.')],
        Action::Step,
        "step 100 ms of simulated time (pauses)",
    ),
    hinted(
        Scope::Main,
        &[Key::Char('[')],
        Action::Slower,
        "slower",
        "slower",
    ),
    hinted(
        Scope::Main,
        &[Key::Char(']')],
        Action::Faster,
        "faster",
        "faster",
    ),
    bind(
        Scope::Main,
        &[Key::Char('R')],
        Action::Restart,
        "restart the lab with the same seed",
    ),
    bind(
        Scope::Main,
        &[Key::Char('L')],
        Action::ToggleRateLimit,
        "rate limit on/off: 20 new connections/s per source, burst 40",
    ),
    bind(
        Scope::Main,
        &[Key::Char('S')],
        Action::CycleCookies,
        "SYN cookies: off, on overflow (at the half-open limit), always",
    ),
    bind(
        Scope::Main,
        &[Key::Char('A')],
        Action::ToggleAllowList,
        "allow list on/off: only the clients' range 10.0.0.0/8 may connect",
    ),
    bind(
        Scope::Main,
        &[Key::Char('U')],
        Action::ToggleSlowStart,
        "slow start on/off: a server that comes up ramps up over 10 s",
    ),
    bind(
        Scope::Main,
        &[Key::Char('E')],
        Action::ToggleEjection,
        "outlier ejection on/off: 5 failed connections in a row eject for 10 s",
    ),
    bind(
        Scope::Main,
        &[Key::Char('P')],
        Action::TogglePanic,
        "panic threshold on/off: below 50% eligible, balance over every server",
    ),
    bind(
        Scope::Main,
        &[Key::Char('D')],
        Action::ToggleRedispatch,
        "redispatch on/off: a SYN a server left unanswered goes elsewhere next",
    ),
    bind(
        Scope::Main,
        &[Key::Char('Y')],
        Action::ToggleSticky,
        "sticky sessions on/off: a client stays on its server for 30 s",
    ),
    bind(
        Scope::Main,
        &[Key::Enter],
        Action::Detail,
        "the selected server in detail: history, probes, connections, picks",
    ),
    bind(
        Scope::Main,
        &[Key::Char('s')],
        Action::SaveReport,
        "save the report so far (as lblab run prints it) to a file",
    ),
    bind(
        Scope::Main,
        &[Key::Char('g')],
        Action::ToggleGuided,
        "guided mode on/off: pause at each lesson step's moment and say what to press",
    ),
    bind(
        Scope::Main,
        &[Key::Char('B')],
        Action::CycleAim,
        "with --compare: keys act on both worlds, A only, or B only",
    ),
    bind(
        Scope::Main,
        &[Key::Char('h')],
        Action::ToggleHistogram,
        "latency histogram panel on/off",
    ),
    bind(
        Scope::Main,
        &[Key::Tab],
        Action::FocusNext,
        "focus the next panel (the wheel and PgUp/PgDn act on it)",
    ),
    bind(
        Scope::Main,
        &[Key::Char('e')],
        Action::ToggleMaximise,
        "maximise the focused panel, or restore the layout",
    ),
    bind(
        Scope::Main,
        &[Key::Char('W')],
        Action::SaveRun,
        "save the run so far as a run file (lblab replay plays it again)",
    ),
    bind(
        Scope::Main,
        &[Key::Char('<')],
        Action::RewindBack,
        "rewind 10 s of simulated time (a key then branches a new run)",
    ),
    bind(
        Scope::Main,
        &[Key::Char('>')],
        Action::RewindForward,
        "jump 10 s of simulated time forward",
    ),
    bind(
        Scope::Main,
        &[Key::Char('T')],
        Action::GoToTime,
        "go to a moment: type a time like 90s or 2m, Enter jumps",
    ),
    hinted(
        Scope::Main,
        &[Key::Char('l')],
        Action::Labs,
        "choose another lab (restarts into it)",
        "labs",
    ),
    bind(
        Scope::Main,
        &[Key::PageDown, Key::Char('J')],
        Action::LessonDown,
        "scroll down: the log when it has the focus (Tab), else the lesson",
    ),
    bind(
        Scope::Main,
        &[Key::PageUp, Key::Char('K')],
        Action::LessonUp,
        "scroll up: the log when it has the focus (Tab), else the lesson",
    ),
    bind(
        Scope::Main,
        &[Key::Char('/')],
        Action::FilterLog,
        "filter the log: type words, Enter keeps the filter, Esc drops it",
    ),
    bind(
        Scope::Main,
        &[Key::End, Key::Char('G')],
        Action::LogNewest,
        "back to the newest log entries",
    ),
    bind(
        Scope::Main,
        &[Key::Esc],
        Action::Close,
        "close the help or a notice",
    ),
    hinted(
        Scope::Popup,
        &[Key::Esc, Key::Char('q')],
        Action::Close,
        "close the popup",
        "close",
    ),
    bind(
        Scope::Popup,
        &[Key::Char(' ')],
        Action::TogglePause,
        "run or stop the world behind the popup (it holds still while open)",
    ),
    bind(Scope::Popup, &[Key::Char('?')], Action::Help, "this help"),
    bind(
        Scope::Popup,
        &[Key::Up, Key::Char('k'), Key::BackTab],
        Action::PopupUp,
        "previous field / choice",
    ),
    hinted(
        Scope::Popup,
        &[Key::Down, Key::Char('j'), Key::Tab],
        Action::PopupDown,
        "next field / choice",
        "next",
    ),
    bind(
        Scope::Popup,
        &[Key::Left, Key::Char('-'), Key::Char('h')],
        Action::PopupLess,
        "decrease the value",
    ),
    hinted(
        Scope::Popup,
        &[Key::Right, Key::Char('+'), Key::Char('l')],
        Action::PopupMore,
        "increase the value",
        "change",
    ),
    bind(
        Scope::Popup,
        &[Key::Backspace],
        Action::PopupBackspace,
        "delete a digit",
    ),
    hinted(
        Scope::Popup,
        &[Key::Enter],
        Action::PopupConfirm,
        "apply / start",
        "apply",
    ),
];

/// The Action a key means with `overlay` open, if any.
pub fn action_for(overlay: &Overlay, key: Key) -> Option<Action> {
    if *overlay == Overlay::Filter {
        return match key {
            Key::Char(c) => Some(Action::FilterChar(c)),
            Key::Backspace => Some(Action::FilterBackspace),
            Key::Enter => Some(Action::FilterConfirm),
            Key::Esc => Some(Action::Close),
            Key::Ctrl('c') => Some(Action::Quit),
            _ => None,
        };
    }
    if matches!(overlay, Overlay::GoTo(_)) {
        return match key {
            Key::Char(c) => Some(Action::GoToChar(c)),
            Key::Backspace => Some(Action::GoToBackspace),
            Key::Enter => Some(Action::GoToConfirm),
            Key::Esc => Some(Action::Close),
            Key::Ctrl('c') => Some(Action::Quit),
            _ => None,
        };
    }
    let in_popup = overlay.is_popup();
    // The help and why overlays close on any key; the key then does
    // nothing else.
    if *overlay == Overlay::Help {
        match key {
            Key::Up | Key::Char('k') | Key::PageUp => return Some(Action::HelpUp),
            Key::Down | Key::Char('j') | Key::PageDown => return Some(Action::HelpDown),
            _ => {}
        }
    }
    if matches!(
        overlay,
        Overlay::Help | Overlay::Why | Overlay::Detail(_) | Overlay::Ladder
    ) && key != Key::Ctrl('c')
    {
        return Some(Action::Close);
    }
    let scope_fits = |s: Scope| match s {
        Scope::Global => true,
        Scope::Main => !in_popup,
        Scope::Popup => in_popup,
    };
    if let Some(b) = KEYS
        .iter()
        .find(|b| scope_fits(b.scope) && b.keys.contains(&key))
    {
        return Some(b.action);
    }
    match key {
        Key::Char(c) if in_popup && c.is_ascii_digit() => Some(Action::PopupDigit(c as u8 - b'0')),
        _ => None,
    }
}

/// The action for a raw terminal key event.
pub fn action_for_event(overlay: &Overlay, e: &KeyEvent) -> Option<Action> {
    Key::from_event(e).and_then(|k| action_for(overlay, k))
}

/// The status-bar hints for the main screen (`popup` false) or a popup:
/// the first key of each hinted binding, with its hint. On a real-time
/// engine, keys that only the simulation can act on are left out.
pub fn hints(popup: bool, real_time: bool) -> impl Iterator<Item = (String, &'static str)> {
    KEYS.iter()
        .filter(move |b| match b.scope {
            Scope::Main => !popup,
            Scope::Popup => popup,
            Scope::Global => false,
        })
        .filter(move |b| !real_time || super::app::simulation_only(b.action).is_none())
        .filter_map(|b| b.hint.map(|h| (b.keys[0].label(), h)))
}

/// The first key bound to `action` in the popup scope (`popup`) or the
/// main screen's, as help writes it.
pub fn key_of(action: Action, popup: bool) -> Option<String> {
    let in_scope = |b: &&Binding| {
        b.action == action
            && match b.scope {
                Scope::Global => false,
                Scope::Main => !popup,
                Scope::Popup => popup,
            }
    };
    // The screen's own key first (q quits, not Ctrl-C), then a global one.
    KEYS.iter()
        .find(in_scope)
        .or_else(|| {
            KEYS.iter()
                .find(|b| b.action == action && b.scope == Scope::Global)
        })
        .map(|b| b.keys[0].label())
}

/// The keys of a binding joined for display (`↑/k`).
pub fn keys_label(b: &Binding) -> String {
    b.keys
        .iter()
        .map(|k| k.label())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests;
