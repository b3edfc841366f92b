//! The header line: alarms first (attack, every backend down, a failed
//! objective), then lab, clock, run state, algorithm, defences and seed.
//! What does not fit is left out whole, least important first; the last
//! segment kept may be cut, with "…", at a word boundary.

use crate::engine::{ServerState, Settings, Verdict};
use crate::live::Speed;
use crate::model::SimTime;
use crate::spec::CookieMode;
use crate::text::escape;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// One piece of the header, and how much it matters (higher stays
/// longer).
struct Segment {
    text: String,
    /// A shorter way to say it, tried before the segment is left out.
    short: Option<String>,
    style: Style,
    rank: u8,
}

fn seg(text: impl Into<String>, style: Style, rank: u8) -> Segment {
    Segment {
        text: text.into(),
        short: None,
        style,
        rank,
    }
}

const SEPARATOR: &str = " │ ";

/// Draws the header into `area` (one line).
pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let segments = segments(app, theme);
    let line = fit(segments, usize::from(area.width), theme);
    f.render_widget(Paragraph::new(line), area);
}

/// The header's segments in reading order.
fn segments(app: &App, theme: &Theme) -> Vec<Segment> {
    let s = &app.frame.snapshot;
    let mut out = Vec::new();
    if s.floods_active > 0 {
        // The Snapshot counts running floods of every kind without naming
        // them, and a connection flood is no SYN flood: the log line of
        // each flood names its kind.
        out.push(seg("UNDER ATTACK", theme.bad, 9));
    }
    let serving = s
        .servers
        .iter()
        .any(|r| r.healthy && r.state != ServerState::Killed);
    if !s.servers.is_empty() && !serving {
        out.push(seg("ALL BACKENDS DOWN", theme.bad, 9));
    }
    let failed: Vec<&str> = s
        .objectives
        .iter()
        .filter(|o| o.verdict == Verdict::Fail)
        .map(|o| o.name.as_str())
        .collect();
    match failed.as_slice() {
        [] => {}
        [one] => out.push(seg(format!("✖ {}", escape(one)), theme.bad, 7)),
        more => out.push(seg(
            format!("✖ {} objectives failed", more.len()),
            theme.bad,
            7,
        )),
    }
    out.push(seg("lblab", theme.title, 2));
    out.push(seg(escape(&s.lab).into_owned(), theme.text, 5));
    out.push(seg(format!("t={}", s.now), theme.text, 8));
    out.push(run_state(app, theme));
    if app.frame.real_time {
        out.push(seg("real sockets", theme.info, 6));
    }
    out.extend(replay_state(app, theme));
    if app.frame.pace.guided {
        out.push(seg("guided", theme.info, 4));
    }
    if s.finished {
        out.push(seg("finished", theme.good, 5));
    }
    out.push(seg(s.settings.algorithm.to_string(), theme.info, 7));
    for (words, short, rank) in defences_ranked(&s.settings) {
        out.push(Segment {
            short,
            ..seg(words, theme.dim, rank)
        });
    }
    out.push(seg(format!("seed {}", s.seed), theme.dim, 1));
    out
}

/// A replay under way (with its commands still to come), or the new run
/// a key branched off it.
fn replay_state(app: &App, theme: &Theme) -> Option<Segment> {
    let run = &app.frame.run;
    let name = run.replay.as_deref().map(|n| escape(n).into_owned());
    match (name, run.branched_at) {
        (Some(name), Some(at)) => Some(Segment {
            short: Some(format!(
                "BRANCHED at {}",
                at.saturating_since(SimTime::ZERO)
            )),
            ..seg(
                format!(
                    "BRANCHED from {name} at t={}",
                    at.saturating_since(SimTime::ZERO)
                ),
                theme.warn,
                6,
            )
        }),
        (Some(name), None) => Some(Segment {
            short: Some("REPLAY".into()),
            ..seg(
                format!("REPLAY {name}: {} to come", run.pending),
                theme.info,
                6,
            )
        }),
        (None, Some(at)) => Some(seg(
            format!("branched at t={}", at.saturating_since(SimTime::ZERO)),
            theme.warn,
            4,
        )),
        (None, None) => None,
    }
}

/// Paused, held for a popup, or the speed (with what the CPU achieves).
fn run_state(app: &App, theme: &Theme) -> Segment {
    let pace = app.frame.pace;
    if pace.paused {
        return seg("PAUSED", theme.warn, 8);
    }
    if pace.held {
        return seg("HELD while the popup is open", theme.warn, 8);
    }
    let text = if pace.behind {
        format!("{} (CPU keeps up with ×{:.0})", pace.speed, pace.achieved)
    } else if pace.speed == Speed::Max {
        format!("{} (×{:.0})", pace.speed, pace.achieved)
    } else {
        pace.speed.to_string()
    };
    seg(text, if pace.behind { theme.warn } else { theme.text }, 7)
}

