//! The dashboard's input as a person gives it: popups that hold the world,
//! space and `?` inside them, typed numbers, Tab order, keys that cannot
//! act saying why, the mouse, the log scrolled and filtered, the header
//! and status bar at 80 and 160 columns, guided mode and the end-of-lab
//! summary.

use crate::common;

use common::dashboard::{app, commands, frame, press, render, world};
use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use lblab::live::Control;
use lblab::spec::{AttackKind, Command, CookieMode, Dur, FilterSpec, Positive, RateLimitSpec};
use lblab::tui::app::{App, Overlay, Panel};
use lblab::tui::view::layout::{Areas, layout};
use ratatui::layout::Rect;
use std::sync::Arc;

fn holds(controls: &[Control]) -> Vec<bool> {
    controls
        .iter()
        .filter_map(|c| match c {
            Control::Hold(h) => Some(*h),
            _ => None,
        })
        .collect()
}

#[test]
fn a_popup_holds_the_world_until_it_closes() {
    let mut a = app(&world("classic", 6.0, &[]));
    assert_eq!(holds(&press(&mut a, "a")), [true], "opening holds");
    assert_eq!(holds(&press(&mut a, "↓")), Vec::<bool>::new());
    assert_eq!(holds(&press(&mut a, "\x1b")), [false], "closing lets go");
    // The old behaviour, kept by a setting.
    a.popups_pause = false;
    assert!(holds(&press(&mut a, "a\x1b")).is_empty());
}

#[test]
fn space_in_a_popup_lets_the_world_run_and_closing_leaves_it_running() {
    let mut a = app(&world("classic", 6.0, &[]));
    press(&mut a, "t");
    assert_eq!(holds(&press(&mut a, " ")), [false]);
    assert!(matches!(a.overlay, Overlay::Timeouts(_)), "still open");
    assert!(
        holds(&press(&mut a, "\x1b")).is_empty(),
        "nothing to let go"
    );
    // Not held: space pauses, as on the main screen.
    press(&mut a, "t");
    let c = press(&mut a, "\x1b");
    assert_eq!(holds(&c), [false]);
}

#[test]
fn question_mark_in_a_popup_shows_the_help_and_returns_to_the_popup() {
    let mut a = app(&world("classic", 6.0, &[]));
    press(&mut a, "f2");
    press(&mut a, "?");
    assert_eq!(a.overlay, Overlay::Help);
    press(&mut a, "x");
    match &a.overlay {
        Overlay::Flood(form) => assert_eq!(form.rate, 2, "the form kept what was typed"),
        other => panic!("back to {other:?}, not the flood popup"),
    }
}

