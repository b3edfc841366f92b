//! The panels that make the dashboard readable, drawn into a test backend
//! and compared with reviewed snapshots: sparklines with their scale and
//! time axis, the balancer's view of a killed server as it changes its
//! mind, every failure reason in the clients panel, the latency histogram
//! and one server's detail view.

use crate::common;

use common::dashboard::{app, render, world};
use lblab::sim::World;
use lblab::spec::Command;
use lblab::tui::app::{App, Overlay, Panel};
use lblab::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// `app` with `panel` maximised, so a snapshot shows that panel alone.
fn maximised(w: &World, panel: Panel) -> App {
    let mut a = app(w);
    a.focus = panel;
    a.maximised = true;
    a
}

/// The rows `top..bottom` and columns `left..right` of a frame: a panel
/// or overlay alone, so its snapshot does not change with the header, the
/// status bar or the lesson text around it.
fn region(app: &App, size: (u16, u16), top: u16, bottom: u16, left: u16, right: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(size.0, size.1)).expect("test terminal");
    t.draw(|f| view::draw(f, app)).expect("draw");
    let buffer = t.backend().buffer();
    (top..bottom)
        .map(|y| {
            let line: String = (left..right)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            format!("{line:?}\n")
        })
        .collect()
}

/// A maximised panel alone: the frame without its header and status bar.
fn panel(app: &App, width: u16, height: u16) -> String {
    region(app, (width, height), 1, height - 1, 0, width)
}

fn kill_srv3() -> Vec<(f64, Command)> {
    vec![(5.0, Command::KillServer("srv-3".into()))]
}

#[test]
fn traffic_sparklines_show_their_scale_and_a_time_axis() {
    let screen = panel(
        &maximised(&world("classic", 40.0, &kill_srv3()), Panel::Traffic),
        120,
        24,
    );
    // The axis counts back from now; each row has its newest value and
    // the max it is drawn to, latency in ms.
    assert!(screen.contains("now      max"), "{screen}");
    assert!(
        screen.contains("-20s") && screen.contains("-60s"),
        "{screen}"
    );
    assert!(screen.contains("4.10ms"), "{screen}");
    assert!(!screen.contains("µs"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn latency_with_nothing_measured_is_a_dash_not_zero() {
    // Every server killed at 5 s: no segment has been acknowledged since.
    let kills: Vec<(f64, Command)> = (1..=10)
        .map(|i| (5.0, Command::KillServer(format!("srv-{i}"))))
        .collect();
    let screen = render(
        &maximised(&world("classic", 12.0, &kills), Panel::Traffic),
        100,
        24,
    );
    let line = screen
        .lines()
        .find(|l| l.contains("segment p95"))
        .unwrap_or_else(|| panic!("no latency row:\n{screen}"));
    // "now" is the second figure from the right: none, so "–"; the max
    // of the window still has the seconds before the kill.
    let figures: Vec<&str> = line.split_whitespace().rev().skip(1).take(2).collect();
    assert_eq!(figures, ["4.10ms", "–"], "{line}");
}

#[test]
fn the_balancer_view_of_a_killed_server_goes_from_failing_probes_to_down() {
    // Killed at 5 s; probes every 500 ms with a 250 ms timeout, fall 3.
    let failing = world("classic", 5.9, &kill_srv3());
    let down = world("classic", 10.0, &kill_srv3());
    let failing_screen = panel(&maximised(&failing, Panel::Servers), 160, 24);
    let down_screen = panel(&maximised(&down, Panel::Servers), 160, 24);
    assert!(
        failing_screen.contains("✖ killed · lb up, 2/3 failed"),
        "{failing_screen}"
    );
    assert!(
        down_screen.contains("✖ killed · lb DOWN 3.6s"),
        "{down_screen}"
    );
    insta::assert_snapshot!("killed_server_lb_up_failing", failing_screen);
    insta::assert_snapshot!("killed_server_lb_down", down_screen);
    let balancer = panel(&maximised(&failing, Panel::Balancer), 80, 24);
    assert!(balancer.contains("srv-3"), "{balancer}");
    insta::assert_snapshot!("balancer_panel_failing_probes", balancer);
}

#[test]
fn the_clients_panel_lists_every_failure_reason() {
    let w = world("server-dies", 60.0, &[]);
    let screen = panel(&maximised(&w, Panel::Clients), 80, 24);
    let s = w.snapshot();
    for r in lblab::spec::FailReason::ALL {
        let n = s.conns.failed[r.index()];
        if n > 0 {
            assert!(screen.contains(&format!("{} {n}", r.name())), "{screen}");
        }
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn the_latency_histogram_marks_its_percentiles() {
    let w = world("lossy-link", 30.0, &[]);
    let mut a = maximised(&w, Panel::Histogram);
    a.show_histogram = true;
    let screen = panel(&a, 100, 24);
    assert!(screen.contains("◀ p50"), "{screen}");
    assert!(screen.contains("segment latency, last 10 s"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_histogram_panel_shows_with_h_beside_or_instead_of_the_traffic() {
    let w = world("classic", 30.0, &[]);
    let mut a = app(&w);
    a.show_histogram = true;
    let screen = render(&a, 160, 48);
    assert!(screen.contains("segment latency"), "{screen}");
    assert!(screen.contains("┌ balancer"), "{screen}");
}

#[test]
fn the_server_detail_view_tells_its_story() {
    let w = world(
        "classic",
        14.0,
        &[
            (5.0, Command::KillServer("srv-3".into())),
            (9.0, Command::ReviveServer("srv-3".into())),
        ],
    );
    let mut a = app(&w);
    a.selected = 2;
    a.overlay = Overlay::Detail(2);
    // The overlay alone: 110 x 44 centred in 160 x 48.
    let screen = region(&a, (160, 48), 2, 46, 25, 135);
    for text in ["killed", "marked DOWN", "revived", "marked UP", "✓", "✗"] {
        assert!(screen.contains(text), "no {text:?}:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}
