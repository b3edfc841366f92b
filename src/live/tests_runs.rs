//! The driver's recording, replay, branching, rewinding and saves, driven
//! through its controls without a thread (so each step is exact).

use super::*;
use crate::run_file::RunFile;
use crate::sim::World;
use crate::spec::TimedCommand;

fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

fn driver(setup: RunSetup) -> Driver {
    let lab = crate::lab::builtin("classic").expect("classic");
    Driver::new(World::maker(), lab, 1, Speed::Max, true, setup)
}

/// Runs the driver's World to `t` as its pacing loop would.
fn run_to(d: &mut Driver, t: SimTime) {
    while d.engine.now() < t {
        d.rec
            .pending
            .advance(d.engine.as_mut(), t, BATCH, &mut d.rec.applied);
        d.rec.maybe_checkpoint(d.engine.as_ref());
    }
}

fn table(d: &Driver) -> String {
    let mut r = crate::report::Report::from_engine(d.engine.as_ref(), false, None);
    r.wall = None;
    r.log.clear();
    r.log_entries.clear();
    r.render(crate::report::Format::Table)
}

fn kill(name: &str) -> Control {
    Control::Apply(Command::KillServer(name.into()))
}

#[test]
fn keys_are_recorded_at_the_time_they_took_effect() {
    let mut d = driver(RunSetup::default());
    run_to(&mut d, SimTime(12_500_000_000));
    assert!(d.control(kill("srv-3")));
    let run = d.rec.run_file(&d.lab, d.seed, d.engine.now());
    assert_eq!(
        run.commands,
        vec![TimedCommand::At(
            crate::spec::Dur::from_millis(12_500),
            Command::KillServer("srv-3".into())
        )]
    );
    assert_eq!(d.frame().run.commands, 1);
}

#[test]
fn a_replay_applies_its_commands_and_a_key_branches_it() {
    let lab = crate::lab::builtin("classic").expect("classic");
    let mut run = RunFile::new(&lab, 1);
    run.commands = vec![
        TimedCommand::At(
            crate::spec::Dur::from_secs(5),
            Command::KillServer("srv-1".into()),
        ),
        TimedCommand::At(
            crate::spec::Dur::from_secs(20),
            Command::KillServer("srv-2".into()),
        ),
    ];
    run.length = Some(crate::spec::Dur::from_secs(30));
    let replay = Replay {
        name: "r.ron".into(),
        run,
    };
    let mut d = driver(RunSetup {
        record_to: None,
        replay: Some(replay),
    });
    run_to(&mut d, secs(10));
    let f = d.frame();
    assert_eq!((f.run.commands, f.run.pending), (1, 1));
    assert_eq!(f.run.replay.as_deref(), Some("r.ron"));
    d.control(kill("srv-4"));
    let f = d.frame();
    assert_eq!(f.run.branched_at, Some(secs(10)));
    assert_eq!(
        (f.run.commands, f.run.pending),
        (2, 0),
        "srv-2's kill is dropped"
    );
    run_to(&mut d, secs(25));
    let killed = d
        .engine
        .server_rows()
        .iter()
        .filter(|r| r.state == crate::engine::ServerState::Killed)
        .count();
    assert_eq!(killed, 2, "srv-1 by the replay, srv-4 by the key");
}

#[test]
fn a_replay_ends_where_its_recording_did_and_pauses() {
    let lab = crate::lab::builtin("classic").expect("classic");
    let mut run = RunFile::new(&lab, 1);
    run.length = Some(crate::spec::Dur::from_secs(3));
    let mut d = driver(RunSetup {
        record_to: None,
        replay: Some(Replay {
            name: "r".into(),
            run,
        }),
    });
    d.paused = false;
    for _ in 0..10_000 {
        d.advance();
        if d.paused {
            break;
        }
    }
    assert!(d.paused);
    assert_eq!(d.engine.now(), secs(3));
}

#[test]
fn rewinding_returns_to_the_same_world_and_keeps_the_later_commands() {
    let mut d = driver(RunSetup::default());
    run_to(&mut d, secs(25));
    d.control(kill("srv-3"));
    let at_30 = {
        run_to(&mut d, secs(30));
        table(&d)
    };
    run_to(&mut d, secs(47));
    d.control(kill("srv-5"));
    run_to(&mut d, secs(60));
    let at_60 = table(&d);
    let generation = d.generation;
    d.control(Control::Seek(Seek::To(secs(30))));
    assert_eq!(d.engine.now(), secs(30));
    assert_eq!(
        table(&d),
        at_30,
        "rewound to 30 s is the world that was at 30 s"
    );
    assert!(
        d.generation > generation,
        "the dashboard starts its view over"
    );
    assert_eq!(d.frame().run.pending, 1, "srv-5's kill waits to replay");
    run_to(&mut d, secs(60));
    assert_eq!(
        table(&d),
        at_60,
        "run on, the same commands give the same world"
    );
    d.control(Control::Seek(Seek::Back(SimDuration::from_secs(10))));
    assert_eq!(d.engine.now(), secs(50));
    d.control(Control::Seek(Seek::Forward(SimDuration::from_secs(10))));
    assert_eq!(table(&d), at_60);
}

#[test]
fn checkpoints_are_bounded_and_thin_out() {
    let lab = crate::lab::builtin("round-robin").expect("lab");
    let mut d = Driver::new(
        World::maker(),
        lab,
        1,
        Speed::Max,
        true,
        RunSetup::default(),
    );
    run_to(&mut d, secs(20 * 60));
    let (n, every) = d.frame().run.checkpoints;
    assert!(n <= MAX_CHECKPOINTS, "{n} checkpoints");
    assert!(every > FIRST_EVERY, "thinned to one every {every}");
    d.control(Control::Seek(Seek::To(secs(5))));
    assert_eq!(d.engine.now(), secs(5));
}

#[test]
fn the_run_is_saved_beside_the_session_file_and_on_quit() {
    let dir = std::env::temp_dir().join(format!("lblab-runs-test-{}", std::process::id()));
    let record_to = dir.join("session.ron");
    let mut d = driver(RunSetup {
        record_to: Some(record_to.clone()),
        replay: None,
    });
    run_to(&mut d, secs(12));
    d.control(kill("srv-2"));
    d.control(Control::SaveRun);
    let saved = d.frame().run.saved.expect("a save message");
    let path = dir.join("session-t12s.ron");
    assert!(saved.contains(&path.display().to_string()), "{saved}");
    let back = crate::run_file::load(&path, false).expect("the saved run loads");
    assert_eq!(back.run.commands.len(), 1);
    assert_eq!(d.record_on_quit(), Some(Ok(record_to.clone())));
    assert!(crate::run_file::load(&record_to, false).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}
