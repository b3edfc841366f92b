//! Runs as data: a dashboard session driven by random keys, recorded as
//! the live driver records it, replays headless to the same report byte
//! for byte; a World rewound to a checkpoint and run forward is the
//! original at every checked moment; a run file from another version or
//! lab is refused unless forced.

use crate::common;

use common::dashboard::{app, press};
use lblab::engine::Engine;
use lblab::live::{Control, LiveFrame, Speed};
use lblab::model::{SimDuration, SimTime};
use lblab::report::{Format, Report};
use lblab::run_file::pending::{apply_now, stamped};
use lblab::run_file::{Pending, RunFile, load_str};
use lblab::sim::World;
use lblab::spec::TimedCommand;
use rand::{Rng, SeedableRng};

/// A number drawn from `0..n`.
fn below(rng: &mut Pcg64Mcg, n: u64) -> u64 {
    rng.next_u64() % n
}
use rand_pcg::Pcg64Mcg;
use std::sync::Arc;

/// Keys a student may press that change the World or open the popups
/// whose Enter does (no quit, restart, lab picker, saves or rewinds: those
/// are the driver's, not commands).
const KEYS: &[&str] = &[
    "x",
    "r",
    "d",
    "+",
    "-",
    "X",
    "C",
    "L",
    "S",
    "A",
    "U",
    "E",
    "P",
    "D",
    "Y",
    "↓",
    "↑",
    "j",
    "f\n",
    "f",
    "a↓\n",
    "a↓↓↓\n",
    "a3\n",
    "t\n",
    "t↓→\n",
    "t↓↓←\n",
    "\x1b",
    " ",
    "w",
    "\x1b",
];

/// The table report of `engine`, without its wall-clock line (replays
/// run at another speed).
fn table(engine: &dyn Engine) -> String {
    let mut r = Report::from_engine(engine, engine.workload_finished(), None);
    r.wall = None;
    r.render(Format::Table)
}

/// A dashboard session on `lab` with `seed` driven by keys drawn from
/// `script_seed`: the World and the commands the keys applied, each at
/// the time it took effect, as the live driver applies and records them.
fn session(lab: &str, seed: u64, script_seed: u64, presses: usize) -> (World, Vec<TimedCommand>) {
    let lab = lblab::lab::builtin(lab).expect("built-in lab");
    let mut world = World::new(&lab, seed);
    let mut dash = app(&world);
    let mut rng = Pcg64Mcg::seed_from_u64(script_seed);
    let mut recorded = Vec::new();
    for _ in 0..presses {
        // Keys land at odd nanoseconds as well as on whole seconds (where
        // the World's own ticks fall).
        let dt = match below(&mut rng, 4) {
            0 => SimDuration::from_secs(below(&mut rng, 3)),
            _ => SimDuration::from_nanos(below(&mut rng, 3_000_000_000)),
        };
        let to = world.now() + dt;
        // A driver's batch may stop among the events of one instant.
        world.advance(to, 1 + below(&mut rng, 5_000));
        dash.set_frame(Arc::new(LiveFrame::still(
            &world,
            &lab,
            Speed::Factor(10.0),
        )));
        let keys = KEYS[below(&mut rng, KEYS.len() as u64) as usize];
        for control in press(&mut dash, keys) {
            if let Control::Apply(cmd) = control {
                let at = apply_now(&mut world, cmd.clone());
                recorded.push(stamped(at, cmd));
            }
        }
    }
    (world, recorded)
}

#[test]
fn key_scripts_replay_headless_to_the_same_report() {
    let mut commands_seen = 0;
    for (lab, seed) in [
        ("classic", 1),
        ("classic", 9),
        ("syn-flood", 3),
        ("drain-vs-kill", 5),
        ("outlier-ejection", 2),
        ("sticky-sessions", 4),
    ] {
        for script_seed in 0..3u64 {
            let (mut world, commands) = session(lab, seed, script_seed, 40);
            commands_seen += commands.len();
            let end = world.now() + SimDuration::from_secs(2);
            world.run_until(end);
            let lab_spec = lblab::lab::builtin(lab).expect("built-in lab");
            let mut run = RunFile::new(&lab_spec, seed);
            run.commands = commands;
            run.length = Some(lblab::spec::Dur(end.saturating_since(SimTime::ZERO)));
            let text = run.to_text().expect("writes");
            let back = load_str(&text, "run.ron", false).expect("reads back");
            let (_, replayed) = lblab::headless::replay(World::maker(), &back.lab, &back.run, None)
                .expect("replays");
            let (live, again) = (table(&world), table(replayed.as_ref()));
            assert!(
                live == again,
                "lab {lab} seed {seed}: key script seed {script_seed} replays to another report\n--- live\n{live}\n--- replay\n{again}"
            );
        }
    }
    assert!(
        commands_seen > 100,
        "the keys applied {commands_seen} commands"
    );
}

