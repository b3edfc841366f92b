//! The status bar: the main key hints, or the notice the last key left.

use crate::text::escape;
use crate::tui::app::{App, Overlay};
use crate::tui::keys;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the status bar into `area` (one line).
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    if let Some(n) = &app.notice {
        // A notice may quote a lab's name or a file's error text.
        spans.push(Span::styled(format!(" {} ", escape(n)), theme.warn));
        spans.push(Span::styled("│", theme.dim));
    }
    let hints: Vec<(String, &str)> = if app.overlay == Overlay::Help {
        vec![("any key".to_string(), "close help")]
    } else if matches!(app.overlay, Overlay::Why | Overlay::Detail(_)) {
        vec![("any key".to_string(), "close")]
    } else {
        keys::hints(app.overlay.is_popup(), app.frame.real_time).collect()
    };
    for (k, what) in hints {
        spans.push(Span::styled(format!(" {k}"), theme.key));
        spans.push(Span::styled(format!(" {what} "), theme.dim));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
