//! Colours and styles, in one place, with a monochrome variant for
//! `NO_COLOR` (https://no-color.org).

use crate::engine::{LogKind, ServerState};
use ratatui::style::{Color, Modifier, Style};

/// The styles the views use.
#[derive(Clone, Copy, Debug)]
pub struct Theme {
    /// Ordinary text.
    pub text: Style,
    /// Less important text.
    pub dim: Style,
    /// Panel titles and labels.
    pub title: Style,
    /// Borders.
    pub border: Style,
    /// Selected row.
    pub selected: Style,
    /// Good news.
    pub good: Style,
    /// Needs attention.
    pub warn: Style,
    /// Bad news.
    pub bad: Style,
    /// Informational highlights.
    pub info: Style,
    /// Sparkline bars.
    pub spark: Style,
    /// Key names in hints.
    pub key: Style,
    colour: bool,
}

impl Theme {
    /// A panel's border: bright when the panel has the focus (Tab, a
    /// click), so the keys and the wheel visibly act on it.
    pub fn border_of(
        &self,
        app: &crate::tui::app::App,
        panel: crate::tui::app::Panel,
    ) -> ratatui::style::Style {
        if app.focus == panel {
            self.title
        } else {
            self.border
        }
    }

    /// The colour theme, or the monochrome one.
    pub fn new(monochrome: bool) -> Theme {
        if monochrome {
            let plain = Style::default();
            return Theme {
                text: plain,
                dim: plain,
                title: plain.add_modifier(Modifier::BOLD),
                border: plain,
                selected: plain.add_modifier(Modifier::REVERSED),
                good: plain,
                warn: plain.add_modifier(Modifier::BOLD),
                bad: plain.add_modifier(Modifier::BOLD),
                info: plain,
                spark: plain,
                key: plain.add_modifier(Modifier::BOLD),
                colour: false,
            };
        }
        Theme {
            text: Style::default().fg(Color::Gray),
            dim: Style::default().fg(Color::DarkGray),
            title: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            border: Style::default().fg(Color::DarkGray),
            selected: Style::default()
                .bg(Color::Rgb(40, 44, 60))
                .add_modifier(Modifier::BOLD),
            good: Style::default().fg(Color::Green),
            warn: Style::default().fg(Color::Yellow),
            bad: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            info: Style::default().fg(Color::Cyan),
            spark: Style::default().fg(Color::Blue),
            key: Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            colour: true,
        }
    }

    /// Whether colours are on.
    pub fn has_colour(&self) -> bool {
        self.colour
    }

    /// Symbol and style of a server state.
    pub fn server_state(&self, s: ServerState) -> (&'static str, Style) {
        match s {
            ServerState::Up => ("●", self.good),
            ServerState::Down => ("▼", self.warn),
            ServerState::Draining => ("◐", self.info),
            ServerState::Killed => ("✖", self.bad),
            ServerState::Ejected => ("⊘", self.warn),
        }
    }

    /// Style of an event-log line.
    pub fn log_kind(&self, k: LogKind) -> Style {
        match k {
            LogKind::Chaos => self.bad,
            LogKind::Health => self.warn,
            LogKind::Flood => self.bad,
            LogKind::Config => self.info,
            LogKind::Drop => self.warn,
            LogKind::Error => self.bad,
            LogKind::Objective => self.title,
            LogKind::Info => self.text,
        }
    }
}

/// Eight heights of block for text sparklines.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The newest `width` values as a one-line sparkline scaled to their max.
pub fn spark_text(values: &[u64], width: usize) -> String {
    let tail = &values[values.len().saturating_sub(width)..];
    let max = tail.iter().copied().max().unwrap_or(0);
    let mut s: String = tail
        .iter()
        .map(|&v| {
            if max == 0 {
                ' '
            } else {
                BARS[((v * 7).div_ceil(max) as usize).min(7)]
            }
        })
        .collect();
    let pad = width.saturating_sub(tail.len());
    s.insert_str(0, &" ".repeat(pad));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_text_scales_to_its_max_and_pads_left() {
        assert_eq!(spark_text(&[0, 7, 14], 5), "  ▁▅█");
        assert_eq!(spark_text(&[0, 0], 2), "  ");
        assert_eq!(spark_text(&[1, 2, 3, 4], 2), "▇█");
        assert_eq!(spark_text(&[], 0), "");
    }
}
