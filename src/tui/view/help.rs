//! The help overlay: the whole key table, as `keys.rs` defines it, one key
//! per line with its description wrapped (never cut), scrolled with ↑↓
//! when the screen is shorter than the table.

use super::centered;
use super::log::wrap;
use crate::tui::keys::{KEYS, Scope, keys_label};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Width of the key column.
const KEY_WIDTH: usize = 14;

fn section<'a>(scope: Scope, heading: &'static str, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = vec![Line::from(Span::styled(format!(" {heading}"), theme.title))];
    let text_width = width.saturating_sub(KEY_WIDTH + 1).max(10);
    let rows = KEYS
        .iter()
        .filter(|b| b.scope == scope)
        .map(|b| (keys_label(b), b.help))
        .chain((scope == Scope::Popup).then(|| ("0-9".to_string(), "type a value")));
    for (keys, help) in rows {
        for (i, piece) in wrap(help, text_width).into_iter().enumerate() {
            let key = if i == 0 { keys.as_str() } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("  {key:<w$}", w = KEY_WIDTH - 2), theme.key),
                Span::styled(piece, theme.text),
            ]));
        }
    }
    lines
}

/// Every line of the help for a box `width` wide (borders included).
pub fn lines<'a>(width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let inner = width.saturating_sub(2);
    let mut out = section(Scope::Global, "anywhere", inner, theme);
    out.extend(section(Scope::Main, "main screen", inner, theme));
    out.extend(section(Scope::Popup, "in a popup", inner, theme));
    out.push(Line::from(Span::styled(
        " mouse: click a server or a panel's title (twice maximises), wheel scrolls",
        theme.dim,
    )));
    out
}

/// Draws the key table over `screen`, scrolled down by `scroll` lines (at
/// most to its end).
pub fn render(f: &mut Frame, screen: Rect, scroll: u16, theme: &Theme) {
    let width = screen.width.min(96);
    let lines = lines(usize::from(width), theme);
    let total = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let area = centered(screen, width, total.saturating_add(2));
    let visible = area.height.saturating_sub(2);
    let scroll = scroll.min(total.saturating_sub(visible));
    let title = if visible < total {
        format!(
            " keys {}-{} of {} (↑↓ scroll, any other key closes) ",
            scroll + 1,
            (scroll + visible).min(total),
            total
        )
    } else {
        " keys (any key closes) ".to_string()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.title)
        .title(Span::styled(title, theme.title));
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}
