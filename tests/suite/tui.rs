//! The dashboard without a terminal: frames drawn into a test backend and
//! compared with reviewed snapshots, every size from nothing to 200×60, and
//! key sequences turned into the Commands they should send.

use crate::common;

use common::at;
use common::dashboard::{app, render};
use lblab::live::{Control, LiveFrame, Speed};
use lblab::sim::World;
use lblab::spec::Algorithm;
use lblab::spec::Lab;
use lblab::spec::{Command, Timeout};
use lblab::tui::app::{App, Overlay};
use lblab::tui::{keys, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;

/// The classic lab run for `secs` seconds, with `cmds` applied at 5 s.
fn world(secs: f64, cmds: &[Command]) -> World {
    let lab = lblab::lab::builtin("classic").expect("classic loads");
    let mut w = World::new(&lab, 1);
    w.run_until(at(5.0));
    for c in cmds {
        w.apply(c.clone());
    }
    w.run_until(at(secs));
    w
}

/// Presses keys as `common::dashboard::press` does and returns the
/// Controls they sent, leaving out the popups' holds of the world (tested
/// in tui_input.rs): here only what the keys ask of the world counts.
fn press(app: &mut App, keys_typed: &str) -> Vec<Control> {
    common::dashboard::press(app, keys_typed)
        .into_iter()
        .filter(|c| !matches!(c, Control::Hold(_)))
        .collect()
}

fn apply(cmd: Command) -> Control {
    Control::Apply(cmd)
}

#[test]
fn main_screen_160x48() {
    insta::assert_snapshot!(render(&app(&world(30.0, &[])), 160, 48));
}

#[test]
fn main_screen_80x24() {
    insta::assert_snapshot!(render(&app(&world(30.0, &[])), 80, 24));
}

#[test]
fn killed_server() {
    let w = world(12.0, &[Command::KillServer("srv-3".into())]);
    let mut a = app(&w);
    a.selected = 2;
    insta::assert_snapshot!(render(&a, 160, 48));
}

#[test]
fn running_flood() {
    let flood = lblab::spec::FloodSpec {
        rate: lblab::spec::Rate::new_const(5000.0),
        ..Default::default()
    };
    insta::assert_snapshot!(render(
        &app(&world(9.0, &[Command::StartFlood(flood)])),
        160,
        48
    ));
}

#[test]
fn help_overlay() {
    let mut a = app(&world(6.0, &[]));
    press(&mut a, "?");
    insta::assert_snapshot!(render(&a, 160, 48));
}

#[test]
fn flood_popup() {
    let mut a = app(&world(6.0, &[]));
    press(&mut a, "f");
    insta::assert_snapshot!(render(&a, 160, 48));
}

#[test]
fn algorithm_popup() {
    let mut a = app(&world(6.0, &[]));
    press(&mut a, "aj");
    insta::assert_snapshot!(render(&a, 160, 48));
}

#[test]
fn timeouts_popup() {
    let mut a = app(&world(6.0, &[]));
    press(&mut a, "t");
    insta::assert_snapshot!(render(&a, 160, 48));
}

#[test]
fn too_small_terminal() {
    insta::assert_snapshot!(render(&app(&world(1.0, &[])), 60, 12));
}

/// Draws the dashboard with `keys_typed` pressed (an overlay open, or
/// none) at every width at the heights where layouts change, every height
/// at the widths where they change (the minimum, column and popup
/// breakpoints, each with its neighbours), and a strided grid in between:
/// where an underflow or an overflow can hide, without drawing all 12 000
/// sizes. One test per overlay, so the sweeps run side by side.
fn sizes_from_nothing_to_200x60_draw_without_panic(keys_typed: &str) {
    let heights = [0, 1, 2, 3, 5, 11, 12, 16, 23, 24, 25, 30, 47, 48, 49, 60];
    let widths = [
        0, 1, 2, 3, 10, 38, 59, 60, 61, 79, 80, 81, 83, 84, 85, 91, 92, 93, 129, 130, 131, 149,
        150, 151, 159, 160, 161, 200,
    ];
    let mut sizes: Vec<(u16, u16)> = Vec::new();
    sizes.extend((0..=200).flat_map(|w| heights.map(|h| (w, h))));
    sizes.extend((0..=60).flat_map(|h| widths.map(|w| (w, h))));
    sizes.extend(
        (0..=200)
            .step_by(7)
            .flat_map(|w| (0..=60).step_by(4).map(move |h| (w, h))),
    );
    sizes.sort_unstable();
    sizes.dedup();
    let w = world(8.0, &[Command::KillServer("srv-1".into())]);
    let mut t = Terminal::new(TestBackend::new(1, 1)).expect("test terminal");
    let mut a = app(&w);
    press(&mut a, keys_typed);
    for &(width, height) in &sizes {
        t.backend_mut().resize(width, height);
        t.resize(ratatui::layout::Rect::new(0, 0, width, height))
            .expect("resize");
        t.draw(|f| view::draw(f, &a))
            .unwrap_or_else(|e| panic!("{width}x{height} with {keys_typed:?}: {e}"));
    }
}

#[test]
fn every_size_draws_the_main_screen_without_panic() {
    sizes_from_nothing_to_200x60_draw_without_panic("");
}

#[test]
fn every_size_draws_the_help_without_panic() {
    sizes_from_nothing_to_200x60_draw_without_panic("?");
}

#[test]
fn every_size_draws_the_flood_popup_without_panic() {
    sizes_from_nothing_to_200x60_draw_without_panic("f");
}

#[test]
fn every_size_draws_the_algorithm_popup_without_panic() {
    sizes_from_nothing_to_200x60_draw_without_panic("a");
}

#[test]
fn every_size_draws_the_timeouts_popup_without_panic() {
    sizes_from_nothing_to_200x60_draw_without_panic("t");
}

#[test]
fn every_size_draws_the_lab_picker_without_panic() {
    sizes_from_nothing_to_200x60_draw_without_panic("l");
}

#[test]
fn server_keys_send_commands_for_the_selected_server() {
    let mut a = app(&world(6.0, &[]));
    assert_eq!(
        press(&mut a, "jjx"),
        vec![apply(Command::KillServer("srv-3".into()))]
    );
    assert_eq!(
        press(&mut a, "↓d"),
        vec![apply(Command::DrainServer("srv-4".into()))]
    );
    assert_eq!(
        press(&mut a, "+"),
        vec![apply(Command::SetWeight("srv-4".into(), 2))]
    );
    // Down from the 2 just sent, not from the snapshot's 1.
    assert_eq!(
        press(&mut a, "-"),
        vec![apply(Command::SetWeight("srv-4".into(), 1))]
    );
    assert_eq!(
        press(&mut a, "XC"),
        vec![
            apply(Command::KillRandomServer),
            apply(Command::KillRandomClient)
        ]
    );
    // Selection stops at the ends.
    assert!(press(&mut a, "kkkkkkkkkk").is_empty());
    assert_eq!(a.selected, 0);
    assert!(press(&mut a, "jjjjjjjjjjjjjjjjjj").is_empty());
    assert_eq!(a.selected, 9);
}

#[test]
fn reviving_needs_a_dead_or_draining_server() {
    let w = world(6.0, &[Command::KillServer("srv-1".into())]);
    let mut a = app(&w);
    assert_eq!(
        press(&mut a, "r"),
        vec![apply(Command::ReviveServer("srv-1".into()))]
    );
    assert!(
        press(&mut a, "jr").is_empty(),
        "srv-2 is up: nothing to revive"
    );
    // A key that cannot act says why.
    assert_eq!(
        a.notice.as_deref(),
        Some("srv-2 is running: r revives a killed server or stops a drain")
    );
    assert!(press(&mut a, "kx").is_empty(), "srv-1 is already killed");
    assert_eq!(a.notice.as_deref(), Some("srv-1 is already killed"));
}

#[test]
fn flood_popup_keys_start_a_flood_with_the_typed_values() {
    let mut a = app(&world(6.0, &[]));
    let sent = press(&mut a, "f\x08\x08\x08\x0820000↓\x08\x08\x08\x0850↓→\n");
    let expected = lblab::spec::FloodSpec {
        kind: lblab::spec::AttackKind::SpoofedSyn,
        rate: lblab::spec::Rate::new_const(20000.0),
        sources: lblab::spec::Positive::new_const(50),
        start: lblab::spec::Dur::ZERO,
        duration: Some(lblab::spec::Dur::from_secs(35)),
    };
    assert_eq!(sent, vec![apply(Command::StartFlood(expected))]);
    assert_eq!(a.overlay, Overlay::None);
    // While a flood runs, f stops it.
    let flooding = world(9.0, &[Command::StartFlood(Default::default())]);
    let mut b = app(&flooding);
    assert_eq!(press(&mut b, "f"), vec![apply(Command::StopFlood)]);
}

#[test]
fn algorithm_picker_switches_algorithm() {
    let mut a = app(&world(6.0, &[]));
    assert_eq!(
        press(&mut a, "ajjj\n"),
        vec![apply(Command::SetAlgorithm(Algorithm::LeastConnections))]
    );
    assert_eq!(
        press(&mut a, "a9\n"),
        vec![apply(Command::SetAlgorithm(Algorithm::PowerOfTwoChoices))]
    );
    // Past the digits, the list wraps: up twice from the top is Maglev,
    // with its default table.
    assert_eq!(
        press(&mut a, "akk\n"),
        vec![apply(Command::SetAlgorithm(Algorithm::Maglev {
            table_size: lblab::spec::TableSize::DEFAULT
        }))]
    );
    assert!(press(&mut a, "ak\x1b").is_empty(), "Esc cancels");
}

#[test]
fn timeouts_editor_sends_each_change_at_once() {
    let mut a = app(&world(6.0, &[]));
    let sent = press(&mut a, "t→→↓←↓→");
    assert_eq!(
        sent,
        vec![
            apply(Command::SetTimeout(
                Timeout::Syn,
                lblab::spec::Dur::from_millis(700)
            )),
            apply(Command::SetTimeout(
                Timeout::Syn,
                lblab::spec::Dur::from_millis(1000)
            )),
            apply(Command::SetTimeout(
                Timeout::Segment,
                lblab::spec::Dur::from_millis(500)
            )),
            apply(Command::SetMaxRetransmissions(4)),
        ]
    );
    assert!(matches!(a.overlay, Overlay::Timeouts(_)));
    assert!(press(&mut a, "\x1b").is_empty());
    assert_eq!(a.overlay, Overlay::None);
}

#[test]
fn run_controls_and_quit() {
    let mut a = app(&world(6.0, &[]));
    assert_eq!(press(&mut a, " "), vec![Control::TogglePause]);
    assert_eq!(press(&mut a, "."), vec![Control::Step]);
    assert_eq!(
        press(&mut a, "]"),
        vec![Control::SetSpeed(Speed::Factor(25.0))]
    );
    assert_eq!(
        press(&mut a, "["),
        vec![Control::SetSpeed(Speed::Factor(5.0))]
    );
    assert_eq!(press(&mut a, "R"), vec![Control::Restart]);
    assert!(!a.quit);
    assert_eq!(press(&mut a, "q"), vec![Control::Quit]);
    assert!(a.quit);
}

#[test]
fn any_key_in_any_state_is_safe() {
    // Every printable key and every special key, in every overlay, twice.
    let w = world(6.0, &[Command::KillServer("srv-2".into())]);
    let all: String = (' '..='~').chain("↑↓←→\n\x1b\x08".chars()).collect();
    for opener in ["", "?", "f", "a", "t"] {
        let mut a = app(&w);
        press(&mut a, opener);
        for _ in 0..2 {
            let _ = press(&mut a, &all.replace('q', ""));
            let _ = render(&a, 100, 30);
        }
    }
    let empty = Lab {
        servers: lblab::spec::ServersSpec::List(vec![]),
        ..Lab::named("empty")
    };
    let mut a = App::new(
        Arc::new(LiveFrame::still(&World::new(&empty, 1), &empty, Speed::Max)),
        true,
    );
    assert!(press(&mut a, "xrd+-jk").is_empty());
    assert_eq!(a.notice.as_deref(), Some("no server to act on"));
}

#[test]
fn the_readme_lists_every_key() {
    let readme = include_str!("../../README.md");
    for b in keys::KEYS {
        assert!(
            readme.contains(b.help),
            "README.md lacks the key for {:?}: {}",
            b.action,
            b.help
        );
    }
}

/// A small lab with a lesson, a timeline and objectives, run to `secs`.
fn lesson_world(secs: f64) -> World {
    let lab = common::lab(
        r#"(name: "teaching",
        summary: "a lab with a lesson",
        lesson: (
            text: ["When a backend dies, health checks need fall x interval to notice.",
                   "Watch the servers table and the event log."],
            steps: ["Wait for srv-2 to die at 5s.", "Press t and lower the health interval.", "Press R to run again."],
        ),
        servers: Replicate(count: 3, template: (name: "srv")),
        clients: (closed: Some((population: 30, segments: Constant(20), gap: Constant("20ms"), connections: None))),
        timeline: [At("5s", KillServer("srv-2"))],
        objectives: [
            (name: "most connections complete", metric: SuccessRate, op: AtLeast, value: 90.0),
            (name: "detected within a second", metric: DetectionDelay, op: AtMost, value: 1000.0, window: Between("4s", "9s")),
            (name: "fast segments later on", metric: SegmentP95, op: AtMost, value: 10.0, window: From("20s")),
        ])"#,
    );
    let mut w = World::new(&lab, 1);
    w.run_until(at(secs));
    w
}

