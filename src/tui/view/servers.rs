//! The servers table: one row per backend with its state, weight,
//! connections against their limits, rates, probe p95, share of traffic and
//! a sparkline of its active connections.

use crate::engine::ServerRow;
use crate::text::escape;
use crate::tui::app::App;
use crate::tui::theme::{Theme, spark_text};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState};

/// Terminal width from which every column is shown.
const WIDE: u16 = 130;

/// One column: its header, width, whether narrow screens show it, which
/// engine's figure it is, and how a row fills it.
struct Column {
    header: &'static str,
    width: u16,
    narrow: bool,
    engine: Shows,
    cell: fn(&ServerRow, &Ctx) -> (String, Style),
}

/// Which engines a column means something for: the simulation counts
/// packets, queues and half-open entries, a real proxy bytes and connects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shows {
    Both,
    Simulation,
    Real,
}

impl Shows {
    fn on(self, real_time: bool) -> bool {
        match self {
            Shows::Both => true,
            Shows::Simulation => !real_time,
            Shows::Real => real_time,
        }
    }
}

/// What cells need besides their row.
struct Ctx<'a> {
    theme: &'a Theme,
    total_connections: u64,
}

const COLUMNS: &[Column] = &[
    Column {
        header: "server",
        width: 10,
        narrow: true,
        engine: Shows::Both,
        cell: |r, c| (escape(&r.name).into_owned(), c.theme.text),
    },
    Column {
        header: "state",
        width: 10,
        narrow: true,
        engine: Shows::Both,
        cell: |r, c| {
            let (symbol, style) = c.theme.server_state(r.state);
            (format!("{symbol} {}", r.state.name()), style)
        },
    },
    Column {
        header: "wt",
        width: 3,
        narrow: true,
        engine: Shows::Both,
        cell: |r, c| (r.weight.to_string(), c.theme.text),
    },
    Column {
        header: "active",
        width: 9,
        narrow: true,
        engine: Shows::Both,
        cell: |r, c| {
            let full = r
                .server_established
                .zip(r.max_connections)
                .is_some_and(|(n, cap)| n >= cap);
            let style = if full { c.theme.bad } else { c.theme.text };
            let cap = r
                .max_connections
                .map_or("–".to_string(), |n| compact(u64::from(n)));
            (format!("{}/{cap}", r.active), style)
        },
    },
    Column {
        header: "half-open",
        width: 9,
        narrow: true,
        engine: Shows::Simulation,
        cell: |r, c| {
            let style = if r.half_open >= r.max_half_open {
                c.theme.bad
            } else if r.half_open * 2 >= r.max_half_open {
                c.theme.warn
            } else {
                c.theme.text
            };
            (format!("{}/{}", r.half_open, r.max_half_open), style)
        },
    },
    Column {
        header: "new/s",
        width: 5,
        narrow: true,
        engine: Shows::Both,
        cell: |r, c| (r.new_per_sec.to_string(), c.theme.text),
    },
    Column {
        header: "queued",
        width: 6,
        narrow: false,
        engine: Shows::Simulation,
        cell: |r, c| (unknown_as_dash(r.queued), c.theme.text),
    },
    Column {
        header: "pkt/s",
        width: 7,
        narrow: false,
        engine: Shows::Simulation,
        cell: |r, c| (unknown_as_dash(r.packets_per_sec), c.theme.text),
    },
    Column {
        header: "probe p95",
        width: 9,
        narrow: true,
        engine: Shows::Both,
        cell: |r, c| {
            (
                r.probe_p95.map_or("–".to_string(), |d| d.to_string()),
                c.theme.text,
            )
        },
    },
    Column {
        header: "share",
        width: 6,
        narrow: true,
        engine: Shows::Both,
        cell: |r, c| {
            // No connection assigned yet: a share of nothing is no share.
            let share = if c.total_connections == 0 {
                format!("{:>6}", "–")
            } else {
                let pct = r.connections as f64 * 100.0 / c.total_connections as f64;
                format!("{pct:5.1}%")
            };
            (share, c.theme.text)
        },
    },
    Column {
        header: "served",
        width: 10,
        narrow: false,
        engine: Shows::Simulation,
        cell: |r, c| (unknown_as_dash(r.segments_served), c.theme.text),
    },
    Column {
        header: "bytes/s",
        width: 7,
        narrow: true,
        engine: Shows::Real,
        cell: |r, c| {
            (
                r.bytes_per_sec.map_or("–".to_string(), compact),
                c.theme.text,
            )
        },
    },
    Column {
        header: "conn p95",
        width: 9,
        narrow: false,
        engine: Shows::Real,
        cell: |r, c| {
            (
                r.connect_p95.map_or("–".to_string(), |d| d.to_string()),
                c.theme.text,
            )
        },
    },
    Column {
        header: "errors",
        width: 6,
        narrow: false,
        engine: Shows::Real,
        cell: |r, c| {
            let style = if r.drops > 0 {
                c.theme.warn
            } else {
                c.theme.text
            };
            (r.drops.to_string(), style)
        },
    },
];

/// A figure the engine knows, or `–` where it cannot.
fn unknown_as_dash(n: Option<u64>) -> String {
    n.map_or("–".to_string(), |n| n.to_string())
}

/// A count in at most four characters: 950, 12k, 3.4M.
fn compact(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1_000),
        _ if n < 10_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{}M", n / 1_000_000),
    }
}

/// Draws the servers table into `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.frame.snapshot;
    let ctx = Ctx {
        theme,
        total_connections: s.servers.iter().map(|r| r.connections).sum(),
    };
    let wide = area.width >= WIDE;
    let real = app.frame.real_time;
    let columns: Vec<&Column> = COLUMNS
        .iter()
        .filter(|c| (wide || c.narrow) && c.engine.on(real))
        .collect();
    // The sparkline takes what the other columns leave: borders (2), the
    // highlight symbol (2) and one space after each column.
    let fixed: u16 = columns.iter().map(|c| c.width + 1).sum();
    let spark_width = area.width.saturating_sub(fixed + 4).max(4);
    let mut header: Vec<&str> = columns.iter().map(|c| c.header).collect();
    header.push("active connections");
    let rows = s.servers.iter().map(|r| {
        let mut cells: Vec<Cell> = columns
            .iter()
            .map(|c| {
                let (text, style) = (c.cell)(r, &ctx);
                Cell::from(Span::styled(text, style))
            })
            .collect();
        cells.push(Cell::from(Span::styled(
            spark_text(&r.active_series, spark_width as usize),
            theme.spark,
        )));
        Row::new(cells)
    });
    let mut widths: Vec<Constraint> = columns
        .iter()
        .map(|c| Constraint::Length(c.width))
        .collect();
    widths.push(Constraint::Length(spark_width));
    let hidden = s.servers_total.saturating_sub(s.servers.len());
    let mut title = vec![Span::styled(" servers ", theme.title)];
    if hidden > 0 {
        title.push(Span::styled(
            format!("(first {} of {}) ", s.servers.len(), s.servers_total),
            theme.dim,
        ));
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.dim))
        .row_highlight_style(theme.selected)
        .highlight_symbol("▶ ")
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Line::from(title)),
        );
    let mut state = TableState::default().with_selected(Some(app.selected));
    f.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn counts_fit_in_four_characters() {
        assert_eq!(compact(950), "950");
        assert_eq!(compact(9_999), "9999");
        assert_eq!(compact(10_000), "10k");
        assert_eq!(compact(3_400_000), "3.4M");
        assert_eq!(compact(42_000_000), "42M");
    }
}
