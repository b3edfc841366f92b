//! The servers table: one row per backend with what it is and what the
//! balancer believes of it, its weight, connections against their limits,
//! rates, probe p95, its share of traffic (over the run and over the last
//! 10 s) and a sparkline of its active connections with its scale.

use super::balancer::{lb_belief, probe_p95, server_truth};
use super::charts::{ms, time_axis};
use crate::engine::{ServerRow, ServerState};
use crate::model::SimTime;
use crate::spec::HealthSpec;
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

/// Cells of a sparkline's scale (" 10k") after it.
const SCALE: u16 = 5;

/// Seconds the windowed share covers.
pub(super) const SHARE_WINDOW: usize = 10;

/// One column: its header, width, which widths show it, which engine's
/// figure it is, and how a row fills it.
struct Column {
    header: &'static str,
    width: u16,
    shown: Widths,
    engine: Shows,
    cell: fn(&ServerRow, &Ctx) -> (String, Style),
}

/// Which table widths show a column.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Widths {
    Both,
    WideOnly,
    NarrowOnly,
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
    /// Connections assigned to every row over the last [`SHARE_WINDOW`]
    /// seconds.
    recent_connections: u64,
    now: SimTime,
    health: HealthSpec,
}

/// Connections assigned to `r` over the last [`SHARE_WINDOW`] seconds.
pub(super) fn recent(r: &ServerRow) -> u64 {
    r.new_series.iter().rev().take(SHARE_WINDOW).sum()
}

/// A share in percent of `total`, or `–` when there is nothing to share.
pub(super) fn share(n: u64, total: u64) -> String {
    if total == 0 {
        format!("{:>6}", "–")
    } else {
        format!("{:5.1}%", n as f64 * 100.0 / total as f64)
    }
}

/// The state column: what the server is, then what the balancer believes
/// where that says something ("✖ killed · lb up, 2/3 failed").
fn state_cell(r: &ServerRow, c: &Ctx, short: bool) -> (String, Style) {
    let (truth, style) = server_truth(r, c.theme);
    match lb_belief(r, &c.health, c.now, short) {
        Some(lb) if short => (format!("{truth} {lb}"), style),
        Some(lb) => (format!("{truth} · {lb}"), style),
        None => (truth, style),
    }
}

