//! One server in detail (Enter on a row): its state, what the balancer
//! believes, its connections and its last picks.

use crate::text::escape;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// Draws the detail view of server row `index` over `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme, index: usize) {
    let Some(row) = app.frame.snapshot.servers.get(index) else {
        return;
    };
    let rect = super::centered(
        area,
        area.width.saturating_sub(8),
        area.height.saturating_sub(4),
    );
    let lines = vec![Line::from(vec![
        Span::styled(" state ", theme.dim),
        Span::styled(row.state.name(), theme.text),
    ])];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(
            format!(" {} (any key closes) ", escape(&row.name)),
            theme.title,
        ));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        rect,
    );
}
