//! The balancer panel: its conn table and half-open gauge, its health
//! checking, and what it believes of each server where that differs from
//! what the server is. Also the wording of that belief, which the servers
//! table and the detail view share.

use super::charts::ms;
use super::clients::alert;
use crate::engine::{ServerRow, ServerState};
use crate::model::{SimDuration, SimTime};
use crate::spec::HealthSpec;
use crate::text::escape;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Seconds as a person reads them: `0.5s`, `4.0s`, `12s`.
pub(super) fn secs(d: SimDuration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.1}s")
    } else {
        format!("{s:.0}s")
    }
}

/// What the balancer believes of `r`, or `None` when it agrees with a
/// server that is up and passing every probe (nothing to say). `short`
/// for narrow tables: "lb 2/3✗" instead of "lb up, 2/3 failed".
pub(super) fn lb_belief(
    r: &ServerRow,
    health: &HealthSpec,
    now: SimTime,
    short: bool,
) -> Option<String> {
    let (rise, fall) = (health.rise.get(), health.fall.get());
    let text = if r.state == ServerState::Ejected {
        "lb ejected".to_string()
    } else if !r.healthy {
        let since = r
            .down_since
            .filter(|_| !short)
            .map_or(String::new(), |t| format!(" {}", secs(now - t)));
        match (r.probes_passed, short) {
            (0, _) => format!("lb DOWN{since}"),
            (p, true) => format!("lb DOWN {p}/{rise}✓"),
            (p, false) => format!("lb DOWN{since}, {p}/{rise} ok"),
        }
    } else if r.probes_failed > 0 {
        let n = r.probes_failed;
        if short {
            format!("lb {n}/{fall}✗")
        } else {
            format!("lb up, {n}/{fall} failed")
        }
    } else if r.state == ServerState::Killed {
        // Killed and no probe has failed yet: the balancer has no idea.
        "lb up".to_string()
    } else {
        return None;
    };
    Some(text)
}

/// What the server is, as symbol and word: it runs (up), drains, or is
/// killed; what the balancer believes is [`lb_belief`]'s.
pub(super) fn server_truth(r: &ServerRow, theme: &Theme) -> (String, Style) {
    let truth = match r.state {
        ServerState::Killed => ServerState::Killed,
        ServerState::Draining => ServerState::Draining,
        _ => ServerState::Up,
    };
    let (symbol, style) = theme.server_state(truth);
    (format!("{symbol} {}", truth.name()), style)
}

/// The probe p95 in ms, or `–` when the newest probe failed: round trips
/// from before a death are not the server's state now.
pub(super) fn probe_p95(r: &ServerRow) -> String {
    match r.probe_p95 {
        Some(d) if r.probes_failed == 0 => ms(d),
        _ => "–".to_string(),
    }
}

/// A bar of `width` cells filled in proportion to `n` of `cap`.
fn gauge(n: u64, cap: u64, width: usize) -> String {
    let filled = if cap == 0 {
        0
    } else {
        ((n.min(cap) * width as u64).div_ceil(cap)) as usize
    };
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// Plain while there is room, warning past half, bad when full.
fn occupancy_style(n: u64, cap: u64, theme: &Theme) -> Style {
    if cap > 0 && n >= cap {
        theme.bad
    } else if n * 2 > cap {
        theme.warn
    } else {
        theme.text
    }
}

/// Draws the balancer panel into `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.frame.snapshot;
    let row = |label: &str, value: String, style| {
        Line::from(vec![
            Span::styled(format!(" {label:<12}"), theme.dim),
            Span::styled(value, style),
        ])
    };
    // What the balancer admits at most: the half-open limits of the
    // backends in the table (a real proxy keeps none).
    let cap: u64 = s.servers.iter().map(|r| u64::from(r.max_half_open)).sum();
    let half_open = if cap == 0 {
        row("half-open", "–".to_string(), theme.text)
    } else {
        row(
            "half-open",
            format!("{} {}/{cap}", gauge(s.half_open, cap, 10), s.half_open),
            occupancy_style(s.half_open, cap, theme),
        )
    };
    let h = &s.settings.health;
    let down = s
        .servers
        .iter()
        .filter(|r| !r.healthy && r.state != ServerState::Ejected)
        .count();
    let ejected = s
        .servers
        .iter()
        .filter(|r| r.state == ServerState::Ejected)
        .count();
    // An ejected server may be down too: count it once.
    let up = s.servers.len().saturating_sub(down + ejected);
    let mut believes = format!("{up} up · {down} DOWN");
    if ejected > 0 {
        believes.push_str(&format!(" · {ejected} ejected"));
    }
    let mut lines = vec![
        row(
            "conn table",
            format!("{} entries", s.table_entries),
            theme.text,
        ),
        row(
            "probe every",
            format!(
                "{} · fall {} · rise {}",
                h.interval.get(),
                h.fall.get(),
                h.rise.get()
            ),
            theme.text,
        ),
        row("believes", believes, alert(down as u64, theme.warn, theme)),
    ];
    // A real proxy's half-open connections are the kernel's, not its own.
    if !app.frame.real_time {
        lines.insert(1, half_open);
    }
    // Then each server it has doubts about, as many as there is room for.
    for r in &s.servers {
        if let Some(lb) = lb_belief(r, h, s.now, false) {
            let (truth, style) = server_truth(r, theme);
            lines.push(Line::from(vec![
                Span::styled(format!(" {:<12}", escape(&r.name)), theme.text),
                Span::styled(truth, style),
                Span::styled(format!(" · {lb}"), theme.warn),
            ]));
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_of(app, crate::tui::app::Panel::Balancer))
        .title(Span::styled(" balancer ", theme.title));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_fill_in_proportion_and_never_overflow() {
        assert_eq!(gauge(0, 640, 10), "░░░░░░░░░░");
        assert_eq!(gauge(320, 640, 10), "█████░░░░░");
        assert_eq!(gauge(1, 640, 10), "█░░░░░░░░░");
        assert_eq!(gauge(900, 640, 10), "██████████");
        assert_eq!(gauge(5, 0, 4), "░░░░");
    }

    #[test]
    fn seconds_read_as_a_person_says_them() {
        assert_eq!(secs(SimDuration::from_millis(4_000)), "4.0s");
        assert_eq!(secs(SimDuration::from_secs(12)), "12s");
    }
}
