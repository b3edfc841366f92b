//! The help overlay: the whole key table, as `keys.rs` defines it.

use super::centered;
use crate::tui::keys::{KEYS, Scope, keys_label};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Draws the key table over `screen`.
pub fn render(f: &mut Frame, screen: Rect, theme: &Theme) {
    let mut lines = Vec::new();
    for (scope, heading) in [
        (Scope::Global, "anywhere"),
        (Scope::Main, "main screen"),
        (Scope::Popup, "in a popup"),
    ] {
        lines.push(Line::from(Span::styled(format!(" {heading}"), theme.title)));
        for b in KEYS.iter().filter(|b| b.scope == scope) {
            lines.push(Line::from(vec![
                Span::styled(format!("   {:<14}", keys_label(b)), theme.key),
                Span::styled(b.help, theme.text),
            ]));
        }
    }
    lines.push(Line::from(vec![
        Span::styled(format!("   {:<14}", "0-9"), theme.key),
        Span::styled("type a value in the flood popup", theme.text),
    ]));
    let area = centered(screen, 84, lines.len() as u16 + 2);
    f.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.title)
        .title(Span::styled(" keys (any key closes) ", theme.title));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