#[test]
fn lesson_panel_with_objectives() {
    insta::assert_snapshot!(render(&app(&lesson_world(12.0)), 160, 48));
}

#[test]
fn lab_picker() {
    let mut a = app(&world(6.0, &[]));
    press(&mut a, "l");
    insta::assert_snapshot!(render(&a, 160, 48));
}

#[test]
fn lab_picker_loads_the_chosen_lab() {
    let mut a = app(&world(6.0, &[]));
    let sent = press(&mut a, "l\n");
    let [Control::Load(lab, seed)] = sent.as_slice() else {
        panic!("expected one Load, got {sent:?}")
    };
    assert_eq!(lab.name, lblab::lab::BUILTIN[0].0);
    assert_eq!(*seed, lab.seed);
    assert!(press(&mut a, "l\x1b").is_empty());
}

#[test]
fn lesson_scrolls_and_stays_in_range() {
    let mut a = app(&lesson_world(6.0));
    press(&mut a, "JJ");
    assert_eq!(a.lesson_scroll, 6);
    press(&mut a, "KKKK");
    assert_eq!(a.lesson_scroll, 0);
}

#[test]
fn timeline_entries_show_in_the_log_as_they_fire() {
    let w = lesson_world(6.0);
    let s = w.snapshot();
    assert!(
        s.log.iter().any(|e| e.text == "timeline: kill srv-2"),
        "{:?}",
        s.log
    );
}

