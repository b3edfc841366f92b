//! Everything a key, a click or the wheel can ask of the dashboard, and
//! which of it only the simulation can do.

use serde::{Deserialize, Serialize};

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
    /// Inspect the packets of the client behind the selected server's
    /// last pick, as a ladder diagram.
    Inspect,
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
    /// Start typing a filter for the event log.
    FilterLog,
    /// A character typed into the log filter.
    FilterChar(char),
    /// Delete the last character of the log filter.
    FilterBackspace,
    /// Keep the typed filter and leave the filter line.
    FilterConfirm,
    /// Go back to the newest log entries.
    LogNewest,
    /// Scroll the help up.
    HelpUp,
    /// Scroll the help down.
    HelpDown,
    /// Move the focus to the next panel.
    FocusNext,
    /// Save the report of the run so far to a file.
    SaveReport,
    /// Guided mode on or off: pause at each lesson step's moment.
    ToggleGuided,
    /// In `--compare`, send keys to both worlds, A only or B only.
    CycleAim,
    /// Maximise the focused panel, or restore the layout.
    ToggleMaximise,
    /// Save the run so far as a run file.
    SaveRun,
    /// Rewind 10 s of simulated time.
    RewindBack,
    /// Jump 10 s of simulated time forward.
    RewindForward,
    /// Start typing a moment to go to.
    GoToTime,
    /// A character typed into the moment to go to.
    GoToChar(char),
    /// Delete the last character of the moment to go to.
    GoToBackspace,
    /// Go to the typed moment.
    GoToConfirm,
}

/// Why `action` does nothing on a real proxy, if it does nothing there.
pub(crate) fn simulation_only(action: Action) -> Option<&'static str> {
    match action {
        Action::Flood => Some(
            "SYN floods are simulation-only: spoofed packets need raw sockets a proxy does not have",
        ),
        Action::KillRandomClient => Some("a real proxy's clients are not its to kill"),
        Action::Inspect => Some("a real proxy's packets are the kernel's: no inspector"),
        Action::CycleCookies => Some(
            "SYN cookies are the kernel's on real sockets (net.ipv4.tcp_syncookies), not the proxy's",
        ),
        Action::TogglePause | Action::Step | Action::Slower | Action::Faster => {
            Some("a real proxy runs in real time: no pause, step or speed")
        }
        Action::Restart | Action::Labs | Action::ToggleGuided => {
            Some("a real proxy runs its configuration, not a lab")
        }
        Action::SaveRun | Action::RewindBack | Action::RewindForward | Action::GoToTime => {
            Some("a real proxy's run cannot be replayed or rewound: its clients are real")
        }
        Action::ToggleSlowStart
        | Action::ToggleEjection
        | Action::TogglePanic
        | Action::ToggleRedispatch => {
            Some("slow start, ejection, panic and redispatch are the simulation's for now")
        }
        _ => None,
    }
}
