//! The lesson panel: the lab's objectives with live pass / fail marks, then
//! the lesson's paragraphs and numbered steps, scrollable.

use crate::engine::Verdict;
use crate::text::escape;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// The mark and style of a verdict.
fn mark(v: Verdict, theme: &Theme) -> (&'static str, ratatui::style::Style) {
    match v {
        Verdict::Pass => ("✔", theme.good),
        Verdict::Fail => ("✖", theme.bad),
        Verdict::Pending => ("…", theme.warn),
        Verdict::Invalid => ("?", theme.warn),
    }
}

/// Draws the objectives and the lesson into `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let lab = &app.frame.lab;
    let mut lines: Vec<Line> = Vec::new();
    let objectives = &app.frame.snapshot.objectives;
    if !objectives.is_empty() {
        lines.push(Line::from(Span::styled("objectives", theme.title)));
        for o in objectives {
            let (symbol, style) = mark(o.verdict, theme);
            let value = o
                .value
                .map_or("–".to_string(), |v| format!("{v:.1}{}", o.unit));
            lines.push(Line::from(vec![
                Span::styled(format!(" {symbol} "), style),
                Span::styled(escape(&o.name).into_owned(), theme.text),
                Span::styled(format!("  now {value}"), theme.dim),
            ]));
            lines.push(Line::from(Span::styled(
                format!("   {}", escape(&o.claim)),
                theme.dim,
            )));
        }
        lines.push(Line::default());
    }
    if lab.lesson.is_empty() {
        lines.push(Line::from(Span::styled(
            "This lab has no lesson. Press l to choose a lab that has one.",
            theme.dim,
        )));
    }
    for p in &lab.lesson.text {
        lines.push(Line::from(Span::styled(escape(p).into_owned(), theme.text)));
        lines.push(Line::default());
    }
    for (i, step) in lab.lesson.steps.iter().enumerate() {
        lines.push(Line::from(vec![
            Span::styled(format!("{}. ", i + 1), theme.key),
            Span::styled(escape(&step.text).into_owned(), theme.text),
        ]));
    }
    let title = Line::from(vec![
        Span::styled(" lesson ", theme.title),
        Span::styled(format!("{} ", escape(&lab.name)), theme.dim),
        Span::styled("(J/K or PgDn/PgUp scroll) ", theme.dim),
    ]);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(title);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((app.lesson_scroll, 0)),
        area,
    );
}
