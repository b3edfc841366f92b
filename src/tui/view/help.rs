//! The help overlay: the whole key table, as `keys.rs` defines it. In one
//! column when the screen is tall enough, else in two.

use super::centered;
use crate::tui::keys::{KEYS, Scope, keys_label};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

fn section<'a>(scopes: &[(Scope, &'static str)], theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for (scope, heading) in scopes {
        lines.push(Line::from(Span::styled(format!(" {heading}"), theme.title)));
        for b in KEYS.iter().filter(|b| b.scope == *scope) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<12}", keys_label(b)), theme.key),
                Span::styled(b.help, theme.text),
            ]));
        }
    }
    lines
}

/// Draws the key table over `screen`.
pub fn render(f: &mut Frame, screen: Rect, theme: &Theme) {
    let left = section(
        &[(Scope::Global, "anywhere"), (Scope::Main, "main screen")],
        theme,
    );
    let mut right = section(&[(Scope::Popup, "in a popup")], theme);
    right.push(Line::from(vec![
        Span::styled(format!("  {:<12}", "0-9"), theme.key),
        Span::styled("type a value in the flood popup", theme.text),
    ]));
    let one_column = screen.height as usize >= left.len() + right.len() + 2;
    let title = Span::styled(" keys (any key closes) ", theme.title);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.title)
        .title(title);
    if one_column {
        let lines: Vec<Line> = left.into_iter().chain(right).collect();
        let area = centered(screen, 84, lines.len() as u16 + 2);
        f.render_widget(Clear, area);
        f.render_widget(Paragraph::new(lines).block(block), area);
        return;
    }
    // Too short for one column: the same lines, half in each of two.
    let mut lines: Vec<Line> = left.into_iter().chain(right).collect();
    let second = lines.split_off(lines.len().div_ceil(2));
    let area = centered(screen, 160, lines.len() as u16 + 2);
    f.render_widget(Clear, area);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [l, r] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    f.render_widget(Paragraph::new(lines), l);
    f.render_widget(Paragraph::new(second), r);
}
