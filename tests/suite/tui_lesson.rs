//! The lesson panel as a student sees it: steps first, the step the run is
//! on (by simulated time) marked ▶ and highlighted with its moment, the
//! objectives as one compact line, at 80×24 and 160×48.

use lblab::live::{LiveFrame, Speed};
use lblab::model::{SimDuration, SimTime};
use lblab::sim::World;
use lblab::tui::app::App;
use lblab::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;

/// The syn-cookies lab run to `secs`, with its lesson followed so far.
fn world(secs: u64) -> World {
    let lab = lblab::lab::builtin("syn-cookies").expect("syn-cookies loads");
    let mut w = World::new(&lab, lab.seed);
    let end = SimTime::ZERO + SimDuration::from_secs(secs);
    for entry in lab.lesson.commands() {
        let at = SimTime::ZERO + entry.at().get();
        if at <= end {
            w.run_until(at);
            w.apply(entry.command().clone());
        }
    }
    w.run_until(end);
    w
}

fn render(w: &World, width: u16, height: u16) -> String {
    let app = App::new(
        Arc::new(LiveFrame::still(w, w.lab(), Speed::Factor(1.0))),
        true,
    );
    let mut t = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    t.draw(|f| view::draw(f, &app)).expect("draw");
    t.backend().to_string()
}

/// The lesson panel's box cut out of `screen`, so the snapshots show the
/// lesson and change with it, not with the panels around it.
fn lesson_box(screen: &str) -> String {
    let rows: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let title: Vec<char> = "┌ lesson".chars().collect();
    let (top, left) = rows
        .iter()
        .enumerate()
        .find_map(|(r, row)| {
            row.windows(title.len())
                .position(|w| w == title.as_slice())
                .map(|c| (r, c))
        })
        .expect("the screen has a lesson panel");
    let mut out = Vec::new();
    for row in &rows[top..] {
        let end = row[left + 1..]
            .iter()
            .position(|&c| c == '┐' || c == '┘' || c == '│')
            .map_or(row.len(), |p| left + 2 + p);
        let line: String = row[left..end].iter().collect();
        let bottom = row.get(left) == Some(&'└');
        out.push(line);
        if bottom {
            break;
        }
    }
    out.join("\n")
}

/// The rendered rows that hold `needle`.
fn rows_with<'a>(screen: &'a str, needle: &str) -> Vec<&'a str> {
    screen.lines().filter(|l| l.contains(needle)).collect()
}

/// The lesson's ▶ marks on screen (the servers table marks its selected
/// row with ▶ too, followed by a name, not a step number).
fn step_marks(screen: &str) -> usize {
    (1..=9)
        .map(|n| rows_with(screen, &format!("▶ {n}. ")).len())
        .sum()
}

#[test]
fn the_current_step_is_marked_with_its_moment_160x48() {
    let screen = render(&world(32), 160, 48);
    assert_eq!(step_marks(&screen), 1, "{screen}");
    assert_eq!(rows_with(&screen, "▶ 2. at 30s").len(), 1, "{screen}");
    // The objectives follow as one line of verdicts.
    assert_eq!(rows_with(&screen, "✔ 1 ✖ 0 … 1").len(), 1, "{screen}");
    insta::assert_snapshot!(lesson_box(&screen));
}

#[test]
fn the_current_step_stays_in_view_at_80x24() {
    let screen = render(&world(66), 80, 24);
    assert_eq!(step_marks(&screen), 1, "{screen}");
    assert_eq!(rows_with(&screen, "▶ 5. at 65s").len(), 1, "{screen}");
    insta::assert_snapshot!(lesson_box(&screen));
}

#[test]
fn no_step_is_current_before_the_first_moment() {
    let screen = render(&world(5), 160, 48);
    assert_eq!(step_marks(&screen), 0, "{screen}");
    assert_eq!(rows_with(&screen, "1. at 10s").len(), 1, "{screen}");
}
