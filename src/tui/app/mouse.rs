//! The mouse: a click selects a server or focuses a panel (a click on a
//! focused panel's title maximises it), a click on a picker's row chooses
//! it, the wheel scrolls the panel under the pointer.

use super::{Action, App, Overlay, Panel};
use crate::live::Control;
use crate::tui::view::layout::Areas;
use crate::tui::view::pickers;
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

/// Rows above a table's first server row: the border and the header.
const TABLE_TOP: u16 = 2;

impl App {
    /// Applies a mouse event on a screen of `screen` laid out as `areas`.
    pub fn mouse(&mut self, e: MouseEvent, screen: Rect, areas: &Areas) -> Vec<Control> {
        let at = Position::new(e.column, e.row);
        let picker = pickers::rows_of(&self.overlay, screen);
        match e.kind {
            MouseEventKind::Down(MouseButton::Left) => self.click(at, areas, picker),
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let up = e.kind == MouseEventKind::ScrollUp;
                if picker.is_some_and(|(r, _)| r.contains(at)) {
                    return self.update(if up {
                        Action::PopupUp
                    } else {
                        Action::PopupDown
                    });
                }
                if self.overlay == Overlay::None
                    && let Some(panel) = areas.panel_at(at.x, at.y)
                {
                    self.scroll_panel(panel, up, 1);
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn click(
        &mut self,
        at: Position,
        areas: &Areas,
        picker: Option<(Rect, usize)>,
    ) -> Vec<Control> {
        if let Some((rows, first)) = picker {
            if !rows.contains(at) {
                return Vec::new();
            }
            return self.choose_in_picker(first + usize::from(at.y - rows.y));
        }
        if self.overlay != Overlay::None {
            // Any click closes an overlay that any key closes.
            if matches!(
                self.overlay,
                Overlay::Help | Overlay::Why | Overlay::Detail(_) | Overlay::Summary
            ) {
                return self.update(Action::Close);
            }
            return Vec::new();
        }
        let Some(panel) = areas.panel_at(at.x, at.y) else {
            return Vec::new();
        };
        let rect = areas.of(panel);
        if at.y == rect.y {
            // The title: focus the panel, or maximise the focused one.
            if self.focus == panel {
                self.maximised = !self.maximised;
            }
            self.focus = panel;
            return Vec::new();
        }
        self.focus = panel;
        if panel == Panel::Servers {
            self.select_row_at(at, rect);
        }
        Vec::new()
    }

    /// The server on the clicked row of the table in `rect`.
    fn select_row_at(&mut self, at: Position, rect: Rect) {
        let first = rect.y + TABLE_TOP;
        let visible = usize::from(rect.height.saturating_sub(TABLE_TOP + 1));
        if at.y < first || visible == 0 {
            return;
        }
        // The table scrolls just enough to show the selection at its
        // bottom, as ratatui's Table does.
        let offset = self.selected.saturating_sub(visible - 1);
        let row = offset + usize::from(at.y - first);
        if row < self.frame.snapshot.servers.len() {
            self.selected = row;
        }
    }

    /// A click on row `index` of the open picker: highlight it, and apply
    /// it if it was highlighted already (a second click).
    fn choose_in_picker(&mut self, index: usize) -> Vec<Control> {
        let already = match &mut self.overlay {
            Overlay::Algorithms(i) | Overlay::Labs(i) => {
                let was = *i == index;
                *i = index;
                was
            }
            _ => return Vec::new(),
        };
        if already {
            self.update(Action::PopupConfirm)
        } else {
            Vec::new()
        }
    }
}
