//! The lesson panel: the steps first, the current one (by simulated time)
//! marked ▶ and highlighted with its moment; the objectives as one compact
//! line of verdicts (the reports keep their full claims); then the
//! lesson's paragraphs. Scrollable, and following the current step while
//! the reader has not scrolled.

use crate::engine::{ObjectiveStatus, Verdict};
use crate::model::SimTime;
use crate::spec::Lesson;
use crate::text::escape;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// The mark and style of a verdict.
fn mark(v: Verdict, theme: &Theme) -> (&'static str, Style) {
    match v {
        Verdict::Pass => ("✔", theme.good),
        Verdict::Fail => ("✖", theme.bad),
        Verdict::Pending => ("…", theme.warn),
        Verdict::Invalid => ("?", theme.warn),
    }
}

/// One line for every objective: how many pass and fail, then each one's
/// mark, name and value now.
fn objectives_line(objectives: &[ObjectiveStatus], theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for v in [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Pending,
        Verdict::Invalid,
    ] {
        let n = objectives.iter().filter(|o| o.verdict == v).count();
        // Passing and failing counts always show, so a glance reads "✔ 0".
        if n > 0 || matches!(v, Verdict::Pass | Verdict::Fail) {
            let (symbol, style) = mark(v, theme);
            spans.push(Span::styled(format!("{symbol} {n} "), style));
        }
    }
    for o in objectives {
        let (symbol, style) = mark(o.verdict, theme);
        let value = o
            .value
            .map_or("–".to_string(), |v| format!("{v:.1}{}", o.unit));
        spans.push(Span::styled("· ", theme.dim));
        spans.push(Span::styled(format!("{symbol} "), style));
        spans.push(Span::styled(format!("{} ", escape(&o.name)), theme.text));
        spans.push(Span::styled(format!("{value} "), theme.dim));
    }
    Line::from(spans)
}

/// Where the current step's lines are: the first line of the step before
/// it (or its own), its first line, and the line after its last.
type CurrentRows = (usize, usize, usize);

/// The numbered steps, wrapped to `width` with their text indented past
/// the number, the current one marked and highlighted; returns the lines
/// and where the current step is among them, if a step is current.
fn step_lines(
    lesson: &Lesson,
    now: SimTime,
    width: u16,
    theme: &Theme,
) -> (Vec<Line<'static>>, Option<CurrentRows>) {
    let current = lesson.current_step(now.saturating_since(SimTime::ZERO));
    let highlight = theme.selected.add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    let (mut previous, mut found) = (0, None);
    for (i, step) in lesson.steps.iter().enumerate() {
        let is_current = current == Some(i);
        let start = lines.len();
        let marker = if is_current { "▶ " } else { "  " };
        let lead = vec![
            Span::styled(marker, theme.key),
            Span::styled(format!("{}. ", i + 1), theme.key),
        ];
        let mut words: Vec<(String, Style)> = Vec::new();
        if let Some(at) = step.at {
            let style = if is_current { highlight } else { theme.dim };
            words.push((format!("at {at}"), style));
        }
        let style = if is_current { highlight } else { theme.text };
        let text = escape(&step.text);
        words.extend(text.split(' ').map(|w| (w.to_string(), style)));
        lines.extend(hang(lead, words, usize::from(width)));
        if is_current {
            found = Some((previous, start, lines.len()));
        }
        previous = start;
    }
    (lines, found)
}

/// Lays `words` out in rows of at most `width` columns after `lead`,
/// indenting the rows after the first by the lead's width so a step's
/// number stands clear of its text. A word longer than a row is left to
/// the paragraph's own wrapping.
fn hang(lead: Vec<Span<'static>>, words: Vec<(String, Style)>, width: usize) -> Vec<Line<'static>> {
    let indent: usize = lead.iter().map(Span::width).sum();
    let room = width.saturating_sub(indent).max(8);
    let mut rows: Vec<Vec<Span<'static>>> = vec![lead];
    let mut used = 0;
    for (word, style) in words {
        let w = Span::raw(word.as_str()).width();
        if used > 0 && used + 1 + w > room {
            rows.push(vec![Span::raw(" ".repeat(indent))]);
            used = 0;
        }
        let row = rows.last_mut().expect("rows start with the lead");
        if used > 0 {
            row.push(Span::styled(" ", style));
            used += 1;
        }
        row.push(Span::styled(word, style));
        used += w;
    }
    rows.into_iter().map(Line::from).collect()
}

/// Draws the lesson into `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let lab = &app.frame.lab;
    let inner = Rect {
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
        ..area
    };
    let (mut lines, current) = step_lines(&lab.lesson, app.frame.snapshot.now, inner.width, theme);
    if !lab.lesson.steps.is_empty() {
        lines.push(Line::default());
    }
    let objectives = &app.frame.snapshot.objectives;
    if !objectives.is_empty() {
        lines.push(objectives_line(objectives, theme));
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
    // Until the reader scrolls, keep the current step in view, with the
    // step before it for context when there is room for all of it.
    let scroll = match current {
        Some((previous, start, end)) if app.lesson_scroll == 0 => {
            let height = usize::from(inner.height);
            // The step before stays in view only whole: a cut one is noise.
            let top = if end <= height {
                0
            } else if end - previous <= height {
                previous
            } else {
                start
            };
            u16::try_from(top).unwrap_or(u16::MAX)
        }
        _ => app.lesson_scroll,
    };
    let title = Line::from(vec![
        Span::styled(" lesson ", theme.title),
        Span::styled(format!("{} ", escape(&lab.name)), theme.dim),
        Span::styled("(PgUp/PgDn) ", theme.dim),
    ]);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_of(app, crate::tui::app::Panel::Lesson))
        .title(title);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}
