//! Sparklines of the whole system: connections started, completed and
//! failed per second, drops per second by reason, and segment latency p95.

use crate::engine::Series;
use crate::spec::DropReason;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

const LABEL: u16 = 21;
const VALUE: u16 = 10;

/// Draws the traffic sparklines into `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let inner = Block::default().borders(Borders::ALL).inner(area);
    let series = &app.frame.snapshot.series;
    let mut rows: Vec<(String, &Series, Style, String)> = vec![
        (
            "new conns".into(),
            &series.new_conns,
            theme.info,
            String::new(),
        ),
        (
            "completed".into(),
            &series.completed,
            theme.good,
            String::new(),
        ),
        (
            if app.frame.real_time {
                "refused"
            } else {
                "failed"
            }
            .into(),
            &series.failed,
            theme.bad,
            String::new(),
        ),
        (
            // A real proxy sees no segments; its latency is its connects.
            if app.frame.real_time {
                "connect p95"
            } else {
                "seg p95"
            }
            .into(),
            &series.latency_p95_us,
            theme.warn,
            "µs".into(),
        ),
    ];
    // Drops: one line per reason seen in the window, busiest first.
    let mut reasons: Vec<(DropReason, &Series, u64)> = DropReason::ALL
        .iter()
        .map(|r| {
            let s = &series.drops_by_reason[r.index()];
            (*r, s, s.values().iter().sum::<u64>())
        })
        .filter(|(_, _, n)| *n > 0)
        .collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.2));
    let room = (inner.height as usize).saturating_sub(rows.len());
    if reasons.is_empty() {
        rows.push(("drops".into(), &series.drops, theme.warn, String::new()));
    }
    let rows_before = rows.len();
    let reasons_seen = reasons.len();
    for (r, s, _) in reasons.into_iter().take(room.max(1)) {
        rows.push((format!("drop {}", r.name()), s, theme.warn, String::new()));
    }
    let rows = &rows[..rows.len().min(inner.height as usize)];
    // Reasons the panel has no room for are named in its title, so a drop
    // never goes unseen just because the terminal is short.
    let unshown = reasons_seen.saturating_sub(rows.len().saturating_sub(rows_before));
    let mut title = vec![Span::styled(" traffic per second ", theme.title)];
    if unshown > 0 {
        let noun = if unshown == 1 { "reason" } else { "reasons" };
        title.push(Span::styled(
            format!("(+{unshown} drop {noun} not shown) "),
            theme.warn,
        ));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(title));
    f.render_widget(block, area);
    let line_height = (inner.height / rows.len().max(1) as u16).max(1);
    let areas = Layout::vertical(rows.iter().map(|_| Constraint::Length(line_height))).split(inner);
    for ((label, s, style, unit), row) in rows.iter().zip(areas.iter()) {
        let [label_area, spark_area, value_area] = Layout::horizontal([
            Constraint::Length(LABEL),
            Constraint::Min(1),
            Constraint::Length(VALUE),
        ])
        .areas(*row);
        // Newest at the right edge, as in the servers table: the history
        // grows leftwards, blank where there is none yet.
        let values = s.values();
        let width = spark_area.width as usize;
        let tail = &values[values.len().saturating_sub(width)..];
        let bars: Vec<Option<u64>> = std::iter::repeat_n(None, width - tail.len())
            .chain(tail.iter().copied().map(Some))
            .collect();
        f.render_widget(
            Paragraph::new(Span::styled(format!(" {label}"), theme.dim)),
            label_area,
        );
        f.render_widget(Sparkline::default().data(bars).style(*style), spark_area);
        let last = s.last().unwrap_or(0);
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(
                format!("{last:>7}{unit}"),
                theme.text,
            ))),
            value_area,
        );
    }
}
