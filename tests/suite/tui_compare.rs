//! The dashboard's `--compare`: two worlds in lockstep drawn side by
//! side, a key applied to both.

use crate::common;

use common::dashboard::{press, render};
use lblab::compare::Side;
use lblab::compare::twin::Twin;
use lblab::engine::Engine;
use lblab::live::{LiveFrame, Speed};
use lblab::model::{SimDuration, SimTime};
use lblab::spec::Command;
use lblab::tui::app::App;
use std::sync::Arc;

#[test]
fn two_worlds_side_by_side_react_to_the_same_kill() {
    let lab = lblab::lab::builtin("round-robin").expect("loads");
    let side = Side::parse("compare", "SetAlgorithm(LeastConnections)", &lab).expect("parses");
    let mut twin = Twin::new(&lab, 1, &side);
    twin.advance(SimTime::ZERO + SimDuration::from_secs(5), u64::MAX);
    let mut app = App::new(
        Arc::new(LiveFrame::still(&twin, &lab, Speed::Factor(10.0))),
        true,
    );
    // The key sends one command; the twin engine applies it to both.
    let sent = press(&mut app, "jx");
    let kill = sent
        .iter()
        .find_map(|c| match c {
            lblab::live::Control::Apply(cmd @ Command::KillServer(_)) => Some(cmd.clone()),
            _ => None,
        })
        .expect("x sends a kill");
    twin.apply(kill, lblab::spec::Origin::User);
    twin.advance(SimTime::ZERO + SimDuration::from_secs(8), u64::MAX);
    app.set_frame(Arc::new(LiveFrame::still(&twin, &lab, Speed::Factor(10.0))));
    let screen = render(&app, 160, 48);
    let title = screen.lines().nth(1).unwrap_or_default();
    assert!(
        title.contains("A: the lab as it is · round-robin")
            && title.contains("B: SetAlgorithm(LeastConnections) · least-connections"),
        "{screen}"
    );
    let killed_rows = screen
        .lines()
        .filter(|l| l.matches("srv-2      ✖ killed").count() == 2)
        .count();
    assert_eq!(killed_rows, 1, "srv-2 is killed on both sides:\n{screen}");
}

#[test]
fn b_aims_the_keys_at_one_world_and_says_so() {
    let lab = lblab::lab::builtin("round-robin").expect("loads");
    let side = Side::parse("compare", "SetAlgorithm(Random)", &lab).expect("parses");
    let twin = Twin::new(&lab, 1, &side);
    let mut app = App::new(
        Arc::new(LiveFrame::still(&twin, &lab, Speed::Factor(10.0))),
        true,
    );
    let aims: Vec<_> = "BBB"
        .chars()
        .map(|k| press(&mut app, &k.to_string()))
        .collect();
    use lblab::engine::Aim;
    use lblab::live::Control;
    assert_eq!(
        aims,
        [
            vec![Control::Aim(Aim::A)],
            vec![Control::Aim(Aim::B)],
            vec![Control::Aim(Aim::Both)]
        ]
    );
    press(&mut app, "B");
    let screen = render(&app, 160, 48);
    let title = screen.lines().nth(1).unwrap_or_default();
    assert_eq!(title.matches("◀ keys").count(), 1, "{title}");
    // One world: B says there is nothing to aim at.
    let mut single = common::dashboard::app(&common::dashboard::world("classic", 2.0, &[]));
    assert!(press(&mut single, "B").is_empty());
    assert!(
        single
            .notice
            .as_deref()
            .is_some_and(|n| n.contains("--compare"))
    );
}
