//! The screen, one file per region. The layout at 160 columns (where each
//! panel goes at other sizes is `layout.rs`'s):
//!
//! ```text
//! ┌ header: alarms first, lab, clock, run state, algorithm, defences ──────────────┐
//! │ servers: state · the balancer's view, weight, connections, p95, shares, ▂▅▇   │
//! ├ traffic sparklines (or the latency histogram, h) ─┬ clients ───┬ balancer ────┤
//! │ new / completed / failed, p95, drops by reason    │ by reason  │ conn table   │
//! ├ event log (scroll, / filter) ──────────┬ lesson: steps ▶, objectives, text ──┤
//! └ status bar: the notice, then the keys that matter here ───────────────────────┘
//! ```
//!
//! Popups (flood, algorithm, timeouts, labs), the server detail, the help
//! and the end-of-lab summary are drawn on top. Below 80×24 only a
//! "terminal too small" notice is drawn.

mod balancer;
mod charts;
mod clients;
mod detail;
mod header;
mod help;
mod histogram;
mod ladder;
pub mod layout;
mod lesson;
mod log;
pub mod pickers;
mod popups;
mod servers;
mod small;
mod status;
mod summary;
mod twin;

use super::app::{App, Overlay};
use super::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;

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
    if let Some(b) = &app.frame.snapshot.twin {
        twin::render(f, area, app, b, &theme);
        overlays(f, area, app, &theme);
        return;
    }
    let areas = layout::layout(area, app);
    header::render(f, areas.header, app, &theme);
    status::render(f, areas.status, app, &theme);
    // A panel the layout leaves out has an empty rectangle.
    type Render = fn(&mut Frame, Rect, &App, &Theme);
    let panels: [(Rect, Render); 7] = [
        (areas.servers, servers::render),
        (areas.traffic, charts::render),
        (areas.clients, clients::render),
        (areas.balancer, balancer::render),
        (areas.histogram, histogram::render),
        (areas.log, log::render),
        (areas.lesson, lesson::render),
    ];
    for (rect, render) in panels {
        if rect.width > 0 && rect.height > 0 {
            render(f, rect, app, &theme);
        }
    }

    overlays(f, area, app, &theme);
}

/// Whatever is drawn over the main screen.
fn overlays(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    match &app.overlay {
        Overlay::None | Overlay::Filter | Overlay::GoTo(_) => {}
        Overlay::Help => help::render(f, area, app.help_scroll, theme),
        Overlay::Why => popups::why(f, area, app, theme),
        Overlay::Ladder => ladder::render(f, area, app, theme),
        Overlay::Detail(i) => detail::render(f, area, app, theme, *i),
        Overlay::Summary => summary::render(f, area, app, theme),
        Overlay::Flood(form) => popups::flood(f, area, form, theme),
        Overlay::Algorithms(i) => popups::algorithms(f, area, *i, app, theme),
        Overlay::Timeouts(form) => popups::timeouts(f, area, form, theme),
        Overlay::Labs(i) => popups::labs(f, area, *i, app, theme),
    }
}

/// `n × num / den` without overflowing u16 on huge terminals.
fn fraction(n: u16, num: u32, den: u32) -> u16 {
    u16::try_from(u32::from(n) * num / den).unwrap_or(u16::MAX)
}

/// Draws `lines` wrapped in a bordered box titled `title` over `rect`,
/// clearing what was under it: the overlays' frame.
pub(crate) fn boxed(
    f: &mut Frame,
    rect: Rect,
    title: String,
    lines: Vec<ratatui::text::Line<'_>>,
    theme: &Theme,
) {
    use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(ratatui::text::Span::styled(title, theme.title));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        rect,
    );
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