#[test]
fn a_typed_flood_rate_is_the_rate_sent() {
    let mut a = app(&world("classic", 6.0, &[]));
    let sent = commands(&press(&mut a, "f2000\n"));
    match sent.as_slice() {
        [Command::StartFlood(spec)] => {
            assert_eq!(spec.rate.get(), 2000.0);
            assert_eq!(spec.kind, AttackKind::SpoofedSyn);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ten_plus_presses_raise_a_weight_by_ten_with_one_log_line_each() {
    let mut w = world("classic", 6.0, &[]);
    let mut a = app(&w);
    // No new frame arrives between the presses, as when keys come faster
    // than the dashboard draws: each builds on the one before.
    let sent = commands(&press(&mut a, "++++++++++"));
    let weights: Vec<u32> = sent
        .iter()
        .map(|c| match c {
            Command::SetWeight(name, w) if name == "srv-1" => *w,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(weights, (2..=11).collect::<Vec<u32>>());
    let before = w.snapshot().log_total;
    for c in sent {
        w.apply(c);
    }
    let s = w.snapshot();
    assert_eq!(s.servers[0].weight, 11, "from 1, ten presses");
    let weight_lines: Vec<_> = s
        .log
        .iter()
        .rev()
        .take((s.log_total - before) as usize)
        .filter(|e| e.text.contains("weight"))
        .collect();
    assert_eq!(weight_lines.len(), 10, "{weight_lines:#?}");
}

#[test]
fn tab_moves_to_the_next_field_and_shift_tab_to_the_previous() {
    let mut a = app(&world("classic", 6.0, &[]));
    press(&mut a, "f");
    let cursor = |a: &App| match &a.overlay {
        Overlay::Flood(f) => f.cursor,
        other => panic!("{other:?}"),
    };
    assert_eq!(cursor(&a), 0);
    press(&mut a, "\t\t");
    assert_eq!(cursor(&a), 2);
    press(&mut a, "⇤");
    assert_eq!(cursor(&a), 1);
}

#[test]
fn keys_that_cannot_act_say_why() {
    let mut a = app(&world(
        "classic",
        6.0,
        &[(5.0, Command::KillServer("srv-1".into()))],
    ));
    assert!(press(&mut a, "x").is_empty());
    assert!(
        a.notice
            .as_deref()
            .is_some_and(|n| n.contains("already killed")),
        "{:?}",
        a.notice
    );
    press(&mut a, "j");
    assert!(press(&mut a, "r").is_empty());
    assert!(
        a.notice
            .as_deref()
            .is_some_and(|n| n.contains("is running")),
        "{:?}",
        a.notice
    );
}

fn areas(a: &App, w: u16, h: u16) -> (Rect, Areas) {
    let screen = Rect::new(0, 0, w, h);
    (screen, layout(screen, a))
}

fn mouse(kind: MouseEventKind, column: u16, row: u16) -> MouseEvent {
    MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }
}

fn click(a: &mut App, column: u16, row: u16, w: u16, h: u16) -> Vec<Control> {
    let (screen, areas) = areas(a, w, h);
    let e = mouse(MouseEventKind::Down(MouseButton::Left), column, row);
    a.mouse(e, screen, &areas)
}

#[test]
fn a_click_selects_the_server_on_its_row() {
    let mut a = app(&world("classic", 6.0, &[]));
    let (_, ar) = areas(&a, 160, 48);
    // The border, the header, then srv-1, srv-2, srv-3.
    click(&mut a, ar.servers.x + 5, ar.servers.y + 4, 160, 48);
    assert_eq!(a.selected, 2);
    let screen = render(&a, 160, 48);
    assert!(
        screen.lines().any(|l| l.contains("▶ srv-3")),
        "the clicked row is the highlighted one:\n{screen}"
    );
}

#[test]
fn a_click_on_a_title_focuses_and_a_second_maximises() {
    let mut a = app(&world("classic", 6.0, &[]));
    let (_, ar) = areas(&a, 160, 48);
    click(&mut a, ar.log.x + 3, ar.log.y, 160, 48);
    assert_eq!((a.focus, a.maximised), (Panel::Log, false));
    click(&mut a, ar.log.x + 3, ar.log.y, 160, 48);
    assert_eq!((a.focus, a.maximised), (Panel::Log, true));
    let (_, big) = areas(&a, 160, 48);
    assert_eq!(big.log.height, 46, "the log fills the body");
    assert_eq!(big.servers, Rect::default());
}

#[test]
fn the_wheel_scrolls_the_panel_under_the_pointer() {
    let cmds: Vec<(f64, Command)> = (0..30)
        .map(|i| {
            (
                5.0 + f64::from(i) * 0.1,
                Command::SetWeight("srv-1".into(), 2 + i),
            )
        })
        .collect();
    let mut a = app(&world("classic", 10.0, &cmds));
    let (screen, ar) = areas(&a, 160, 48);
    let over_log = mouse(MouseEventKind::ScrollUp, ar.log.x + 5, ar.log.y + 3);
    a.mouse(over_log, screen, &ar);
    assert!(a.log.scroll > 0, "the wheel over the log scrolled it");
    let over_servers = mouse(
        MouseEventKind::ScrollDown,
        ar.servers.x + 5,
        ar.servers.y + 3,
    );
    a.mouse(over_servers, screen, &ar);
    assert_eq!(
        a.selected, 1,
        "the wheel over the table moves the selection"
    );
}

#[test]
fn a_click_chooses_in_a_picker_and_a_second_applies() {
    let mut a = app(&world("classic", 6.0, &[]));
    press(&mut a, "a");
    let (screen, _) = areas(&a, 160, 48);
    let (rows, first) =
        lblab::tui::view::pickers::rows_of(&a.overlay, screen).expect("the picker is open");
    assert_eq!(first, 0);
    let row = rows.y + 2;
    assert!(commands(&click(&mut a, rows.x + 10, row, 160, 48)).is_empty());
    assert_eq!(a.overlay, Overlay::Algorithms(2));
    let sent = commands(&click(&mut a, rows.x + 10, row, 160, 48));
    let third = lblab::spec::Algorithm::ALL[2];
    assert_eq!(sent, [Command::SetAlgorithm(third)]);
}

#[test]
fn the_log_scrolled_and_filtered() {
    let cmds = vec![
        (5.0, Command::KillServer("srv-2".into())),
        (6.0, Command::SetWeight("srv-1".into(), 3)),
        (7.0, Command::SetWeight("srv-1".into(), 4)),
        (8.0, Command::ReviveServer("srv-2".into())),
        (9.0, Command::SetWeight("srv-3".into(), 2)),
    ];
    let mut a = app(&world("classic", 14.0, &cmds));
    a.focus = Panel::Log;
    a.maximised = true;
    press(&mut a, "/weight\n");
    assert_eq!(a.overlay, Overlay::None);
    assert_eq!(a.log.shown().len(), 3);
    press(&mut a, "K");
    insta::assert_snapshot!(render(&a, 100, 24));
    press(&mut a, "/\x1b");
    assert!(a.log.filter.is_empty(), "Esc drops the filter");
}

fn every_defence_and_a_flood() -> Vec<(f64, Command)> {
    vec![
        (
            5.0,
            Command::StartFlood(lblab::spec::FloodSpec {
                kind: AttackKind::SpoofedSyn,
                rate: lblab::spec::Rate::new(5000.0).expect("a rate"),
                sources: Positive::new_const(1000),
                start: Dur::ZERO,
                duration: None,
            }),
        ),
        (
            5.0,
            Command::SetRateLimit(Some(RateLimitSpec {
                rate: Positive::new_const(20),
                per: Dur::from_secs(1),
                burst: Positive::new_const(40),
                sources: Positive::new_const(65_536),
            })),
        ),
        (5.0, Command::SetSynCookies(CookieMode::OnOverflow)),
        (
            5.0,
            Command::SetFilter(FilterSpec {
                allow: vec!["10.0.0.0/8".parse().expect("a network")],
                deny: Vec::new(),
            }),
        ),
        (5.0, Command::SetEarlyDrop(true)),
    ]
}

#[test]
fn the_header_puts_the_alarm_first_and_cuts_between_words() {
    let a = app(&world("classic", 8.0, &every_defence_and_a_flood()));
    for width in [80, 160] {
        let screen = render(&a, width, 48);
        let header = screen.lines().next().expect("a header line").to_string();
        assert!(
            header
                .trim_start_matches('"')
                .trim_start()
                .starts_with("UNDER ATTACK"),
            "{width} columns: {header}"
        );
        insta::assert_snapshot!(format!("header_{width}"), header);
    }
}

#[test]
fn the_status_bar_keeps_help_and_quit_at_80_columns_in_every_context() {
    let mut a = app(&world("classic", 6.0, &[]));
    let last_line = |a: &App| {
        render(a, 80, 24)
            .lines()
            .last()
            .unwrap_or_default()
            .to_string()
    };
    let main = last_line(&a);
    assert!(main.contains("? help") && main.contains("q quit"), "{main}");
    assert!(main.contains("pause"), "{main}");
    press(&mut a, "a");
    let picker = last_line(&a);
    assert!(
        picker.contains("Enter apply") && !picker.contains("change"),
        "{picker}"
    );
    press(&mut a, "\x1b");
    let mut paused = frame_of(&a);
    paused.pace.paused = true;
    a.set_frame(Arc::new(paused));
    let line = last_line(&a);
    assert!(
        line.contains("space resume") && !line.contains("space pause"),
        "{line}"
    );
}

fn frame_of(a: &App) -> lblab::live::LiveFrame {
    (*a.frame).clone()
}

#[test]
fn the_end_of_a_lab_opens_its_summary_once() {
    let lab = lblab::lab::builtin("syn-cookies").expect("loads");
    let end = lab.duration.expect("a duration").get().as_secs_f64();
    let w = world(
        "syn-cookies",
        end,
        &[(30.0, Command::SetSynCookies(CookieMode::OnOverflow))],
    );
    let mut a = app(&w);
    assert_eq!(a.overlay, Overlay::None, "running: no summary yet");
    let mut f = frame(&w);
    f.pace.paused = true;
    a.set_frame(Arc::new(f.clone()));
    assert_eq!(a.overlay, Overlay::Summary);
    insta::assert_snapshot!(render(&a, 120, 40));
    press(&mut a, "\x1b");
    a.set_frame(Arc::new(f));
    assert_eq!(a.overlay, Overlay::None, "once per run");
    let saved = press(&mut a, "s");
    assert!(
        saved.iter().any(|c| matches!(c, Control::SaveReport(p)
            if p.to_string_lossy().starts_with("lblab-syn-cookies-seed1-t"))),
        "{saved:?}"
    );
}

#[test]
fn guided_mode_pauses_at_a_step_and_says_what_to_press() {
    let lab = lblab::lab::builtin("syn-cookies").expect("loads");
    let (i, at) = lab
        .lesson
        .timed_steps()
        .find(|(_, _, s)| !s.actions.is_empty())
        .map(|(i, at, _)| (i, at))
        .expect("a step with actions");
    let w = world("syn-cookies", at.as_secs_f64(), &[]);
    let mut a = app(&w);
    let mut f = frame(&w);
    f.pace.paused = true;
    f.pace.guided = true;
    a.set_frame(Arc::new(f));
    let notice = a.notice.clone().unwrap_or_default();
    assert!(notice.starts_with(&format!("step {}:", i + 1)), "{notice}");
    assert!(notice.contains("press S"), "{notice}");
    let screen = render(&a, 160, 48);
    assert!(
        screen.lines().next().is_some_and(|h| h.contains("guided")),
        "{screen}"
    );
}

#[test]
fn a_long_list_scrolls_to_keep_the_highlighted_row_in_view() {
    let mut a = app(&world("classic", 6.0, &[]));
    press(&mut a, "l");
    let last = lblab::lab::BUILTIN.len() - 1;
    for _ in 0..last {
        press(&mut a, "↓");
    }
    let (name, _) = lblab::lab::BUILTIN[last];
    let screen = render(&a, 80, 24);
    let row = screen
        .lines()
        .find(|l| l.contains('▶'))
        .unwrap_or_else(|| panic!("no highlighted row at 80x24:\n{screen}"));
    assert!(row.contains(name), "{row}");
    assert!(
        screen.contains("Enter start it"),
        "the hint stays:\n{screen}"
    );
}
