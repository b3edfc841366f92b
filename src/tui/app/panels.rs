//! The keys that change what the screen shows, not the world: focus,
//! maximising, the detail view, the histogram, scrolling, the log filter.

use super::{Action, App, Overlay};
use crate::live::Control;
use serde::{Deserialize, Serialize};

/// Lines the lesson panel scrolls per key press.
const SCROLL_STEP: u16 = 3;

/// Log entries a key press scrolls by.
const LOG_STEP: usize = 5;

/// Longest log filter kept.
const FILTER_MAX: usize = 60;

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

impl App {
    /// Focus, maximise, detail, histogram and the log filter.
    pub(super) fn on_view(&mut self, action: Action) -> Vec<Control> {
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
            Action::FilterLog => {
                self.overlay = Overlay::Filter;
                self.focus = Panel::Log;
            }
            Action::FilterChar(c) if self.log.filter.chars().count() < FILTER_MAX => {
                self.log.filter.push(c);
                self.log.scroll = 0;
            }
            Action::FilterChar(_) => {
                self.notice = Some(format!("a filter holds {FILTER_MAX} characters at most"));
            }
            Action::FilterBackspace => {
                self.log.filter.pop();
                self.log.scroll = 0;
            }
            Action::FilterConfirm => self.overlay = Overlay::None,
            Action::LogNewest => self.log.scroll = 0,
            // The view stops at the help's end, however far this goes.
            Action::HelpUp => self.help_scroll = self.help_scroll.saturating_sub(3),
            Action::HelpDown => self.help_scroll = self.help_scroll.saturating_add(3).min(200),
            _ => {}
        }
        Vec::new()
    }

    /// The panel after `panel` in focus order, skipping hidden ones.
    pub(super) fn next_panel(&self, panel: Panel) -> Panel {
        let at = Panel::ALL.iter().position(|p| *p == panel).unwrap_or(0);
        (1..=Panel::ALL.len())
            .map(|i| Panel::ALL[(at + i) % Panel::ALL.len()])
            .find(|p| *p != Panel::Histogram || self.show_histogram)
            .unwrap_or(Panel::Servers)
    }

    /// PgUp/PgDn: the log when it has the focus, the lesson otherwise
    /// (↑/↓ already move through the servers).
    pub(super) fn scroll_focused(&mut self, up: bool) -> Vec<Control> {
        let panel = match self.focus {
            Panel::Log => Panel::Log,
            _ => Panel::Lesson,
        };
        self.scroll_panel(panel, up, 1);
        Vec::new()
    }

    /// Scrolls `panel` by `times` steps (a key press is one, a wheel notch
    /// one too).
    pub(super) fn scroll_panel(&mut self, panel: Panel, up: bool, times: usize) {
        match panel {
            Panel::Log => self.log.scroll_by(up, LOG_STEP * times),
            Panel::Servers => {
                let last = self.frame.snapshot.servers.len().saturating_sub(1);
                self.selected = if up {
                    self.selected.saturating_sub(times)
                } else {
                    (self.selected + times).min(last)
                };
            }
            _ => {
                let lesson = &self.frame.lab.lesson;
                // Lines the panel could need at its narrowest (about 30
                // columns of text): steps and paragraphs wrap, so count
                // their characters, plus the heading and objectives.
                let chars = lesson
                    .steps
                    .iter()
                    .map(|s| s.text.chars().count() + 12)
                    .chain(lesson.text.iter().map(|t| t.chars().count() + 30))
                    .sum::<usize>();
                let lines = chars / 30 + lesson.steps.len() + 2 * lesson.text.len() + 6;
                let max = u16::try_from(lines).unwrap_or(u16::MAX);
                let by = SCROLL_STEP.saturating_mul(u16::try_from(times).unwrap_or(u16::MAX));
                self.lesson_scroll = if up {
                    self.lesson_scroll.saturating_sub(by)
                } else {
                    self.lesson_scroll.saturating_add(by).min(max)
                };
            }
        }
    }
}
