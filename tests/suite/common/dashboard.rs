//! Helpers for the dashboard's tests: a World run to a moment, an App
//! showing it, a frame drawn to text, keys pressed as a person would.

use super::at;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lblab::live::{Control, LiveFrame, Speed};
use lblab::sim::World;
use lblab::spec::Command;
use lblab::tui::app::App;
use lblab::tui::{keys, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;

/// The built-in `lab` run to `secs`, with each command applied at its
/// time.
pub fn world(lab: &str, secs: f64, cmds: &[(f64, Command)]) -> World {
    let lab = lblab::lab::builtin(lab).expect("built-in lab loads");
    let mut w = World::new(&lab, 1);
    for (t, c) in cmds {
        w.run_until(at(*t));
        w.apply(c.clone());
    }
    w.run_until(at(secs));
    w
}

/// The frame a driver running `w` at ×10 would publish.
pub fn frame(w: &World) -> LiveFrame {
    LiveFrame::still(w, w.lab(), Speed::Factor(10.0))
}

/// A monochrome dashboard showing `w`.
pub fn app(w: &World) -> App {
    App::new(Arc::new(frame(w)), true)
}

/// The dashboard drawn at `width`×`height`, as text.
pub fn render(app: &App, width: u16, height: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    t.draw(|f| view::draw(f, app)).expect("draw");
    t.backend().to_string()
}

/// Presses keys (a character per key; `\n` Enter, `\x1b` Esc, `\t` Tab,
/// `⇤` Shift-Tab, arrows as arrows, `\x08` Backspace) and returns every
/// Control they sent.
pub fn press(app: &mut App, keys_typed: &str) -> Vec<Control> {
    let mut out = Vec::new();
    for c in keys_typed.chars() {
        let (code, modifiers) = match c {
            '\n' => (KeyCode::Enter, KeyModifiers::NONE),
            '\x1b' => (KeyCode::Esc, KeyModifiers::NONE),
            '↑' => (KeyCode::Up, KeyModifiers::NONE),
            '↓' => (KeyCode::Down, KeyModifiers::NONE),
            '←' => (KeyCode::Left, KeyModifiers::NONE),
            '→' => (KeyCode::Right, KeyModifiers::NONE),
            '\x08' => (KeyCode::Backspace, KeyModifiers::NONE),
            '\t' => (KeyCode::Tab, KeyModifiers::NONE),
            '⇤' => (KeyCode::BackTab, KeyModifiers::SHIFT),
            c => (KeyCode::Char(c), KeyModifiers::NONE),
        };
        let event = KeyEvent::new(code, modifiers);
        if let Some(a) = keys::action_for_event(&app.overlay, &event) {
            out.extend(app.update(a));
        }
    }
    out
}

/// The Commands among `controls`.
pub fn commands(controls: &[Control]) -> Vec<Command> {
    controls
        .iter()
        .filter_map(|c| match c {
            Control::Apply(cmd) => Some(cmd.clone()),
            _ => None,
        })
        .collect()
}
