//! The connection inspector: one client's newest packets as a ladder
//! diagram, time going down, as a textbook draws a handshake.
//!
//! ```text
//! ┌ packets of client 12 (10.0.0.13) ────────────────────────────────────┐
//! │   time (s)   client         balancer 192.0.2.1:80    server 172.16.0.1 │
//! │   0.000461   │── SYN 1429197780 ──────▶│                        │      │
//! │   0.001461   │                         │── SYN 1429197780 ─────▶│      │
//! │   0.002461   │                         │◀─ SYN|ACK 32208… ──────│      │
//! └ any key closes ─────────────────────────────────────────────────────┘
//! ```
//!
//! The client link is drawn between the first two lanes, a backend link
//! (after NAT) between the last two. A segment sent again with the same
//! sequence number is marked `again`: a retransmission.

use super::centered;
use crate::engine::{InspectedPacket, Inspection};
use crate::model::{Flags, Packet};
use crate::text::escape;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use std::collections::HashSet;

/// Columns of the time, before the first lane.
const TIME: usize = 12;

/// Columns kept right of the server's lane for its label
/// (`server 172.16.0.10:8080`).
const SERVER_LABEL: usize = 23;

/// Widest the popup is drawn.
pub const WIDTH: u16 = 118;

/// Draws the inspector over `screen`.
pub fn render(f: &mut Frame, screen: Rect, app: &App, theme: &Theme) {
    let inspected = app.frame.snapshot.inspected.as_ref();
    let rows = inspected.map_or(0, |i| i.packets.len());
    let area = centered(screen, WIDTH, rows as u16 + 5);
    f.render_widget(Clear, area);
    let title = match inspected {
        Some(Inspection {
            client: Some(c),
            address,
            ..
        }) => format!(" packets of client {c} ({address}) "),
        Some(i) => format!(" packets of {} ", i.address),
        None => " packets of a connection ".to_string(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.title)
        .title(Span::styled(title, theme.title))
        .title_bottom(Span::styled(" any key closes ", theme.dim));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let lines = match inspected {
        Some(i) if !i.packets.is_empty() => ladder(i, inner, theme),
        Some(_) => vec![Line::styled(
            " no packet of this client yet: it will appear as it sends",
            theme.dim,
        )],
        None => vec![Line::styled(
            " select a server and press i: its last pick's client is inspected",
            theme.dim,
        )],
    };
    f.render_widget(Paragraph::new(lines), inner);
}

/// The header and one row per packet, the newest that fit in `inner`.
fn ladder<'a>(i: &Inspection, inner: Rect, theme: &Theme) -> Vec<Line<'a>> {
    let width = usize::from(inner.width);
    // Two gaps share what the time, the three lanes and the server's
    // label leave.
    let gap = width.saturating_sub(TIME + 3 + SERVER_LABEL) / 2;
    let server = i.packets.iter().rev().find(|p| p.backend).map(|p| {
        let k = p.packet.key;
        if p.toward_balancer { k.src } else { k.dst }
    });
    let vip = i
        .packets
        .iter()
        .find(|p| !p.backend)
        .map(|p| {
            let k = p.packet.key;
            if p.toward_balancer { k.dst } else { k.src }
        })
        .map_or_else(String::new, |e| e.to_string());
    let head = format!(
        "{:<TIME$}{:<w1$}{:<w2$}{}",
        "  time (s)",
        "client",
        format!("balancer {vip}"),
        server.map_or_else(|| "server".to_string(), |s| format!("server {s}")),
        w1 = gap + 1,
        w2 = gap + 1,
    );
    let mut lines = vec![Line::styled(head, theme.title)];
    let room = usize::from(inner.height).saturating_sub(1);
    let again = retransmitted(&i.packets);
    let skip = i.packets.len().saturating_sub(room);
    for (n, p) in i.packets.iter().enumerate().skip(skip) {
        lines.push(row(p, again[n], gap, theme));
    }
    lines
}

/// For each packet, whether the same sender sent the same segment before
/// (same direction, link, ports, sequence number and control bits).
fn retransmitted(packets: &[InspectedPacket]) -> Vec<bool> {
    let mut seen = HashSet::new();
    packets
        .iter()
        .map(|p| {
            let q = p.packet;
            // A bare ACK repeats its sequence number by nature.
            let counts = q.len > 0 || q.flags.intersects(Flags::SYN | Flags::FIN);
            counts && !seen.insert((p.backend, q.key, q.seq, q.flags.bits(), q.len))
        })
        .collect()
}

fn row<'a>(p: &InspectedPacket, again: bool, gap: usize, theme: &Theme) -> Line<'a> {
    let mut label = describe(&p.packet);
    if again {
        label.push_str(" again");
    }
    // Right for the client's packets and the balancer's toward a server.
    let rightward = p.toward_balancer != p.backend;
    let arrow = arrow(&label, gap, rightward);
    let blank = " ".repeat(gap);
    let (first, second) = if p.backend {
        (blank, arrow)
    } else {
        (arrow, blank)
    };
    let style = style_of(&p.packet, again, p.backend, theme);
    let (a, b): (Style, Style) = if p.backend {
        (theme.dim, style)
    } else {
        (style, theme.dim)
    };
    Line::from(vec![
        Span::styled(
            format!(
                "  {:<w$}",
                format!("{:.6}", p.at.as_secs_f64()),
                w = TIME - 2
            ),
            theme.dim,
        ),
        Span::styled("│", theme.border),
        Span::styled(first, a),
        Span::styled("│", theme.border),
        Span::styled(second, b),
        Span::styled("│", theme.border),
    ])
}

fn style_of(p: &Packet, again: bool, backend: bool, theme: &Theme) -> Style {
    if p.flags.contains(Flags::RST) {
        theme.bad
    } else if again {
        theme.warn
    } else if p.flags.intersects(Flags::SYN | Flags::FIN) {
        theme.good
    } else if backend {
        theme.text
    } else {
        theme.info
    }
}

/// Flags, then what a reader checks: the sequence number, and the
/// payload length of a data segment or else the acknowledgment (when ACK
/// is set), so that a label fits between two lanes.
fn describe(p: &Packet) -> String {
    let mut s = format!("{} {}", escape(&p.flags.to_string()), p.seq);
    if p.len > 0 {
        s.push_str(&format!(" len {}", p.len));
    } else if p.flags.contains(Flags::ACK) {
        s.push_str(&format!(" ack {}", p.ack));
    }
    s
}

/// `label` on an arrow exactly `width` columns wide, cut with … when it
/// does not fit.
fn arrow(label: &str, width: usize, rightward: bool) -> String {
    // Two dashes, a space each side of the label and the head.
    const FRAME: usize = 5;
    if width <= FRAME {
        return if rightward { "▶" } else { "◀" }.repeat(width);
    }
    let room = width - FRAME;
    let text: String = if label.chars().count() > room {
        let mut t: String = label.chars().take(room.saturating_sub(1)).collect();
        t.push('…');
        t
    } else {
        label.to_string()
    };
    let fill = width - FRAME - text.chars().count();
    if rightward {
        format!("── {text} {}▶", "─".repeat(fill))
    } else {
        format!("◀{} {text} ──", "─".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_fill_their_width_and_point_the_right_way() {
        let r = arrow("SYN 1", 12, true);
        assert_eq!(r, "── SYN 1 ──▶");
        let l = arrow("SYN|ACK 123456789", 12, false);
        assert_eq!(l.chars().count(), 12);
        assert!(l.starts_with('◀') && l.contains('…'), "{l}");
        assert_eq!(arrow("x", 2, false), "◀◀");
    }
}