const COLUMNS: &[Column] = &[
    Column {
        header: "server",
        width: 10,
        shown: Widths::Both,
        engine: Shows::Both,
        cell: |r, c| (escape(&r.name).into_owned(), c.theme.text),
    },
    Column {
        header: "state · balancer's view",
        width: 30,
        shown: Widths::WideOnly,
        engine: Shows::Both,
        cell: |r, c| state_cell(r, c, false),
    },
    Column {
        header: "state · lb",
        width: 18,
        shown: Widths::NarrowOnly,
        engine: Shows::Both,
        cell: |r, c| state_cell(r, c, true),
    },
    Column {
        header: "wt",
        width: 3,
        shown: Widths::Both,
        engine: Shows::Both,
        cell: |r, c| (r.weight.to_string(), c.theme.text),
    },
    Column {
        header: "active",
        width: 9,
        shown: Widths::Both,
        engine: Shows::Both,
        cell: |r, c| {
            if r.state == ServerState::Killed {
                // A dead server holds nothing: what is left are the
                // balancer's entries to it, marked as such.
                let style = if r.active > 0 {
                    c.theme.warn
                } else {
                    c.theme.text
                };
                return (format!("lb {}", r.active), style);
            }
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
        shown: Widths::Both,
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
        shown: Widths::WideOnly,
        engine: Shows::Both,
        cell: |r, c| (r.new_per_sec.to_string(), c.theme.text),
    },
    Column {
        header: "queued",
        width: 6,
        shown: Widths::WideOnly,
        engine: Shows::Simulation,
        cell: |r, c| (unknown_as_dash(r.queued), c.theme.text),
    },
    Column {
        header: "pkt/s",
        width: 7,
        shown: Widths::WideOnly,
        engine: Shows::Simulation,
        cell: |r, c| (unknown_as_dash(r.packets_per_sec), c.theme.text),
    },
    Column {
        header: "probe p95",
        width: 9,
        shown: Widths::Both,
        engine: Shows::Both,
        cell: |r, c| (probe_p95(r), c.theme.text),
    },
    Column {
        header: " share",
        width: 6,
        shown: Widths::Both,
        engine: Shows::Both,
        // No connection assigned yet: a share of nothing is no share.
        cell: |r, c| (share(r.connections, c.total_connections), c.theme.text),
    },
    Column {
        header: "   10s",
        width: 6,
        shown: Widths::Both,
        engine: Shows::Both,
        // The last 10 s alone: a burst (a thundering herd onto a revived
        // server) shows here while the run's share hardly moves.
        cell: |r, c| (share(recent(r), c.recent_connections), c.theme.info),
    },
    Column {
        header: "served",
        width: 10,
        shown: Widths::WideOnly,
        engine: Shows::Simulation,
        cell: |r, c| (unknown_as_dash(r.segments_served), c.theme.text),
    },
    Column {
        header: "bytes/s",
        width: 7,
        shown: Widths::Both,
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
        shown: Widths::WideOnly,
        engine: Shows::Real,
        cell: |r, c| (r.connect_p95.map_or("–".to_string(), ms), c.theme.text),
    },
    Column {
        header: "errors",
        width: 6,
        shown: Widths::WideOnly,
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
pub(super) fn compact(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1_000),
        _ if n < 10_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{}M", n / 1_000_000),
    }
}

/// The newest `width` values as a sparkline and the scale it is drawn to
/// (their max, `–` with none), right-aligned in [`SCALE`] cells.
pub(super) fn spark_with_scale(values: &[u64], width: usize) -> (String, String) {
    let shown = &values[values.len().saturating_sub(width)..];
    let max = shown.iter().copied().max();
    (
        spark_text(shown, width),
        format!(
            "{:>w$}",
            max.map_or("–".to_string(), compact),
            w = SCALE as usize
        ),
    )
}

/// Draws the servers table into `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.frame.snapshot;
    let wide = area.width >= WIDE;
    let ctx = Ctx {
        theme,
        total_connections: s.servers.iter().map(|r| r.connections).sum(),
        recent_connections: s.servers.iter().map(recent).sum(),
        now: s.now,
        health: s.settings.health,
    };
    let real = app.frame.real_time;
    let columns: Vec<&Column> = COLUMNS
        .iter()
        .filter(|c| match c.shown {
            Widths::Both => true,
            Widths::WideOnly => wide,
            Widths::NarrowOnly => !wide,
        })
        .filter(|c| c.engine.on(real))
        .collect();
    // The sparkline takes what the other columns leave: borders (2), the
    // highlight symbol (2) and one space after each column; its scale
    // takes SCALE more. Too narrow to read, it is left out.
    let fixed: u16 = columns.iter().map(|c| c.width + 1).sum();
    let spark_width = area.width.saturating_sub(fixed + 4 + SCALE);
    let sparks = spark_width >= 8;
    let mut header: Vec<Cell> = columns.iter().map(|c| Cell::from(c.header)).collect();
    if sparks {
        header.push(Cell::from(format!(
            "{}{:>w$}",
            time_axis(spark_width as usize, "active conns"),
            "max",
            w = SCALE as usize
        )));
    }
    let rows = s.servers.iter().map(|r| {
        let mut cells: Vec<Cell> = columns
            .iter()
            .map(|c| {
                let (text, style) = (c.cell)(r, &ctx);
                Cell::from(Span::styled(text, style))
            })
            .collect();
        if sparks {
            let (spark, scale) = spark_with_scale(&r.active_series, spark_width as usize);
            cells.push(Cell::from(Line::from(vec![
                Span::styled(spark, theme.spark),
                Span::styled(scale, theme.dim),
            ])));
        }
        Row::new(cells)
    });
    let mut widths: Vec<Constraint> = columns
        .iter()
        .map(|c| Constraint::Length(c.width))
        .collect();
    if sparks {
        widths.push(Constraint::Length(spark_width + SCALE));
    }
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
                .border_style(theme.border_of(app, crate::tui::app::Panel::Servers))
                .title(Line::from(title)),
        );
    let mut state = TableState::default().with_selected(Some(app.selected));
    f.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fit_in_four_characters() {
        assert_eq!(compact(950), "950");
        assert_eq!(compact(9_999), "9999");
        assert_eq!(compact(10_000), "10k");
        assert_eq!(compact(3_400_000), "3.4M");
        assert_eq!(compact(42_000_000), "42M");
    }

    #[test]
    fn a_sparkline_carries_the_scale_it_is_drawn_to() {
        let (spark, scale) = spark_with_scale(&[10, 10, 10], 4);
        assert_eq!(spark, " ███");
        assert_eq!(scale, "   10");
        assert_eq!(spark_with_scale(&[], 3).1, "    –");
    }

    #[test]
    fn shares_are_a_dash_with_nothing_to_share() {
        assert_eq!(share(1, 0), "     –");
        assert_eq!(share(1, 4), " 25.0%");
    }
}
