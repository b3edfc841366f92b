//! The end-of-lab summary: shown once when a lab's duration is up or its
//! workload has finished, with every objective's verdict and value, the
//! key figures, and how to keep the report.

use crate::engine::{Percentiles, Verdict};
use crate::spec::FailReason;
use crate::text::escape;
use crate::tui::app::{App, report_file_name};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// Draws the summary over `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.frame.snapshot;
    let mut lines = vec![
        Line::from(Span::styled(
            format!(" {} at t={}", escape(&s.lab), s.now),
            theme.title,
        )),
        Line::default(),
    ];
    if s.objectives.is_empty() {
        lines.push(Line::from(Span::styled(
            " this lab states no objectives",
            theme.dim,
        )));
    }
    for o in &s.objectives {
        let (mark, style) = match o.verdict {
            Verdict::Pass => ("✔", theme.good),
            Verdict::Fail => ("✖", theme.bad),
            Verdict::Pending => ("…", theme.dim),
            Verdict::Invalid => ("?", theme.warn),
        };
        let value = o
            .value
            .map_or("–".to_string(), |v| format!("{v:.1}{}", o.unit));
        lines.push(Line::from(vec![
            Span::styled(format!(" {mark} "), style),
            Span::styled(escape(&o.name).into_owned(), theme.text),
            Span::styled(format!("  {value}  "), style),
            Span::styled(escape(&o.claim).into_owned(), theme.dim),
        ]));
    }
    lines.push(Line::default());
    let c = &s.conns;
    let rate = c
        .success_rate_pct()
        .map_or("–".to_string(), |r| format!("{r:.1}%"));
    lines.push(Line::from(Span::styled(
        format!(
            " connections {} completed, {} failed: success {rate}",
            c.completed,
            c.failed_total()
        ),
        theme.text,
    )));
    let reasons: Vec<String> = FailReason::ALL
        .iter()
        .zip(c.failed)
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| format!("{} {n}", r.name()))
        .collect();
    if !reasons.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("   failed by reason: {}", reasons.join(" · ")),
            theme.dim,
        )));
    }
    for (name, p) in [
        ("handshake", &s.latency.handshake),
        ("completion", &s.latency.completion),
        ("detection", &s.latency.detection),
    ] {
        if p.count > 0 {
            lines.push(Line::from(Span::styled(
                format!(" {name:<10} {}", percentiles_ms(p)),
                theme.text,
            )));
        }
    }
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled(" s", theme.key),
        Span::styled(
            format!(" saves this report to {}", report_file_name(app)),
            theme.dim,
        ),
    ]));
    lines.push(Line::from(vec![
        Span::styled(" space", theme.key),
        Span::styled(" runs on   ", theme.dim),
        Span::styled("R", theme.key),
        Span::styled(" restarts   ", theme.dim),
        Span::styled("l", theme.key),
        Span::styled(" another lab   ", theme.dim),
        Span::styled("Esc", theme.key),
        Span::styled(" closes", theme.dim),
    ]));
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let rect = super::centered(area, area.width.saturating_sub(6).min(100), height);
    super::boxed(f, rect, " the lab is over: summary ".into(), lines, theme);
}

/// `p50 12.3 ms · p95 … · p99 …` with "–" where nothing was measured.
fn percentiles_ms(p: &Percentiles) -> String {
    let ms = |d: Option<crate::model::SimDuration>| {
        d.map_or("–".to_string(), |d| {
            format!("{:.1} ms", d.as_secs_f64() * 1e3)
        })
    };
    format!(
        "p50 {} · p95 {} · p99 {} ({} measured)",
        ms(p.p50),
        ms(p.p95),
        ms(p.p99),
        p.count
    )
}
