//! Sparklines of the whole system: connections started, completed and
//! failed per second, drops per second by reason, and segment latency p95.
//! Every row is one line in a fixed order, whatever happens, so the eye
//! finds a row where it was; each shows its newest value and its scale
//! (the max over the window drawn), and a time axis runs under them all.
//! Also the formatting the other panels share: latency in ms, the axis.

use crate::engine::Series;
use crate::model::SimDuration;
use crate::spec::DropReason;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

const LABEL: u16 = 21;
/// The newest value and the scale, each right-aligned in 8 cells.
const VALUE: u16 = 18;

/// The drop reasons with a row of their own, in this order always: the
/// ones the labs teach. The rest share the "other" row.
const REASON_ROWS: [DropReason; 7] = [
    DropReason::LinkLoss,
    DropReason::NoHealthyBackend,
    DropReason::HalfOpenLimit,
    DropReason::ServerDown,
    DropReason::BacklogFull,
    DropReason::Filtered,
    DropReason::RateLimited,
];

/// A latency in milliseconds with sensible decimals: `0.25ms`, `4.10ms`,
/// `41.0ms`, `1350ms`. One unit everywhere, as the objectives print it.
pub(super) fn ms(d: SimDuration) -> String {
    ms_of_micros(d.as_nanos() / 1_000)
}

/// [`ms`] of a latency in microseconds.
pub(super) fn ms_of_micros(us: u64) -> String {
    let v = us as f64 / 1_000.0;
    if v < 10.0 {
        format!("{v:.2}ms")
    } else if v < 100.0 {
        format!("{v:.1}ms")
    } else {
        format!("{v:.0}ms")
    }
}

/// A time axis `width` cells wide under sparklines whose newest second is
/// the rightmost cell: "-30s" where that second lies, "now" at the right
/// end, and `name` at the left where the labels leave room.
pub(super) fn time_axis(width: usize, name: &str) -> String {
    let mut cells = vec![' '; width];
    let mut put = |end: usize, text: &str, free_from: usize| -> Option<usize> {
        let len = text.chars().count();
        let start = (end + 1).checked_sub(len)?;
        if start < free_from || end >= width {
            return None;
        }
        for (c, ch) in cells[start..=end].iter_mut().zip(text.chars()) {
            *c = ch;
        }
        Some(start)
    };
    let name_len = name.chars().count();
    let name_end = if name_len > 0 && name_len < width {
        put(name_len - 1, name, 0);
        name_len + 1
    } else {
        0
    };
    let Some(mut left) = width
        .checked_sub(1)
        .and_then(|end| put(end, "now", name_end))
    else {
        return cells.into_iter().collect();
    };
    let step = match width {
        0..=50 => 10,
        51..=100 => 20,
        _ => 30,
    };
    let mut ago = step;
    while ago < width {
        let end = width - 1 - ago;
        // Two cells between labels, so "-20s" and "-10s" never touch.
        if end + 2 < left
            && let Some(start) = put(end, &format!("-{ago}s"), name_end)
        {
            left = start;
        }
        ago += step;
    }
    cells.into_iter().collect()
}

/// The newest `width` values, padded on the left with `None` where the
/// history is shorter: the newest at the right edge, growing leftwards.
pub(super) fn window(values: &[Option<u64>], width: usize) -> Vec<Option<u64>> {
    let tail = &values[values.len().saturating_sub(width)..];
    std::iter::repeat_n(None, width - tail.len())
        .chain(tail.iter().copied())
        .collect()
}

/// One row: its label, values per second (`None` where there was nothing
/// to measure), style, and how a value prints.
struct Row {
    label: String,
    values: Vec<Option<u64>>,
    style: Style,
    fmt: fn(u64) -> String,
}

fn count(n: u64) -> String {
    n.to_string()
}

fn every(s: &Series) -> Vec<Option<u64>> {
    s.values().into_iter().map(Some).collect()
}