#[test]
fn help_overlay_at_the_smallest_size_shows_every_key_as_it_scrolls() {
    let mut a = app(&world(6.0, &[]));
    press(&mut a, "?");
    // Page down through the help at 80x24, as a reader would, collecting
    // what each page shows; every key and its whole description appears.
    let mut seen = render(&a, 80, 24);
    for _ in 0..30 {
        press(&mut a, "↓");
        assert_eq!(
            a.overlay,
            Overlay::Help,
            "↓ scrolls the help, not closes it"
        );
        seen.push_str(&render(&a, 80, 24));
    }
    for label in ["Ctrl-C", "PgUp/K", "Esc/q", "Enter", "0-9", "Shift-Tab"] {
        assert!(seen.contains(label), "{label} missing at 80x24:\n{seen}");
    }
    assert!(
        seen.contains("revive the selected server (or stop draining it)"),
        "a description cut at 80x24:\n{seen}"
    );
    press(&mut a, "x");
    assert_eq!(a.overlay, Overlay::None, "any other key closes it");
}

#[test]
fn increase_keys_never_lower_a_value_set_above_the_editor_range() {
    let lab = common::lab(
        r#"(name: "big", clients: (tcp: (max_retransmissions: 4294967295)),
           balancer: (health: (rise: 4294967295)),
           servers: List([(name: "heavy", weight: 500)]))"#,
    );
    let w = World::new(&lab, 1);
    let mut a = app(&w);
    assert!(press(&mut a, "+").is_empty(), "weight 500 stays");
    assert!(press(&mut a, "t↓↓→").is_empty(), "retries stay");
    assert!(press(&mut a, "↓↓↓↓↓↓→").is_empty(), "rise stays");
    assert_eq!(press(&mut a, "←").len(), 1, "lowering still works");
}

