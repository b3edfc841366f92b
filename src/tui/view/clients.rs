//! The clients panel: how many clients are in each state, then what
//! became of their connections: completed, failed with every reason, the
//! success rate and retransmissions. Labels say which count clients and
//! which count connections. The balancer's own tables are its panel's.

use crate::engine::ClientCounts;
use crate::spec::FailReason;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// `style` when `n` is not zero (something to notice), plain text otherwise.
pub(super) fn alert(n: u64, style: Style, theme: &Theme) -> Style {
    if n > 0 { style } else { theme.text }
}

/// Every failure reason with its count, busiest first, as one line:
/// "syn-timeout 24 · data-timeout 11 · reset 1" (empty with none).
pub(super) fn failure_reasons(failed: &[u64; FailReason::COUNT]) -> String {
    let mut reasons: Vec<(FailReason, u64)> = FailReason::ALL
        .iter()
        .map(|r| (*r, failed[r.index()]))
        .filter(|(_, n)| *n > 0)
        .collect();
    // Busiest first; ties keep the stable order of the reasons.
    reasons.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    reasons
        .iter()
        .map(|(r, n)| format!("{} {n}", r.name()))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Draws the clients panel into `area` (on a real proxy whose clients are
/// not lblab's, its connections).
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if app.frame.real_time && app.frame.snapshot.clients.is_none() {
        return render_proxy(f, area, app, theme);
    }
    let s = &app.frame.snapshot;
    // An engine that does not run the clients itself cannot count them.
    let count = |f: fn(&ClientCounts) -> u64| s.clients.as_ref().map(f);
    let shown = |n: Option<u64>| n.map_or("–".to_string(), |n| n.to_string());
    let syn_sent = count(|c| c.syn_sent);
    let killed = count(|c| c.killed);
    let row = |label: &str, value: String, style| {
        Line::from(vec![
            Span::styled(format!(" {label:<14}"), theme.dim),
            Span::styled(value, style),
        ])
    };
    let heading = |text: &str| Line::from(Span::styled(format!(" {text}"), theme.title));
    let failed = s.conns.failed_total();
    // Every reason, packed into lines under the figure rather than
    // wrapped to the panel's edge, so the list reads as one column.
    let room = (area.width as usize).saturating_sub(2 + 15).max(8);
    let first_room = room.saturating_sub(failed.to_string().len() + 2);
    let mut chunks: Vec<String> = Vec::new();
    for part in failure_reasons(&s.conns.failed)
        .split(" · ")
        .filter(|p| !p.is_empty())
    {
        match chunks.last_mut() {
            Some(c) if c.chars().count() + 3 + part.chars().count() <= room => {
                c.push_str(" · ");
                c.push_str(part);
            }
            _ => chunks.push(part.to_string()),
        }
    }
    let mut first = vec![
        Span::styled(format!(" {:<14}", "failed"), theme.dim),
        Span::styled(failed.to_string(), alert(failed, theme.bad, theme)),
    ];
    // The first line of reasons goes beside the figure when it fits there,
    // else every line goes under it.
    let inline = chunks
        .first()
        .is_some_and(|c| c.chars().count() <= first_room);
    let mut rest = chunks.into_iter();
    if inline && let Some(c) = rest.next() {
        first.push(Span::styled(format!(": {c}"), theme.bad));
    }
    let mut failed_lines = vec![Line::from(first)];
    failed_lines.extend(rest.map(|c| row("", c, theme.bad)));
    // Connections first: what the lessons point at stays in view on a
    // short screen; then the clients, by state.
    let mut lines = vec![
        heading("connections"),
        row("completed", s.conns.completed.to_string(), theme.text),
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
            "retransmits",
            if app.frame.real_time {
                // The kernel's, on real sockets: out of sight, not zero.
                "– (the kernel's)".to_string()
            } else {
                format!(
                    "syn {} · data {}",
                    s.retransmits.syn,
                    s.retransmits.data + s.retransmits.fin
                )
            },
            theme.text,
        ),
        heading("clients, by state"),
        row(
            "SYN-SENT",
            shown(syn_sent),
            alert(syn_sent.unwrap_or(0), theme.warn, theme),
        ),
        row("ESTABLISHED", shown(count(|c| c.established)), theme.good),
        row("FIN-WAIT", shown(count(|c| c.fin_wait)), theme.text),
        row("CLOSED", shown(count(|c| c.closed)), theme.text),
        row(
            "done · killed",
            format!("{} · {}", shown(count(|c| c.done)), shown(killed)),
            alert(killed.unwrap_or(0), theme.bad, theme),
        ),
    ];
    lines.splice(2..2, failed_lines);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_of(app, crate::tui::app::Panel::Clients))
        .title(Span::styled(" clients ", theme.title));
    // Wrapped, so a long list of failure reasons is read whole.
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
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
        .border_style(theme.border_of(app, crate::tui::app::Panel::Clients))
        .title(Span::styled(" connections ", theme.title));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_reason_is_listed_busiest_first() {
        let mut failed = [0; FailReason::COUNT];
        assert_eq!(failure_reasons(&failed), "");
        failed[FailReason::Reset.index()] = 1;
        failed[FailReason::SynTimeout.index()] = 24;
        failed[FailReason::DataTimeout.index()] = 11;
        assert_eq!(
            failure_reasons(&failed),
            "syn-timeout 24 · data-timeout 11 · reset 1"
        );
    }
}
