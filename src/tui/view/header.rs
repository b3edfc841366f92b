//! The header line: lab, clock, speed, run state, algorithm, seed and what
//! defences and attacks are in force.

use crate::engine::Settings;
use crate::live::Speed;
use crate::spec::CookieMode;
use crate::text::escape;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the header into `area` (one line).
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.frame.snapshot;
    let pace = app.frame.pace;
    let sep = || Span::styled(" │ ", theme.dim);
    let mut spans = vec![
        Span::styled(" lblab ", theme.title),
        sep(),
        Span::styled(escape(&s.lab).into_owned(), theme.text),
        sep(),
        Span::styled(format!("t={}", s.now), theme.text),
        sep(),
    ];
    if pace.paused {
        spans.push(Span::styled("PAUSED", theme.warn));
    } else {
        spans.push(Span::styled(format!("{}", pace.speed), theme.text));
        if pace.behind {
            spans.push(Span::styled(
                format!(" (CPU keeps up with ×{:.0})", pace.achieved),
                theme.warn,
            ));
        } else if pace.speed == Speed::Max {
            spans.push(Span::styled(format!(" (×{:.0})", pace.achieved), theme.dim));
        }
    }
    if s.finished {
        spans.push(Span::styled(" finished", theme.good));
    }
    spans.extend([
        sep(),
        Span::styled(s.settings.algorithm.to_string(), theme.info),
        sep(),
        Span::styled(format!("seed {}", s.seed), theme.dim),
        sep(),
        Span::styled(defences(&s.settings).join(", "), theme.dim),
    ]);
    if s.floods_active > 0 {
        // The Snapshot counts running floods of every kind without naming
        // them, and a connection flood is no SYN flood: the log line of
        // each flood names its kind.
        spans.push(sep());
        spans.push(Span::styled("UNDER ATTACK", theme.bad));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The defences in force, in words (`rate limit 20 per 1s, burst 40 (12
/// sources, 0 evicted)`).
pub fn defences(s: &Settings) -> Vec<String> {
    let d = &s.defences;
    // A real proxy keeps no half-open entries, so it has no such limit.
    let mut out = Vec::new();
    if s.max_half_open > 0 {
        out.push(format!("half-open limit {}", s.max_half_open));
    }
    if let Some(l) = &d.rate_limit {
        // The eviction count shows when the source table is too small for
        // the attack (evicted sources start with a fresh burst).
        out.push(format!(
            "rate limit {} per {}, burst {} ({} sources, {} evicted)",
            l.spec.rate.get(),
            l.spec.per,
            l.spec.burst.get(),
            l.sources,
            l.evictions
        ));
    }
    if d.syn_cookies != CookieMode::Off {
        out.push(format!("SYN cookies {}", d.syn_cookies.name()));
    }
    if d.early_drop {
        out.push("early drop".to_string());
    }
    if !d.filter.is_empty() {
        out.push(format!(
            "filter +{}/-{}",
            d.filter.allow.len(),
            d.filter.deny.len()
        ));
    }
    out
}
