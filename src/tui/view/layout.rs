//! Where each panel sits: one function the drawing and the mouse share, so
//! a click lands on the panel the eye sees.

use super::fraction;
use crate::tui::app::{App, Panel};
use ratatui::layout::{Constraint, Layout, Rect};

/// The rectangles of one frame. A panel not shown has an empty rectangle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    /// The header line.
    pub header: Rect,
    /// The status bar.
    pub status: Rect,
    /// The servers table.
    pub servers: Rect,
    /// The traffic sparklines.
    pub traffic: Rect,
    /// The clients panel.
    pub clients: Rect,
    /// The balancer panel.
    pub balancer: Rect,
    /// The latency histogram.
    pub histogram: Rect,
    /// The event log.
    pub log: Rect,
    /// The lesson.
    pub lesson: Rect,
}

impl Areas {
    /// The rectangle of `panel`.
    pub fn of(&self, panel: Panel) -> Rect {
        match panel {
            Panel::Servers => self.servers,
            Panel::Traffic => self.traffic,
            Panel::Clients => self.clients,
            Panel::Balancer => self.balancer,
            Panel::Histogram => self.histogram,
            Panel::Log => self.log,
            Panel::Lesson => self.lesson,
        }
    }

    /// The panel under the cell (`column`, `row`), if any.
    pub fn panel_at(&self, column: u16, row: u16) -> Option<Panel> {
        let pos = ratatui::layout::Position::new(column, row);
        Panel::ALL.into_iter().find(|p| self.of(*p).contains(pos))
    }
}

/// The panels' rectangles for a terminal of `area`.
pub fn layout(area: Rect, app: &App) -> Areas {
    let [header, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let mut a = Areas {
        header,
        status,
        ..Areas::default()
    };
    if app.maximised {
        let whole = match app.focus {
            Panel::Servers => &mut a.servers,
            Panel::Traffic => &mut a.traffic,
            Panel::Clients => &mut a.clients,
            Panel::Balancer => &mut a.balancer,
            Panel::Histogram => &mut a.histogram,
            Panel::Log => &mut a.log,
            Panel::Lesson => &mut a.lesson,
        };
        *whole = body;
        return a;
    }

    let rows = app.frame.snapshot.servers.len() as u16;
    let servers_height = rows
        .saturating_add(3)
        .min(fraction(body.height, 2, 5))
        .max(5);
    // The charts take half of what the servers leave; the log the rest.
    let middle_height = (body.height.saturating_sub(servers_height) / 2).max(8);
    let [servers, middle, bottom] = Layout::vertical([
        Constraint::Length(servers_height),
        Constraint::Length(middle_height),
        Constraint::Min(3),
    ])
    .areas(body);
    a.servers = servers;
    let [traffic, clients] = Layout::horizontal([
        Constraint::Min(40),
        Constraint::Length(if area.width >= 120 { 40 } else { 32 }),
    ])
    .areas(middle);
    a.traffic = traffic;
    a.clients = clients;
    let lesson_width = if area.width >= 120 {
        fraction(area.width, 2, 5)
    } else {
        area.width / 2
    };
    let [log, lesson] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(lesson_width)]).areas(bottom);
    a.log = log;
    a.lesson = lesson;
    a
}
