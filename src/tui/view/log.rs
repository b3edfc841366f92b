//! The event log: kills, revivals, health flips with their detection delay,
//! floods, setting changes and the first drop of each kind, newest last.
//! Every entry of the run, wrapped to full lines, scrolled with PgUp/PgDn
//! or the wheel when focused, filtered with `/`.

use crate::engine::LogEntry;
use crate::text::escape;
use crate::tui::app::{App, Overlay, Panel};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Width of the time column (" 123.456s ").
const TIME_WIDTH: usize = 12;

/// Draws the log into `area`: the newest entries that fit, or the ones
/// the reader scrolled back to.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let shown = app.log.shown();
    let room = usize::from(area.height.saturating_sub(2));
    let text_width = usize::from(area.width.saturating_sub(2))
        .saturating_sub(TIME_WIDTH)
        .max(10);
    let end = shown.len().saturating_sub(app.log.scroll);
    // Newest first until the panel is full, then back in reading order.
    let mut lines: Vec<Line> = Vec::new();
    for e in shown[..end].iter().rev() {
        let mut entry = entry_lines(e, text_width, theme);
        if lines.len() + entry.len() > room {
            // The oldest entry that does not fit whole shows its end.
            let keep = room - lines.len();
            let cut = entry.len() - keep;
            entry.drain(..cut);
            if let Some(first) = entry.first_mut() {
                first.spans.insert(1, Span::styled("…", theme.dim));
            }
            lines.splice(0..0, entry);
            break;
        }
        lines.splice(0..0, entry);
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_of(app, Panel::Log))
        .title(Span::styled(title(app, shown.len()), theme.title));
    let body = if lines.is_empty() {
        let text = if app.log.filter.is_empty() {
            " nothing yet: press x to kill a server, f to flood, ? for help".to_string()
        } else {
            format!(" no entry matches \"{}\"", escape(&app.log.filter))
        };
        Paragraph::new(Span::styled(text, theme.dim))
    } else {
        Paragraph::new(lines)
    };
    f.render_widget(body.block(block), area);
}

/// " events /flood (3 of 40) ↓ 12 newer " and the like.
fn title(app: &App, shown: usize) -> String {
    let mut t = " events".to_string();
    if !app.log.filter.is_empty() || app.overlay == Overlay::Filter {
        let cursor = if app.overlay == Overlay::Filter {
            "▏"
        } else {
            ""
        };
        t.push_str(&format!(
            " /{}{cursor} ({shown} of {})",
            escape(&app.log.filter),
            app.log.len()
        ));
    }
    if app.log.scroll > 0 {
        t.push_str(&format!(" ↓ {} newer (End)", app.log.scroll));
    }
    if app.log.dropped > 0 {
        t.push_str(&format!(" {} older forgotten", app.log.dropped));
    }
    t.push(' ');
    t
}

/// One entry as lines of at most `width` characters of text: the time on
/// the first, the continuation indented under the text.
fn entry_lines<'a>(e: &LogEntry, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let style = theme.log_kind(e.kind);
    wrap(&escape(&e.text), width)
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let time = if i == 0 {
                format!(" {:>10} ", e.at.to_string())
            } else {
                " ".repeat(TIME_WIDTH)
            };
            Line::from(vec![
                Span::styled(time, theme.dim),
                Span::styled(piece, style),
            ])
        })
        .collect()
}

/// `text` broken between words into lines of at most `width` characters
/// (a word longer than a line is split).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let used = line.chars().count();
            let need = word.chars().count() + usize::from(used > 0);
            if used + need <= width {
                if used > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if used > 0 {
                out.push(std::mem::take(&mut line));
                continue;
            }
            // A word wider than the line: split it.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            out.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_between_words_and_splits_only_words_too_long() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("fits whole", 10), ["fits whole"]);
    }
}
