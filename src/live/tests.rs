//! The driver's pacing, pausing, holding and end-of-run pauses.

use super::*;
use crate::sim::World;

#[test]
fn speed_ladder_steps_both_ways_and_stops_at_the_ends() {
    assert_eq!(Speed::Factor(1.0).stepped(true), Speed::Factor(2.0));
    assert_eq!(Speed::Factor(1.0).stepped(false), Speed::Factor(0.5));
    assert_eq!(Speed::Factor(0.1).stepped(false), Speed::Factor(0.1));
    assert_eq!(Speed::Factor(1000.0).stepped(true), Speed::Max);
    assert_eq!(Speed::Max.stepped(true), Speed::Max);
    assert_eq!(Speed::Max.stepped(false), Speed::Factor(1000.0));
    // Off the ladder: the nearest rung in that direction.
    assert_eq!(Speed::Factor(3.0).stepped(true), Speed::Factor(5.0));
    assert_eq!(Speed::Factor(3.0).stepped(false), Speed::Factor(2.0));
}

#[test]
fn speeds_parse_and_refuse_nonsense() {
    assert_eq!(Speed::parse("max"), Ok(Speed::Max));
    assert_eq!(Speed::parse("x10"), Ok(Speed::Factor(10.0)));
    assert_eq!(Speed::parse("0.5"), Ok(Speed::Factor(0.5)));
    assert!(Speed::parse("0").unwrap_err().contains("0.1 to 1000"));
    assert!(Speed::parse("fast").is_err());
    assert_eq!(Speed::Factor(10.0).to_string(), "×10");
    assert_eq!(Speed::Factor(0.25).to_string(), "×0.25");
}

fn wait_for(handle: &mut LiveHandle, what: impl Fn(&LiveFrame) -> bool) -> Arc<LiveFrame> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let f = handle.frames.borrow_and_update().clone();
        if what(&f) {
            return f;
        }
        assert!(Instant::now() < deadline, "timed out waiting for a frame");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn runs_paces_pauses_steps_and_applies_commands() {
    let mut h = spawn(World::maker(), Lab::named("classic"), 1, Speed::Max, false);
    let f = wait_for(&mut h, |f| f.snapshot.now > SimTime(2_000_000_000));
    assert!(!f.pace.paused);
    h.controls.send(Control::TogglePause).unwrap();
    let paused = wait_for(&mut h, |f| f.pace.paused);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        h.frames.borrow().snapshot.now,
        paused.snapshot.now,
        "paused time stands still"
    );
    h.controls.send(Control::Step).unwrap();
    let stepped = wait_for(&mut h, |f| f.applied > paused.applied);
    assert_eq!(stepped.snapshot.now, paused.snapshot.now + STEP);
    h.controls
        .send(Control::Apply(Command::KillServer("srv-1".into())))
        .unwrap();
    let killed = wait_for(&mut h, |f| f.applied > stepped.applied);
    assert_eq!(
        killed.snapshot.servers[0].state,
        crate::engine::ServerState::Killed
    );
    h.controls.send(Control::Restart).unwrap();
    let restarted = wait_for(&mut h, |f| f.generation == 1);
    assert_eq!(restarted.snapshot.now, SimTime::ZERO);
    h.shutdown();
}

#[test]
fn a_lab_with_a_duration_pauses_there_and_runs_on_with_space() {
    let lab = Lab {
        duration: Some(crate::spec::Dur::from_secs(3)),
        ..Lab::named("short")
    };
    let mut h = spawn(World::maker(), lab, 1, Speed::Max, false);
    let end = wait_for(&mut h, |f| f.pace.paused);
    assert_eq!(end.snapshot.now, SimTime(3_000_000_000));
    assert!(
        end.snapshot
            .log
            .iter()
            .any(|e| e.text.contains("paused (space runs on)"))
    );
    h.controls.send(Control::TogglePause).unwrap();
    wait_for(&mut h, |f| f.snapshot.now > SimTime(3_500_000_000));
    h.shutdown();
}

#[test]
fn a_real_time_run_keeps_to_the_wall_clock() {
    let mut h = spawn(
        World::maker(),
        Lab::named("classic"),
        1,
        Speed::Factor(10.0),
        false,
    );
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(600));
    let f = wait_for(&mut h, |_| true);
    let wall = start.elapsed().as_secs_f64();
    let sim = f.snapshot.now.as_secs_f64();
    // Ten times real time, give or take scheduling on a busy machine.
    assert!(
        sim > 1.0 && sim <= wall * 10.0 + 0.1,
        "sim {sim} s after {wall} s at x10"
    );
    h.shutdown();
}

#[test]
fn a_hold_stops_the_clock_without_touching_the_users_pause() {
    let mut h = spawn(World::maker(), Lab::named("classic"), 1, Speed::Max, false);
    wait_for(&mut h, |f| f.snapshot.now > SimTime(1_000_000_000));
    h.controls.send(Control::Hold(true)).unwrap();
    let held = wait_for(&mut h, |f| f.pace.held);
    assert!(!held.pace.paused, "a hold is not a pause");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        h.frames.borrow().snapshot.now,
        held.snapshot.now,
        "held time stands still"
    );
    h.controls.send(Control::Hold(false)).unwrap();
    wait_for(&mut h, |f| {
        !f.pace.held && f.snapshot.now > held.snapshot.now
    });
    h.shutdown();
}

#[test]
fn a_finished_workload_pauses_once_and_space_runs_on() {
    let mut lab = Lab::named("short-classic");
    if let Some(closed) = lab.clients.closed.as_mut() {
        closed.population = 5;
        closed.connections = Some(2);
    }
    let mut h = spawn(World::maker(), lab, 1, Speed::Max, false);
    let end = wait_for(&mut h, |f| f.pace.paused);
    assert!(end.snapshot.finished, "paused before the workload finished");
    assert!(
        end.snapshot
            .log
            .iter()
            .any(|e| e.text.contains("every client has finished"))
    );
    h.controls.send(Control::TogglePause).unwrap();
    let on = wait_for(&mut h, |f| {
        !f.pace.paused && f.snapshot.now > end.snapshot.now + SimDuration::from_secs(1)
    });
    assert!(!on.pace.paused, "the finish pauses only once");
    h.shutdown();
}