#[test]
fn rewinding_to_a_checkpoint_and_running_on_is_the_original() {
    for (lab, seed, script_seed) in [("classic", 1, 11), ("syn-flood", 2, 12), ("queue", 3, 13)] {
        let (world, commands) = session(lab, seed, script_seed, 30);
        let lab_spec = lblab::lab::builtin(lab).expect("built-in lab");
        let end = world.now();
        // Checkpoints of a replay every 5 s, as the driver keeps them.
        let mut engine: Box<dyn Engine> = World::engine(&lab_spec, seed);
        let mut pending = Pending::new(commands.clone());
        let mut applied = Vec::new();
        let mut checkpoints = Vec::new();
        let mut t = SimTime::ZERO;
        while t < end {
            checkpoints.push((t, engine.fork().expect("a World forks"), applied.len()));
            t = (t + SimDuration::from_secs(5)).min(end);
            pending.advance(engine.as_mut(), t, u64::MAX, &mut applied);
        }
        assert_eq!(applied, commands, "every command replayed");
        // At each checked moment: the newest checkpoint before it, the
        // commands after it, run forward; then on to the end.
        for k in 1..8u64 {
            let check = SimTime(end.0 / 8 * k + 12_345);
            let (at, cp, done) = checkpoints
                .iter()
                .rev()
                .find(|(at, _, _)| *at <= check)
                .expect("the first checkpoint is at 0");
            let mut rewound = cp.fork().expect("forks");
            let mut rest = Pending::new(commands[*done..].iter().cloned());
            let mut again = Vec::new();
            rest.advance(rewound.as_mut(), check, u64::MAX, &mut again);
            let mut original = World::engine(&lab_spec, seed);
            let mut all = Pending::new(commands.clone());
            all.advance(original.as_mut(), check, u64::MAX, &mut Vec::new());
            assert_eq!(
                table(rewound.as_ref()),
                table(original.as_ref()),
                "{lab}: rewound from {at:?} to {check:?}"
            );
            rest.advance(rewound.as_mut(), end, u64::MAX, &mut again);
            assert_eq!(
                table(rewound.as_ref()),
                table(&world),
                "{lab}: rewound to {check:?} and run to the end"
            );
        }
    }
}

#[test]
fn a_command_applied_live_equals_the_same_command_replayed() {
    // On a whole second, where the World's second tick also falls, and
    // with a batch stopped among that instant's events.
    let lab = lblab::lab::builtin("classic").expect("classic");
    let cmd = lblab::spec::Command::KillServer("srv-3".into());
    let mut live = World::new(&lab, 1);
    live.advance(SimTime::ZERO + SimDuration::from_secs(12), u64::MAX);
    live.advance(SimTime::ZERO + SimDuration::from_secs(13), 700);
    let at = apply_now(&mut live, cmd.clone());
    live.run_until(SimTime::ZERO + SimDuration::from_secs(40));
    let mut replay: Box<dyn Engine> = World::engine(&lab, 1);
    let mut p = Pending::new([stamped(at, cmd)]);
    p.advance(
        replay.as_mut(),
        SimTime::ZERO + SimDuration::from_secs(40),
        u64::MAX,
        &mut Vec::new(),
    );
    assert_eq!(table(&live), table(replay.as_ref()));
}

#[test]
fn a_headless_run_recorded_replays_byte_for_byte() {
    let lab = lblab::lab::builtin("server-dies").expect("lab");
    let script = vec![TimedCommand::At(
        lblab::spec::Dur::from_secs(7),
        lblab::spec::Command::KillServer("srv-2".into()),
    )];
    let run_for = Some(SimDuration::from_secs(30));
    let (first, _) = lblab::headless::run(World::maker(), &lab, 4, run_for, &script).expect("runs");
    let file = lblab::headless::run_file_of(&lab, 4, run_for, &script);
    let text = file.to_text().expect("writes");
    let back = load_str(&text, "run.ron", false).expect("reads");
    let (again, _) =
        lblab::headless::replay(World::maker(), &back.lab, &back.run, None).expect("replays");
    let strip = |mut r: Report| {
        r.wall = None;
        r.render(Format::Json)
    };
    assert_eq!(strip(first), strip(again));
}

#[test]
fn a_run_file_from_elsewhere_is_refused_unless_forced() {
    let lab = lblab::lab::builtin("classic").expect("classic");
    let text = RunFile::new(&lab, 1).to_text().expect("writes");
    let other = text.replacen(lblab::run_file::VERSION, "9.9.9", 1);
    let e = load_str(&other, "old.ron", false).expect_err("another version");
    let shown = e.to_string();
    assert!(shown.starts_with("old.ron:"), "{shown}");
    assert!(
        shown.contains("9.9.9") && shown.contains("--force"),
        "{shown}"
    );
    let forced = load_str(&other, "old.ron", true).expect("forced");
    assert!(
        forced.warnings[0].contains("9.9.9"),
        "{:?}",
        forced.warnings
    );
    let hash = text.replacen("sip13:", "sip13:f", 1);
    let e = load_str(&hash, "x.ron", false).expect_err("another lab");
    assert!(e.to_string().contains("has changed"), "{e}");
}