#[test]
fn defence_keys_toggle_the_rate_limit_and_the_allow_list() {
    let mut a = app(&world(6.0, &[]));
    let sent = press(&mut a, "L");
    assert!(
        matches!(sent.as_slice(), [Control::Apply(Command::SetRateLimit(Some(r)))] if r.rate.get() == 20)
    );
    let sent = press(&mut a, "A");
    let [Control::Apply(Command::SetFilter(f))] = sent.as_slice() else {
        panic!("expected SetFilter, got {sent:?}")
    };
    let filter = lblab::policy::IpFilter::from(f);
    assert!(
        filter
            .verdict(lblab::model::Ip::new(10, 1, 2, 3))
            .is_allowed()
    );
    assert!(
        !filter
            .verdict(lblab::model::Ip::new(198, 18, 0, 1))
            .is_allowed()
    );
    // With both in force, the same keys turn them off.
    let limit = lblab::spec::RateLimitSpec {
        rate: lblab::spec::Positive::new_const(20),
        per: lblab::spec::Dur::from_secs(1),
        burst: lblab::spec::Positive::new_const(40),
        sources: lblab::spec::Positive::new_const(100),
    };
    let w = world(
        6.0,
        &[
            Command::SetRateLimit(Some(limit)),
            Command::SetFilter(f.clone()),
        ],
    );
    let mut b = app(&w);
    assert_eq!(press(&mut b, "L"), vec![apply(Command::SetRateLimit(None))]);
    assert_eq!(
        press(&mut b, "A"),
        vec![apply(Command::SetFilter(Default::default()))]
    );
}

