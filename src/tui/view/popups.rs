//! The popups: the SYN-flood form, the algorithm picker and the timeouts
//! editor.

use super::centered;
use crate::lab;
use crate::spec::Algorithm;
use crate::text::escape;
use crate::tui::app::App;
use crate::tui::forms::{Field, FloodForm, TimeoutsForm};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

fn frame_popup(f: &mut Frame, area: Rect, title: &str, theme: &Theme) -> Rect {
    f.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.title)
        .title(Span::styled(format!(" {title} "), theme.title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    inner
}

/// The style of a row: highlighted under the cursor, plain otherwise.
fn row_style(selected: bool, theme: &Theme) -> Style {
    if selected { theme.selected } else { theme.text }
}

/// Draws a popup's lines with a blank line and its key hint below them.
fn finish(f: &mut Frame, inner: Rect, mut lines: Vec<Line<'_>>, hint: &str, theme: &Theme) {
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(hint.to_string(), theme.dim)));
    f.render_widget(Paragraph::new(lines), inner);
}

/// The rows of a list that fit in `inner` above the hint, scrolled so the
/// highlighted row stays in view.
fn in_view<'a>(lines: Vec<Line<'a>>, highlight: usize, inner: Rect) -> Vec<Line<'a>> {
    // A blank line and the hint sit below the list.
    let rows = usize::from(inner.height.saturating_sub(2)).max(1);
    if lines.len() <= rows {
        return lines;
    }
    let start = highlight.saturating_sub(rows - 1).min(lines.len() - rows);
    lines.into_iter().skip(start).take(rows).collect()
}

fn cursor(selected: bool) -> &'static str {
    if selected { "▶ " } else { "  " }
}

/// The SYN-flood popup.
pub fn flood(f: &mut Frame, screen: Rect, form: &FloodForm, theme: &Theme) {
    let area = centered(screen, 60, 11);
    let inner = frame_popup(f, area, "attack", theme);
    let mut lines = vec![Line::from(Span::styled(
        " spoofed SYNs, or real connections held open or trickled",
        theme.dim,
    ))];
    lines.push(Line::default());
    let values = form.values().map(|v| v.to_string());
    let shown = values.iter().map(String::as_str).chain([form.kind.name()]);
    for (i, (label, value)) in FloodForm::FIELDS.iter().zip(shown).enumerate() {
        let style = row_style(i == form.cursor, theme);
        lines.push(Line::from(vec![
            Span::styled(cursor(i == form.cursor), theme.key),
            Span::styled(format!("{label:<26}"), theme.dim),
            Span::styled(format!("{value:>18}"), style),
        ]));
    }
    finish(
        f,
        inner,
        lines,
        " type digits, ←→ change, Enter start, Esc cancel",
        theme,
    );
}

/// The algorithm picker, `highlight` being the row under the cursor.
pub fn algorithms(f: &mut Frame, screen: Rect, highlight: usize, app: &App, theme: &Theme) {
    let area = centered(screen, 100, Algorithm::ALL.len() as u16 + 5);
    let inner = frame_popup(f, area, "balancing algorithm", theme);
    let current = app.frame.snapshot.settings.algorithm;
    let lines: Vec<Line> = Algorithm::ALL
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let style = row_style(i == highlight, theme);
            // The algorithm in force is shown with its own numbers, which
            // switching to its family keeps.
            let (mark, shown) = if a.name() == current.name() {
                ("●", current)
            } else {
                (" ", *a)
            };
            let key = if i < 9 {
                format!("{:>2}", i + 1)
            } else {
                "  ".to_string()
            };
            Line::from(vec![
                Span::styled(cursor(i == highlight), theme.key),
                Span::styled(format!("{key} {mark} "), theme.dim),
                Span::styled(format!("{:<30}", shown.to_string()), style),
                Span::styled(a.describe(), theme.dim),
            ])
        })
        .collect();
    finish(
        f,
        inner,
        in_view(lines, highlight, inner),
        " ● in use   ↑↓ or 1-9 choose, Enter switch, Esc cancel",
        theme,
    );
}

/// The timeouts editor.
pub fn timeouts(f: &mut Frame, screen: Rect, form: &TimeoutsForm, theme: &Theme) {
    let area = centered(screen, 60, Field::ALL.len() as u16 + 5);
    let inner = frame_popup(f, area, "timeouts and limits", theme);
    let lines: Vec<Line> = Field::ALL
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let style = row_style(i == form.cursor, theme);
            Line::from(vec![
                Span::styled(cursor(i == form.cursor), theme.key),
                Span::styled(format!("{:<28}", field.label()), theme.dim),
                Span::styled(format!("{:>20}", form.show(*field)), style),
            ])
        })
        .collect();
    finish(
        f,
        inner,
        lines,
        " ←→ change (applies at once), ↑↓ move, Esc close",
        theme,
    );
}

/// The lab picker, `highlight` being the row under the cursor.
pub fn labs(f: &mut Frame, screen: Rect, highlight: usize, app: &App, theme: &Theme) {
    let area = centered(screen, 150, lab::BUILTIN.len() as u16 + 5);
    let inner = frame_popup(f, area, "labs", theme);
    let current = &app.frame.lab.name;
    let lines: Vec<Line> = lab::builtin_summaries()
        .iter()
        .enumerate()
        .map(|(i, (name, summary))| {
            let style = row_style(i == highlight, theme);
            let mark = if name == current { "●" } else { " " };
            Line::from(vec![
                Span::styled(cursor(i == highlight), theme.key),
                Span::styled(format!("{mark} "), theme.dim),
                // The longest built-in name and a space: a summary never
                // runs into its name.
                Span::styled(format!("{name:<width$} ", width = name_width()), style),
                Span::styled(summary.as_str(), theme.dim),
            ])
        })
        .collect();
    finish(
        f,
        inner,
        in_view(lines, highlight, inner),
        " ● running   ↑↓ choose, Enter start it (with its own seed), Esc cancel",
        theme,
    );
}

/// The width of the longest built-in lab's name.
fn name_width() -> usize {
    lab::BUILTIN.iter().map(|(n, _)| n.len()).max().unwrap_or(0)
}

/// Why the selected server got its last picks: what the algorithm saw for
/// each, newest last, live.
pub fn why(f: &mut Frame, screen: Rect, app: &App, theme: &Theme) {
    let rows = &app.frame.snapshot.servers;
    let row = rows.get(app.selected.min(rows.len().saturating_sub(1)));
    let title = row.map_or_else(
        || "why this backend?".to_string(),
        |r| format!("why {}? its last picks", escape(&r.name)),
    );
    let picks = row.map(|r| r.recent_picks.as_slice()).unwrap_or_default();
    let area = centered(screen, 120, picks.len().max(1) as u16 + 5);
    let inner = frame_popup(f, area, &title, theme);
    let lines: Vec<Line> = if picks.is_empty() {
        vec![Line::styled(
            " no new connection has gone to it yet (or this engine does not say why)",
            theme.dim,
        )]
    } else {
        picks
            .iter()
            .map(|p| {
                let said = p.describe(|b| app.frame.snapshot.server_name(b));
                Line::styled(format!(" {}", escape(&said)), theme.dim)
            })
            .collect()
    };
    finish(f, inner, lines, " any key closes", theme);
}
