//! The status bar: the notice the last key left, then the keys that matter
//! in this context (running, paused, a picker, a form, an overlay), as many
//! as fit, most useful first.

use crate::text::escape;
use crate::tui::app::{Action, App, Overlay, simulation_only};
use crate::tui::keys;
use crate::tui::theme::Theme;
use crate::tui::view::header::cut_at_word;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// A key hint: the key as written, and what it does here.
type Hint = (String, &'static str);

/// Draws the status bar into `area` (one line).
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let width = usize::from(area.width);
    let mut used = 0;
    let mut spans = Vec::new();
    if let Overlay::GoTo(typed) = &app.overlay {
        // The field being typed, with a cursor, before anything else.
        let text = format!(" go to t= {}▏ ", escape(typed));
        used += text.chars().count() + 1;
        spans.push(Span::styled(text, theme.key));
        spans.push(Span::styled("│", theme.dim));
    }
    if let Some(n) = &app.notice {
        // A notice (what the last key did, or what guided mode says to
        // press) matters more than the hints: it may take all but the
        // room of "? help q quit". It may quote a lab's name or a file's
        // error text, so it is escaped.
        let room = width.saturating_sub(20);
        let text = format!(" {} ", cut_at_word(&escape(n), room));
        used += text.chars().count() + 1;
        spans.push(Span::styled(text, theme.warn));
        spans.push(Span::styled("│", theme.dim));
    }
    for (key, what) in hints(app) {
        let piece = 1 + key.chars().count() + 1 + what.chars().count() + 1;
        if used + piece > width {
            break;
        }
        used += piece;
        spans.push(Span::styled(format!(" {key}"), theme.key));
        spans.push(Span::styled(format!(" {what} "), theme.dim));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The hints for what is on screen now, most useful first.
pub fn hints(app: &App) -> Vec<Hint> {
    let fixed = |k: &str, what: &'static str| (k.to_string(), what);
    match &app.overlay {
        Overlay::Help => vec![fixed("any key", "closes the help")],
        Overlay::Filter => vec![
            fixed("type", "words to keep"),
            fixed("Enter", "keep the filter"),
            fixed("Esc", "drop it"),
        ],
        Overlay::GoTo(_) => vec![
            fixed("type", "a time: 90s, 2m"),
            fixed("Enter", "go"),
            fixed("Esc", "cancel"),
        ],
        Overlay::Why | Overlay::Detail(_) | Overlay::Ladder => vec![fixed("any key", "closes")],
        Overlay::Summary => vec![
            fixed("space", "run on"),
            fixed("R", "restart"),
            fixed("l", "another lab"),
            fixed("q", "quit"),
            fixed("Esc", "close"),
        ],
        Overlay::Algorithms(_) | Overlay::Labs(_) => {
            let mut h = vec![
                fixed("↑↓", "choose"),
                fixed("Enter", "apply"),
                fixed("Esc", "close"),
            ];
            if matches!(app.overlay, Overlay::Algorithms(_)) {
                h.insert(1, fixed("1-9", "jump"));
            }
            h.extend(popup_run_hint(app));
            h.push(fixed("?", "help"));
            h
        }
        Overlay::Flood(_) | Overlay::Timeouts(_) => {
            let mut h = vec![
                fixed("Tab", "next field"),
                fixed("←→", "change"),
                fixed("0-9", "type"),
                fixed("Enter", "apply"),
                fixed("Esc", "close"),
            ];
            h.extend(popup_run_hint(app));
            h.push(fixed("?", "help"));
            h
        }
        Overlay::None => main_hints(app),
    }
}

/// Space inside a popup: let the held world run, or pause it.
fn popup_run_hint(app: &App) -> Option<Hint> {
    if app.frame.real_time {
        return None;
    }
    Some(if app.frame.pace.held {
        ("space".into(), "run behind")
    } else {
        ("space".into(), "pause")
    })
}

/// The main screen's hints: what a paused or running world offers.
fn main_hints(app: &App) -> Vec<Hint> {
    let paused = app.frame.pace.paused;
    let order: &[(Action, &'static str)] = if paused {
        &[
            (Action::TogglePause, "resume"),
            (Action::Step, "step"),
            (Action::KillSelected, "kill"),
            (Action::ReviveSelected, "revive"),
            (Action::Flood, "flood"),
            (Action::Algorithms, "algorithm"),
            (Action::Detail, "detail"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ]
    } else {
        &[
            (Action::TogglePause, "pause"),
            (Action::KillSelected, "kill"),
            (Action::ReviveSelected, "revive"),
            (Action::Flood, "flood"),
            (Action::Algorithms, "algorithm"),
            (Action::Slower, "slower"),
            (Action::Faster, "faster"),
            (Action::Detail, "detail"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ]
    };
    let real_time = app.frame.real_time;
    let mut hints: Vec<Hint> = order
        .iter()
        .filter(|(a, _)| !real_time || simulation_only(*a).is_none())
        .filter_map(|(a, what)| keys::key_of(*a, false).map(|k| (k, *what)))
        .collect();
    // Help and quit are the two a newcomer must always see: they go first
    // when the bar is narrow, so they are never the ones cut.
    hints.rotate_right(2);
    hints
}
