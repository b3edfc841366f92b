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
    if app.frame.snapshot.twin.is_some() {
        // Two worlds side by side (`--compare`) are drawn by `twin.rs`;
        // the mouse acts on pickers only there.
        return a;
    }
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
    let side = if area.width >= 120 { 40 } else { 32 };
    let lesson_width = if area.width >= 120 {
        fraction(area.width, 2, 5)
    } else {
        area.width / 2
    };
    // The balancer panel: beside the clients on wide screens; else under
    // them when the middle row is tall enough; else between the log and
    // the lesson when the screen is wide enough for three; else it is
    // shown only maximised (Tab to it, then e).
    let (traffic, clients, balancer) = if area.width >= WIDE_MIDDLE {
        let [traffic, clients, balancer] = Layout::horizontal([
            Constraint::Min(40),
            Constraint::Length(side),
            Constraint::Length(BALANCER_WIDTH),
        ])
        .areas(middle);
        (traffic, clients, balancer)
    } else {
        let [traffic, right] =
            Layout::horizontal([Constraint::Min(40), Constraint::Length(side)]).areas(middle);
        if middle.height >= STACKED_HEIGHT {
            let [clients, balancer] =
                Layout::vertical([Constraint::Min(0), Constraint::Length(BALANCER_HEIGHT)])
                    .areas(right);
            (traffic, clients, balancer)
        } else {
            (traffic, right, Rect::default())
        }
    };
    a.clients = clients;
    a.balancer = balancer;
    // The histogram shares the traffic panel's place: beside it when
    // both stay readable, instead of it otherwise.
    if app.show_histogram {
        if traffic.width >= 2 * HISTOGRAM_WIDTH {
            let [t, h] =
                Layout::horizontal([Constraint::Min(0), Constraint::Length(HISTOGRAM_WIDTH)])
                    .areas(traffic);
            a.traffic = t;
            a.histogram = h;
        } else {
            a.histogram = traffic;
        }
    } else {
        a.traffic = traffic;
    }
    if a.balancer.is_empty() && area.width >= 100 {
        let [log, balancer, lesson] = Layout::horizontal([
            Constraint::Min(20),
            Constraint::Length(BALANCER_WIDTH),
            Constraint::Length(lesson_width),
        ])
        .areas(bottom);
        a.log = log;
        a.balancer = balancer;
        a.lesson = lesson;
    } else {
        let [log, lesson] =
            Layout::horizontal([Constraint::Min(20), Constraint::Length(lesson_width)])
                .areas(bottom);
        a.log = log;
        a.lesson = lesson;
    }
    a
}

/// Terminal width from which the balancer panel sits beside the clients.
const WIDE_MIDDLE: u16 = 150;

/// Width of the balancer panel beside others.
const BALANCER_WIDTH: u16 = 38;

/// Height of the balancer panel under the clients.
const BALANCER_HEIGHT: u16 = 7;

/// Height of the middle row from which the balancer fits under the
/// clients, each readable.
const STACKED_HEIGHT: u16 = 18;

/// Width of the histogram beside the traffic panel.
const HISTOGRAM_WIDTH: u16 = 52;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{LiveFrame, Speed};
    use crate::sim::World;
    use std::sync::Arc;

    fn app() -> App {
        let lab = crate::lab::builtin("classic").expect("classic loads");
        let w = World::new(&lab, 1);
        App::new(
            Arc::new(LiveFrame::still(&w, w.lab(), Speed::Factor(1.0))),
            true,
        )
    }

    #[test]
    fn every_panel_has_a_place_at_220x60_and_none_overlap() {
        let mut a = app();
        a.show_histogram = true;
        let areas = layout(Rect::new(0, 0, 220, 60), &a);
        let panels = [
            areas.servers,
            areas.traffic,
            areas.clients,
            areas.balancer,
            areas.histogram,
            areas.log,
            areas.lesson,
        ];
        for (i, p) in panels.iter().enumerate() {
            assert!(!p.is_empty(), "panel {i} has no room: {areas:?}");
            for q in &panels[i + 1..] {
                assert!(!p.intersects(*q), "{p:?} overlaps {q:?}");
            }
        }
    }

    #[test]
    fn the_histogram_takes_the_traffic_place_on_small_screens() {
        let mut a = app();
        a.show_histogram = true;
        let areas = layout(Rect::new(0, 0, 80, 24), &a);
        assert!(areas.traffic.is_empty());
        assert!(!areas.histogram.is_empty());
        a.show_histogram = false;
        let areas = layout(Rect::new(0, 0, 80, 24), &a);
        assert!(areas.histogram.is_empty());
        assert!(!areas.traffic.is_empty());
    }
}
