//! The clients panel: how many clients are in each state, retries, and the
//! balancer's conn table.

use crate::sim::FailReason;
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

/// Draws the clients panel into `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.frame.snapshot;
    let c = s.clients;
    let row = |label: &str, value: String, style| {
        Line::from(vec![
            Span::styled(format!(" {label:<12} "), theme.dim),
            Span::styled(value, style),
        ])
    };
    let failed = s.conns.failed_total();
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
            c.syn_sent.to_string(),
            alert(c.syn_sent, theme.warn, theme),
        ),
        row("ESTABLISHED", c.established.to_string(), theme.good),
        row("FIN-WAIT", c.fin_wait.to_string(), theme.text),
        row("CLOSED", c.closed.to_string(), theme.text),
        row("done", c.done.to_string(), theme.dim),
        row(
            "failed",
            format!("{failed}{top_failure}"),
            alert(failed, theme.bad, theme),
        ),
        row(
            "retries",
            format!("syn {} data {}", c.syn_retries, c.data_retries),
            theme.text,
        ),
        row(
            "conn table",
            format!("{} entries", s.table_entries),
            theme.text,
        ),
        row(
            "half-open",
            s.half_open.to_string(),
            alert(s.half_open, theme.warn, theme),
        ),
    ];
    if c.killed > 0 {
        lines.insert(5, row("killed", c.killed.to_string(), theme.bad));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" clients ", theme.title));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
