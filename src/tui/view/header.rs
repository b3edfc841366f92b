//! The header line: lab, clock, speed, run state, algorithm, seed and what
//! defences and attacks are in force.

use crate::live::Speed;
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
        Span::styled(s.lab.clone(), theme.text),
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
        Span::styled(s.defences.join(", "), theme.dim),
    ]);
    if s.floods_active > 0 {
        spans.push(sep());
        spans.push(Span::styled("SYN FLOOD", theme.bad));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
