//! The latency histogram panel (key `h`), as oha draws one: a row per
//! bucket with its upper bound, its count and a bar, and the buckets that
//! hold p50, p95 and p99 marked. Buckets are logarithmic (the engine's),
//! shown from the first to the last that has samples, merged in pairs,
//! fours... when there are more than the panel has rows.

use super::charts::ms;
use crate::engine::LatencyHistogram;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// The quantiles marked, with their names.
const MARKS: [(f64, &str); 3] = [(0.50, "p50"), (0.95, "p95"), (0.99, "p99")];

/// One drawn row: the upper bound of its buckets (`None`: beyond the
/// last), its count, and the quantiles it holds.
#[derive(Debug, PartialEq)]
struct Bar {
    upper: Option<String>,
    count: u64,
    marks: Vec<&'static str>,
}

/// The rows to draw for `h` in at most `rows` lines: the non-empty range
/// of buckets, merged by the smallest factor that fits.
fn bars(h: &LatencyHistogram, rows: usize) -> Vec<Bar> {
    let Some(first) = h.counts.iter().position(|&n| n > 0) else {
        return Vec::new();
    };
    let last = h.counts.iter().rposition(|&n| n > 0).unwrap_or(first);
    let span = last - first + 1;
    let per = span.div_ceil(rows.max(1));
    let marked: Vec<(usize, &str)> = MARKS
        .iter()
        .filter_map(|(q, name)| h.bucket_of_quantile(*q).map(|b| (b, *name)))
        .collect();
    (first..=last)
        .step_by(per)
        .map(|start| {
            let end = (start + per - 1).min(last);
            Bar {
                upper: LatencyHistogram::upper(end).map(ms),
                count: h.counts[start..=end].iter().sum(),
                marks: marked
                    .iter()
                    .filter(|(b, _)| (start..=end).contains(b))
                    .map(|(_, name)| *name)
                    .collect(),
            }
        })
        .collect()
}

/// Draws the latency histogram into `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.frame.snapshot;
    let h = &s.series.latency_histogram;
    let what = if app.frame.real_time {
        "connect"
    } else {
        "segment"
    };
    let window = match h.seconds {
        0 => "recent".to_string(),
        n => format!("last {n} s"),
    };
    let total = h.total();
    let title = format!(" {what} latency, {window}: {total} samples ");
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_of(app, crate::tui::app::Panel::Histogram))
        .title(Span::styled(title, theme.title));
    let inner = block.inner(area);
    // One line for the quantiles under the bars.
    let bars = bars(h, (inner.height as usize).saturating_sub(1));
    let mut lines: Vec<Line> = Vec::new();
    if bars.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(" no {what} latency measured yet: –"),
            theme.dim,
        )));
    }
    let most = bars.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let count_width = most.to_string().len();
    // Bound (≤ 1350ms), count, bar, marks (" ◀ p50 p95 p99"): the bar
    // takes what is left.
    let fixed = 12 + count_width + 3 + 14;
    let bar_room = (inner.width as usize).saturating_sub(fixed).max(1);
    for b in &bars {
        let bound = b
            .upper
            .as_ref()
            .map_or("> 100s".to_string(), |u| format!("≤ {u}"));
        let len = ((b.count * bar_room as u64).div_ceil(most)) as usize;
        let style = if b.marks.is_empty() {
            theme.info
        } else {
            theme.warn
        };
        let mut spans = vec![
            Span::styled(format!(" {bound:>10} "), theme.dim),
            Span::styled(format!("[{:>count_width$}] ", b.count), theme.text),
            Span::styled("■".repeat(len), style),
        ];
        if !b.marks.is_empty() {
            spans.push(Span::styled(
                format!(" ◀ {}", b.marks.join(" ")),
                theme.warn,
            ));
        }
        lines.push(Line::from(spans));
    }
    if !bars.is_empty() {
        // The buckets' bounds, not exact values: say so.
        let quantiles: Vec<String> = MARKS
            .iter()
            .map(|(q, name)| {
                let bound = h
                    .bucket_of_quantile(*q)
                    .and_then(LatencyHistogram::upper)
                    .map_or("> 100s".to_string(), ms);
                format!("{name} ≤ {bound}")
            })
            .collect();
        lines.push(Line::from(Span::styled(
            format!(" {}", quantiles.join(" · ")),
            theme.dim,
        )));
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_cover_the_samples_and_mark_the_quantiles() {
        let mut micros = vec![4_100u64; 98];
        micros.extend([900_000, 1_200_000]);
        let h = LatencyHistogram::of_micros(10, micros);
        let all = bars(&h, 100);
        assert_eq!(all.iter().map(|b| b.count).sum::<u64>(), 100);
        assert_eq!(all[0].upper.as_deref(), Some("5.00ms"));
        assert_eq!(all[0].marks, vec!["p50", "p95"]);
        let p99 = all.iter().find(|b| b.marks == ["p99"]);
        assert_eq!(p99.and_then(|b| b.upper.as_deref()), Some("1000ms"));
        // Squeezed into three rows, nothing is lost.
        let few = bars(&h, 3);
        assert!(few.len() <= 3, "{few:?}");
        assert_eq!(few.iter().map(|b| b.count).sum::<u64>(), 100);
        assert!(bars(&LatencyHistogram::default(), 5).is_empty());
    }
}
