//! The clients panel: how many clients are in each state, failures and the
//! success rate, retries, and the balancer's conn table.

use crate::engine::ClientCounts;
use crate::spec::FailReason;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// `style` when `n` is not zero (something to notice), plain text otherwise.
fn alert(n: u64, style: Style, theme: &Theme) -> Style {
    if n > 0 { style } else { theme.text }
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

/// Draws the clients panel into `area` (on a real proxy, its connections).
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if app.frame.real_time {
        return render_proxy(f, area, app, theme);
    }
    let s = &app.frame.snapshot;
    // An engine that does not run the clients itself cannot count them.
    let count = |f: fn(&ClientCounts) -> u64| s.clients.as_ref().map(f);
    let shown = |n: Option<u64>| n.map_or("–".to_string(), |n| n.to_string());
    let killed = count(|c| c.killed).unwrap_or(0);
    let syn_sent = count(|c| c.syn_sent);
    let row = |label: &str, value: String, style| {
        Line::from(vec![
            Span::styled(format!(" {label:<12} "), theme.dim),
            Span::styled(value, style),
        ])
    };
    let failed = s.conns.failed_total();
    // What the balancer admits at most: the half-open limits of the
    // backends in the table.
    let cap: u64 = s.servers.iter().map(|r| u64::from(r.max_half_open)).sum();
    let top_failure = FailReason::ALL
        .iter()
        .max_by_key(|r| s.conns.failed[r.index()])
        .filter(|r| s.conns.failed[r.index()] > 0)
        .map_or(String::new(), |r| {
            format!(" ({} {})", r.name(), s.conns.failed[r.index()])
        });
    let mut lines = vec![
        row(
            "SYN-SENT",
            shown(syn_sent),
            alert(syn_sent.unwrap_or(0), theme.warn, theme),
        ),
        row("ESTABLISHED", shown(count(|c| c.established)), theme.good),
        row("FIN-WAIT", shown(count(|c| c.fin_wait)), theme.text),
        row("CLOSED", shown(count(|c| c.closed)), theme.text),
        row("done", shown(count(|c| c.done)), theme.dim),
        row(
            "failed",
            format!("{failed}{top_failure}"),
            alert(failed, theme.bad, theme),
        ),
        // The report's and the objectives' definition: completed over
        // ended, `–` until a connection has ended.
        row(
            "success",
            s.conns
                .success_rate_pct()
                .map_or("–".to_string(), |p| format!("{p:.2}%")),
            theme.text,
        ),
        row(
            "retries",
            format!(
                "syn {} data {}",
                s.retransmits.syn,
                s.retransmits.data + s.retransmits.fin
            ),
            theme.text,
        ),
        row(
            "conn table",
            format!("{} entries", s.table_entries),
            theme.text,
        ),
        row(
            "half-open",
            format!("{} {}/{cap}", gauge(s.half_open, cap, 10), s.half_open),
            occupancy_style(s.half_open, cap, theme),
        ),
    ];
    if killed > 0 {
        lines.insert(5, row("killed", killed.to_string(), theme.bad));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" clients ", theme.title));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// A real proxy's connections: it does not run the clients, so it shows
/// what it accepted, proxied and refused, and why.
fn render_proxy(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.frame.snapshot;
    let row = |label: &str, value: String, style| {
        Line::from(vec![
            Span::styled(format!(" {label:<14} "), theme.dim),
            Span::styled(value, style),
        ])
    };
    let refused = s.conns.failed_total();
    let connect_errors: u64 = s.servers.iter().map(|r| r.drops).sum();
    let mut lines = vec![
        row("open", s.table_entries.to_string(), theme.good),
        row("accepted", s.conns.attempted.to_string(), theme.text),
        row("proxied", s.conns.established.to_string(), theme.text),
        row(
            "refused",
            refused.to_string(),
            alert(refused, theme.bad, theme),
        ),
    ];
    for (reason, n) in s.drops.iter().filter(|(_, n)| *n > 0) {
        lines.push(row(
            &format!("  {}", reason.name()),
            n.to_string(),
            theme.bad,
        ));
    }
    lines.push(row(
        "connect errors",
        connect_errors.to_string(),
        alert(connect_errors, theme.warn, theme),
    ));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" connections ", theme.title));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::gauge;

    #[test]
    fn gauges_fill_in_proportion_and_never_overflow() {
        assert_eq!(gauge(0, 640, 10), "░░░░░░░░░░");
        assert_eq!(gauge(320, 640, 10), "█████░░░░░");
        assert_eq!(gauge(1, 640, 10), "█░░░░░░░░░");
        assert_eq!(gauge(900, 640, 10), "██████████");
        assert_eq!(gauge(5, 0, 4), "░░░░");
    }
}
