//! The popups: the SYN-flood form, the algorithm picker and the timeouts
//! editor.

use super::centered;
use crate::policy::Algorithm;
use crate::tui::app::App;
use crate::tui::forms::{Field, FloodForm, TimeoutsForm};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
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
        let style = if i == form.cursor {
            theme.selected
        } else {
            theme.text
        };
        lines.push(Line::from(vec![
            Span::styled(cursor(i == form.cursor), theme.key),
            Span::styled(format!("{label:<26}"), theme.dim),
            Span::styled(format!("{value:>18}"), style),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " type digits, ←→ change, Enter start, Esc cancel",
        theme.dim,
    )));
    f.render_widget(Paragraph::new(lines), inner);
}

/// The algorithm picker, `highlight` being the row under the cursor.
pub fn algorithms(f: &mut Frame, screen: Rect, highlight: usize, app: &App, theme: &Theme) {
    let area = centered(screen, 92, Algorithm::ALL.len() as u16 + 5);
    let inner = frame_popup(f, area, "balancing algorithm", theme);
    let current = app.frame.snapshot.settings.algorithm;
    let mut lines: Vec<Line> = Algorithm::ALL
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let style = if i == highlight {
                theme.selected
            } else {
                theme.text
            };
            let mark = if *a == current { "●" } else { " " };
            Line::from(vec![
                Span::styled(cursor(i == highlight), theme.key),
                Span::styled(format!("{} {mark} ", i + 1), theme.dim),
                Span::styled(format!("{:<22}", a.name()), style),
                Span::styled(a.describe(), theme.dim),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " ● in use   ↑↓ or 1-5 choose, Enter switch, Esc cancel",
        theme.dim,
    )));
    f.render_widget(Paragraph::new(lines), inner);
}

/// The timeouts editor.
pub fn timeouts(f: &mut Frame, screen: Rect, form: &TimeoutsForm, theme: &Theme) {
    let area = centered(screen, 60, Field::ALL.len() as u16 + 5);
    let inner = frame_popup(f, area, "timeouts and limits", theme);
    let mut lines: Vec<Line> = Field::ALL
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let style = if i == form.cursor {
                theme.selected
            } else {
                theme.text
            };
            Line::from(vec![
                Span::styled(cursor(i == form.cursor), theme.key),
                Span::styled(format!("{:<28}", field.label()), theme.dim),
                Span::styled(format!("{:>20}", form.show(*field)), style),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " ←→ change (applies at once), ↑↓ move, Esc close",
        theme.dim,
    )));
    f.render_widget(Paragraph::new(lines), inner);
}

/// The lab picker, `highlight` being the row under the cursor.
pub fn labs(f: &mut Frame, screen: Rect, highlight: usize, app: &App, theme: &Theme) {
    let area = centered(screen, 150, crate::lab::BUILTIN.len() as u16 + 5);
    let inner = frame_popup(f, area, "labs", theme);
    let current = &app.frame.lab.name;
    let mut lines: Vec<Line> = crate::lab::BUILTIN
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let style = if i == highlight {
                theme.selected
            } else {
                theme.text
            };
            let mark = if name == current { "●" } else { " " };
            let summary = crate::lab::builtin(name)
                .map(|l| l.summary)
                .unwrap_or_default();
            Line::from(vec![
                Span::styled(cursor(i == highlight), theme.key),
                Span::styled(format!("{mark} "), theme.dim),
                Span::styled(format!("{name:<18}"), style),
                Span::styled(summary, theme.dim),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " ● running   ↑↓ choose, Enter start it (with its own seed), Esc cancel",
        theme.dim,
    )));
    f.render_widget(Paragraph::new(lines), inner);
}