#[test]
fn the_flood_popup_chooses_the_attack_kind() {
    let mut a = app(&world(6.0, &[]));
    let sent = press(&mut a, "f↓↓↓→\n");
    let [Control::Apply(Command::StartFlood(spec))] = sent.as_slice() else {
        panic!("expected StartFlood, got {sent:?}")
    };
    assert_eq!(spec.kind, lblab::spec::AttackKind::ConnectionFlood);
    let sent = press(&mut a, "f↓↓↓←\n");
    let [Control::Apply(Command::StartFlood(spec))] = sent.as_slice() else {
        panic!("expected StartFlood, got {sent:?}")
    };
    assert_eq!(spec.kind, lblab::spec::AttackKind::SlowSenders);
}

#[test]
fn w_shows_why_the_selected_server_got_its_last_picks() {
    let mut a = app(&world(6.0, &[]));
    assert!(press(&mut a, "jw").is_empty(), "w only opens a view");
    let screen = render(&a, 160, 48);
    assert!(screen.contains("why srv-2? its last picks"), "{screen}");
    // Classic's round robin: each of srv-2's picks was its turn.
    assert!(
        screen.contains("-> srv-2 by round-robin: its turn"),
        "{screen}"
    );
    assert!(
        !screen.contains("-> srv-1 by"),
        "only the selected server's picks"
    );
    // Any key closes it and does nothing else.
    assert!(
        press(&mut a, "x").is_empty(),
        "x closed the view, killed nothing"
    );
    assert!(!render(&a, 160, 48).contains("its last picks"));
}

#[test]
fn resilience_keys_turn_each_setting_on_with_the_values_they_document() {
    use lblab::spec::{Dur, OutlierSpec, Percent, Positive};
    let mut a = app(&world(6.0, &[]));
    assert_eq!(
        press(&mut a, "UEPDY"),
        vec![
            apply(Command::SetSlowStart(Some(Dur::from_secs(10)))),
            apply(Command::SetOutlierEjection(Some(OutlierSpec::default()))),
            apply(Command::SetPanicThreshold(Some(Percent::new_const(50)))),
            apply(Command::SetRedispatch(Some(Positive::new_const(1)))),
            apply(Command::SetSticky(Some(Dur::from_secs(30)))),
        ]
    );
    // With them on, the same keys turn them off.
    let on = world(
        6.0,
        &[
            Command::SetSlowStart(Some(Dur::from_secs(10))),
            Command::SetOutlierEjection(Some(OutlierSpec::default())),
            Command::SetPanicThreshold(Some(Percent::new_const(50))),
            Command::SetRedispatch(Some(Positive::new_const(1))),
            Command::SetSticky(Some(Dur::from_secs(30))),
        ],
    );
    let mut a = app(&on);
    assert_eq!(
        press(&mut a, "UEPDY"),
        vec![
            apply(Command::SetSlowStart(None)),
            apply(Command::SetOutlierEjection(None)),
            apply(Command::SetPanicThreshold(None)),
            apply(Command::SetRedispatch(None)),
            apply(Command::SetSticky(None)),
        ]
    );
}

#[test]
fn tab_moves_to_the_next_field_and_typing_past_a_limit_says_so() {
    let mut a = app(&world(6.0, &[]));
    press(&mut a, "f\t");
    let Overlay::Flood(form) = &a.overlay else {
        panic!("the flood popup is open")
    };
    assert_eq!(form.cursor, 1, "Tab goes down, as in every form");
    // The sources field holds at most the spoofable range.
    assert!(press(&mut a, "99999999").is_empty());
    let notice = a.notice.clone().unwrap_or_default();
    assert!(notice.starts_with("spoofed sources is at most"), "{notice}");
    let Overlay::Flood(form) = &a.overlay else {
        panic!("the popup stays open")
    };
    assert!(
        form.sources < 99_999_999,
        "refused, not capped: {}",
        form.sources
    );
}