/// Keeps the segments that fit in `width`, dropping the least important
/// first, and cuts the last one kept at a word boundary if it must.
fn fit(mut segments: Vec<Segment>, width: usize, theme: &Theme) -> Line<'static> {
    // One column of margin on the left.
    let width = width.saturating_sub(1);
    let total = |segs: &[Segment]| -> usize {
        segs.iter().map(|s| s.text.chars().count()).sum::<usize>()
            + SEPARATOR.chars().count() * segs.len().saturating_sub(1)
    };
    while total(&segments) > width && segments.len() > 1 {
        // The least important segment goes first: said shorter if it can
        // be, else left out.
        let rank = segments.iter().map(|s| s.rank).min().unwrap_or(0);
        let of_rank = |s: &Segment| s.rank == rank;
        // Among the least important, every one is said shorter before any
        // is left out; the last goes first.
        let lowest = segments
            .iter()
            .rposition(|s| of_rank(s) && s.short.is_some())
            .or_else(|| segments.iter().rposition(of_rank))
            .unwrap_or(0);
        match segments[lowest].short.take() {
            Some(short) => segments[lowest].text = short,
            None => {
                segments.remove(lowest);
            }
        }
    }
    let whole = total(&segments);
    if whole > width
        && let Some(last) = segments.last_mut()
    {
        let room = width.saturating_sub(whole - last.text.chars().count());
        last.text = cut_at_word(&last.text, room);
    }
    let mut spans = vec![Span::raw(" ")];
    for (i, s) in segments.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(SEPARATOR, theme.dim));
        }
        spans.push(Span::styled(s.text, s.style));
    }
    Line::from(spans)
}

/// `text` in at most `room` characters: whole, or cut after a word with
/// "…" (never mid-word; nothing when not even a word fits).
pub fn cut_at_word(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        let candidate = if out.is_empty() {
            word.to_string()
        } else {
            format!("{out} {word}")
        };
        if candidate.chars().count() + 1 > room {
            break;
        }
        out = candidate;
    }
    if out.is_empty() {
        return if room >= 1 {
            "…".into()
        } else {
            String::new()
        };
    }
    out.push('…');
    out
}

/// The defences in force: in words, in a word or two, and how much each
/// matters (the defence itself stays longer than its detail).
fn defences_ranked(s: &Settings) -> Vec<(String, Option<String>, u8)> {
    let d = &s.defences;
    // A real proxy keeps no half-open entries, so it has no such limit.
    let mut out = Vec::new();
    if s.max_half_open > 0 {
        out.push((
            format!("half-open limit {}", s.max_half_open),
            Some(format!("half-open ≤{}", s.max_half_open)),
            3,
        ));
    }
    if let Some(l) = &d.rate_limit {
        out.push((
            format!(
                "rate limit {}/{} burst {}",
                l.spec.rate.get(),
                l.spec.per,
                l.spec.burst.get()
            ),
            Some("rate limit".to_string()),
            6,
        ));
        // The eviction count shows when the source table is too small for
        // the attack (evicted sources start with a fresh burst).
        out.push((
            format!(
                "{} {}, {} evicted",
                l.sources,
                plural(l.sources, "source", "sources"),
                l.evictions
            ),
            None,
            2,
        ));
    }
    if d.syn_cookies != CookieMode::Off {
        out.push((
            format!("SYN cookies {}", d.syn_cookies.name()),
            Some(format!("cookies {}", d.syn_cookies.name())),
            6,
        ));
    }
    if d.early_drop {
        out.push(("early drop".to_string(), None, 4));
    }
    if !d.filter.is_empty() {
        out.push((
            format!(
                "filter allow {} deny {}",
                d.filter.allow.len(),
                d.filter.deny.len()
            ),
            Some("filter".to_string()),
            6,
        ));
    }
    out
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::cut_at_word;

    #[test]
    fn cuts_fall_between_words_with_an_ellipsis() {
        assert_eq!(
            cut_at_word("SYN cookies on overflow", 30),
            "SYN cookies on overflow"
        );
        assert_eq!(
            cut_at_word("SYN cookies on overflow", 17),
            "SYN cookies on…"
        );
        assert_eq!(cut_at_word("SYN cookies on overflow", 14), "SYN cookies…");
        assert_eq!(cut_at_word("overflowing", 5), "…");
    }
}
