//! One server in detail (Enter on a row): what it is and what the
//! balancer believes, its connections by state, its probes, its history
//! of state changes, its own series and its last picks.

use super::balancer::{lb_belief, probe_p95, server_truth};
use super::charts::time_axis;
use super::servers::{SHARE_WINDOW, compact, recent, share, spark_with_scale};
use crate::engine::ServerRow;
use crate::text::escape;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Cells of the labels on the left.
const LABEL: usize = 16;

/// A figure the engine knows, or `–`.
fn known(n: Option<impl ToString>) -> String {
    n.map_or("–".to_string(), |n| n.to_string())
}

/// The newest probes as ✓ and ✗, oldest first.
fn probe_marks(r: &ServerRow) -> String {
    r.probes
        .iter()
        .map(|p| if p.rtt.is_some() { '✓' } else { '✗' })
        .collect()
}

/// Draws the detail view of server row `index` over `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme, index: usize) {
    let s = &app.frame.snapshot;
    let Some(r) = s.servers.get(index) else {
        return;
    };
    let rect = super::centered(
        area,
        area.width.saturating_sub(8).min(110),
        area.height.saturating_sub(4),
    );
    let width = rect.width.saturating_sub(2) as usize;
    let row = |label: &str, spans: Vec<Span<'static>>| {
        let mut all = vec![Span::styled(
            format!(" {label:<w$}", w = LABEL - 1),
            theme.dim,
        )];
        all.extend(spans);
        Line::from(all)
    };
    let text = |t: String, style: Style| Span::styled(t, style);
    let heading = |t: &str| Line::from(Span::styled(format!(" {t}"), theme.title));
    let h = &s.settings.health;

    let (truth, truth_style) = server_truth(r, theme);
    let mut now_spans = vec![text(truth, truth_style)];
    if let Some(lb) = lb_belief(r, h, s.now, false) {
        now_spans.push(text(format!(" · {lb}"), theme.warn));
    }
    now_spans.push(text(format!(" · weight {}", r.weight), theme.text));
    let total: u64 = s.servers.iter().map(|r| r.connections).sum();
    let recent_total: u64 = s.servers.iter().map(recent).sum();
    let mut lines = vec![
        row("now", now_spans),
        heading("connections"),
        row(
            "balancer",
            vec![text(
                format!(
                    "{} established · {}/{} half-open",
                    r.active, r.half_open, r.max_half_open
                ),
                theme.text,
            )],
        ),
        row(
            "on the server",
            vec![text(
                format!(
                    "{}/{} established · {} queued",
                    known(r.server_established),
                    r.max_connections
                        .map_or("–".to_string(), |n| compact(u64::from(n))),
                    known(r.queued)
                ),
                theme.text,
            )],
        ),
        row(
            "assigned",
            vec![text(
                format!(
                    "{} over the run ({}), {} in the last {SHARE_WINDOW} s ({})",
                    r.connections,
                    share(r.connections, total).trim(),
                    recent(r),
                    share(recent(r), recent_total).trim()
                ),
                theme.text,
            )],
        ),
        heading("probes"),
        row(
            "newest last",
            vec![
                text(
                    if r.probes.is_empty() {
                        "–".to_string()
                    } else {
                        probe_marks(r)
                    },
                    theme.text,
                ),
                text(format!("  p95 {}", probe_p95(r)), theme.text),
            ],
        ),
        row(
            "in a row",
            vec![text(
                format!(
                    "{} failed (DOWN at {}) · {} passed (UP at {})",
                    r.probes_failed,
                    h.fall.get(),
                    r.probes_passed,
                    h.rise.get()
                ),
                theme.text,
            )],
        ),
        heading("series (per second)"),
    ];
    let spark_width = width.saturating_sub(LABEL + 5).max(1);
    lines.push(row(
        "",
        vec![text(
            format!("{}  max", time_axis(spark_width, "")),
            theme.dim,
        )],
    ));
    for (label, values) in [
        ("active conns", &r.active_series),
        ("new conns", &r.new_series),
    ] {
        let (spark, scale) = spark_with_scale(values, spark_width);
        lines.push(row(
            label,
            vec![text(spark, theme.spark), text(scale, theme.dim)],
        ));
    }
    lines.push(heading("state history"));
    if r.changes.is_empty() {
        lines.push(row("", vec![text("no change yet".into(), theme.dim)]));
    }
    for c in &r.changes {
        lines.push(row(
            &format!("{:>10}", c.at.to_string()),
            vec![text(c.what.clone(), theme.text)],
        ));
    }
    lines.push(heading("last picks"));
    if r.recent_picks.is_empty() {
        lines.push(row("", vec![text("none yet".into(), theme.dim)]));
    }
    for p in &r.recent_picks {
        let said = p.describe(|b| s.server_name(b));
        lines.push(row("", vec![text(escape(&said).into_owned(), theme.text)]));
    }
    let title = format!(" {} in detail (any key closes) ", escape(&r.name));
    super::boxed(f, rect, title, lines, theme);
}
