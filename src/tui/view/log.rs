//! The event log: kills, revivals, health flips with their detection delay,
//! floods, setting changes and the first drop of each kind, newest last.

use crate::text::escape;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Draws the newest log lines that fit into `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let log = &app.frame.snapshot.log;
    let room = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = log[log.len().saturating_sub(room)..]
        .iter()
        .map(|e| {
            Line::from(vec![
                Span::styled(format!(" {:>10} ", e.at.to_string()), theme.dim),
                Span::styled(escape(&e.text).into_owned(), theme.log_kind(e.kind)),
            ])
        })
        .collect();
    let empty = lines.is_empty();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" events ", theme.title));
    let body = if empty {
        Paragraph::new(Span::styled(
            " nothing yet: press x to kill a server, f to flood, ? for help",
            theme.dim,
        ))
    } else {
        Paragraph::new(lines)
    };
    f.render_widget(body.block(block), area);
}