/// The rows, always the same ones in the same order.
fn rows(app: &App, theme: &Theme) -> Vec<Row> {
    let series = &app.frame.snapshot.series;
    let real = app.frame.real_time;
    // A second with no latency sample has no p95: no bar, not a 0.
    let samples = series.latency_samples.values();
    let p95 = series.latency_p95_us.values();
    // Both series end at the same second; align them from the right.
    let offset = p95.len().saturating_sub(samples.len());
    let latency: Vec<Option<u64>> = p95
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            // Older snapshots carry no sample counts: trust non-zero values.
            match i.checked_sub(offset).and_then(|j| samples.get(j)) {
                Some(0) => None,
                Some(_) => Some(v),
                None => (v > 0).then_some(v),
            }
        })
        .collect();
    let mut rows = vec![
        Row {
            label: "new conns".into(),
            values: every(&series.new_conns),
            style: theme.info,
            fmt: count,
        },
        Row {
            label: "completed conns".into(),
            values: every(&series.completed),
            style: theme.good,
            fmt: count,
        },
        Row {
            label: if real {
                "refused conns"
            } else {
                "failed conns"
            }
            .into(),
            values: every(&series.failed),
            style: theme.bad,
            fmt: count,
        },
        Row {
            // A real proxy sees no segments; its latency is its connects.
            label: if real { "connect p95" } else { "segment p95" }.into(),
            values: latency,
            style: theme.warn,
            fmt: ms_of_micros,
        },
        Row {
            label: "drops (all)".into(),
            values: every(&series.drops),
            style: theme.warn,
            fmt: count,
        },
    ];
    if real {
        // A proxy's refusals are its drops: no reason rows of packets.
        return rows;
    }
    for r in REASON_ROWS {
        rows.push(Row {
            label: format!("  {}", r.name()),
            values: every(&series.drops_by_reason[r.index()]),
            style: theme.warn,
            fmt: count,
        });
    }
    // Every other reason summed, named by the busiest in the window.
    let others: Vec<DropReason> = DropReason::ALL
        .into_iter()
        .filter(|r| !REASON_ROWS.contains(r))
        .collect();
    let len = series.drops.len();
    let mut sum = vec![0u64; len];
    let mut busiest: Option<(u64, DropReason)> = None;
    for r in others {
        let v = series.drops_by_reason[r.index()].values();
        let total: u64 = v.iter().sum();
        if total > 0 && busiest.is_none_or(|(n, _)| total > n) {
            busiest = Some((total, r));
        }
        for (s, x) in sum.iter_mut().rev().zip(v.iter().rev()) {
            *s += x;
        }
    }
    let label = match busiest {
        Some((_, r)) => format!("  other: {}", r.name()),
        None => "  other reasons".into(),
    };
    rows.push(Row {
        label,
        values: sum.into_iter().map(Some).collect(),
        style: theme.warn,
        fmt: count,
    });
    rows
}

/// Draws the traffic sparklines into `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let inner = Block::default().borders(Borders::ALL).inner(area);
    let rows = rows(app, theme);
    // The axis takes the last line; rows that do not fit are cut from the
    // bottom (never reordered) and the title says so.
    let room = (inner.height as usize).saturating_sub(1).max(1);
    let shown = rows.len().min(room);
    let mut title = vec![Span::styled(" traffic per second ", theme.title)];
    if shown < rows.len() {
        title.push(Span::styled(
            if area.width >= 70 {
                format!("(+{} rows) ", rows.len() - shown)
            } else {
                format!("+{} ", rows.len() - shown)
            },
            theme.warn,
        ));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_of(app, crate::tui::app::Panel::Traffic))
        .title(Line::from(title))
        .title_top(Line::from(Span::styled("     now      max ", theme.dim)).right_aligned());
    f.render_widget(block, area);
    let mut lines: Vec<Constraint> = (0..shown).map(|_| Constraint::Length(1)).collect();
    lines.push(Constraint::Length(1));
    let areas = Layout::vertical(lines).split(inner);
    let mut spark_width = 0;
    for (row, line) in rows.iter().take(shown).zip(areas.iter()) {
        let [label_area, spark_area, value_area] = Layout::horizontal([
            Constraint::Length(LABEL),
            Constraint::Min(1),
            Constraint::Length(VALUE),
        ])
        .areas(*line);
        spark_width = spark_area.width as usize;
        let bars = window(&row.values, spark_width);
        // The scale is the max of what is drawn, so a bar's height reads
        // against the number beside it; bars start at 0.
        let max = bars.iter().flatten().copied().max();
        f.render_widget(
            Paragraph::new(Span::styled(format!(" {}", row.label), theme.dim)),
            label_area,
        );
        f.render_widget(
            Sparkline::default()
                .data(bars)
                .max(max.unwrap_or(1).max(1))
                .style(row.style),
            spark_area,
        );
        let shown = |v: Option<u64>| v.map_or("–".to_string(), row.fmt);
        let now = row.values.last().copied().flatten();
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!("{:>8}", shown(now)), theme.text),
                Span::styled(format!(" {:>8} ", shown(max)), theme.dim),
            ])),
            value_area,
        );
    }
    if let Some(axis_line) = areas.last() {
        let axis = format!(
            "{:w$}{}",
            "",
            time_axis(spark_width, ""),
            w = LABEL as usize
        );
        f.render_widget(Paragraph::new(Span::styled(axis, theme.dim)), *axis_line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_prints_in_ms_with_sensible_decimals() {
        assert_eq!(ms_of_micros(250), "0.25ms");
        assert_eq!(ms_of_micros(4_100), "4.10ms");
        assert_eq!(ms_of_micros(41_000), "41.0ms");
        assert_eq!(ms_of_micros(1_350_000), "1350ms");
    }

    #[test]
    fn the_time_axis_counts_seconds_back_from_now() {
        let axis = time_axis(40, "");
        assert_eq!(axis.chars().count(), 40);
        assert!(axis.ends_with("now"));
        // The label of 10 s ago ends in the 11th cell from the right.
        let cells: Vec<char> = axis.chars().collect();
        assert_eq!(cells[40 - 11], 's');
        assert!(axis.contains("-10s") && axis.contains("-30s"), "{axis}");
        let named = time_axis(40, "active");
        assert!(named.starts_with("active "), "{named}");
        assert_eq!(time_axis(2, ""), "  ");
    }

    #[test]
    fn windows_pad_on_the_left() {
        assert_eq!(window(&[Some(1), Some(2)], 3), vec![None, Some(1), Some(2)]);
        assert_eq!(window(&[Some(1), None, Some(3)], 2), vec![None, Some(3)]);
    }
}
