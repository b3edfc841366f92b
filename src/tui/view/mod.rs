//! The screen, one file per region. The layout at full size:
//!
//! ```text
//! ┌ header: lab, clock, speed, paused, algorithm, seed, defences ──────────┐
//! │ servers: state, weight, connections vs limits, rates, p95, share, ▂▅▇ │
//! ├ traffic sparklines ─────────────────────────────┬ clients ────────────┤
//! │ new / completed / failed per s, drops, p95      │ counts by state     │
//! ├ event log ────────────────────────┬ lesson: objectives ✔ ✖, steps ───┤
//! └ status bar: key hints, notices ───────────────────────────────────────┘
//! ```
//!
//! Popups (flood, algorithm, timeouts) and the help overlay are drawn on
//! top. Below 80×24 only a "terminal too small" notice is drawn.

mod charts;
mod clients;
mod header;
mod help;
mod lesson;
mod log;
mod popups;
mod servers;
mod small;
mod status;

use super::app::{App, Overlay};
use super::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

/// Smallest terminal the dashboard draws in.
pub const MIN_WIDTH: u16 = 80;
/// Smallest terminal the dashboard draws in.
pub const MIN_HEIGHT: u16 = 24;

/// Draws the whole dashboard for `app` into `f`.
pub fn draw(f: &mut Frame, app: &App) {
    let theme = Theme::new(app.monochrome);
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        small::render(f, area, &theme);
        return;
    }
    let [header_area, body, status_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(f, header_area, app, &theme);
    status::render(f, status_area, app, &theme);

    let rows = app.frame.snapshot.servers.len() as u16;
    let servers_height = rows
        .saturating_add(3)
        .min(fraction(body.height, 2, 5))
        .max(5);
    // The charts take half of what the servers leave; the log the rest.
    let middle_height = (body.height.saturating_sub(servers_height) / 2).max(8);
    let [servers_area, middle, log_area] = Layout::vertical([
        Constraint::Length(servers_height),
        Constraint::Length(middle_height),
        Constraint::Min(3),
    ])
    .areas(body);
    servers::render(f, servers_area, app, &theme);
    let [charts_area, clients_area] = Layout::horizontal([
        Constraint::Min(40),
        Constraint::Length(if area.width >= 120 { 40 } else { 32 }),
    ])
    .areas(middle);
    charts::render(f, charts_area, app, &theme);
    clients::render(f, clients_area, app, &theme);
    let lesson_width = if area.width >= 120 {
        fraction(area.width, 2, 5)
    } else {
        area.width / 2
    };
    let [log_area, lesson_area] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(lesson_width)]).areas(log_area);
    log::render(f, log_area, app, &theme);
    lesson::render(f, lesson_area, app, &theme);

    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => help::render(f, area, &theme),
        Overlay::Why => popups::why(f, area, app, &theme),
        Overlay::Flood(form) => popups::flood(f, area, form, &theme),
        Overlay::Algorithms(i) => popups::algorithms(f, area, *i, app, &theme),
        Overlay::Timeouts(form) => popups::timeouts(f, area, form, &theme),
        Overlay::Labs(i) => popups::labs(f, area, *i, app, &theme),
    }
}

/// `n × num / den` without overflowing u16 on huge terminals.
fn fraction(n: u16, num: u32, den: u32) -> u16 {
    u16::try_from(u32::from(n) * num / den).unwrap_or(u16::MAX)
}

/// A rectangle of `w`×`h` centred in `area`, clipped to it.
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
