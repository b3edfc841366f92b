//! Hostile inputs that once ran forever, ate the machine or were half
//! checked: each is now refused with a located, exact message, or stopped
//! with a clear one. (Lab files are in `tests/bad-labs/`, checked by
//! `bad_labs.rs`; here are scripts, commands from any source, and worlds
//! built in code that bypass `check`.)

use lblab::engine::{Engine, LogKind};
use lblab::headless::{self, RunError};
use lblab::lab::{builtin, load_commands_str};
use lblab::model::SimDuration;
use lblab::sim::World;
use lblab::spec::{Command, Dist, Dur, Lab, ServerSpec, ServersSpec};

fn classic() -> Lab {
    builtin("classic").expect("classic is built in")
}

fn script_error(text: &str) -> String {
    match load_commands_str(text, "s.ron", &classic()) {
        Ok(commands) => panic!("the script was accepted: {commands:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn scripts_are_checked_against_their_lab_before_anything_runs() {
    assert_eq!(
        script_error("[\n  At(\"1s\", StopFlood),\n  At(\"2s\", SetTimeout(Syn, \"0s\")),\n]"),
        "s.ron:3:3: command 2 of the script: the SYN timeout must be at least 1ms, found 0ns"
    );
    assert_eq!(
        script_error("[At(\"1s\", KillServer(\"nobody\"))]"),
        "s.ron:1:22: command 1 of the script: no server is named \"nobody\"; \
         the lab's servers are srv-1, srv-2, srv-3, srv-4, srv-5, srv-6, srv-7, srv-8, \
         srv-9, srv-10"
    );
    assert_eq!(
        script_error("[At(\"1s\", StartFlood((rate: 1e308)))]"),
        "s.ron:1:23: command 1 of the script: a flood's rate must be at most 10000000 \
         per second, found 1e308"
    );
    assert_eq!(
        script_error("[At(\"1s\", RemoveServer(\"srv-1\")), At(\"2s\", DrainServer(\"srv-1\"))]"),
        "s.ron:1:56: command 2 of the script: no server is named \"srv-1\"; \
         the lab's servers are srv-2, srv-3, srv-4, srv-5, srv-6, srv-7, srv-8, srv-9, srv-10"
    );
    assert_eq!(
        script_error("[At(\"876001h\", StopFlood)]"),
        "s.ron:1:2: command 1 of the script: at 876001h is past the longest a lab may last (24h)"
    );
}

#[test]
fn script_syntax_errors_speak_of_scripts() {
    assert_eq!(
        script_error("[At(\"1s\", StopFlood)] junk"),
        "s.ron:1:23: unexpected `junk` after the end of the script"
    );
}

#[test]
fn script_size_errors_speak_of_scripts() {
    let huge = format!("[{}]", " ".repeat(lblab::lab::MAX_LAB_BYTES));
    let e = script_error(&huge);
    assert!(
        e.starts_with("s.ron: script is ") && e.contains("more than the limit"),
        "{e}"
    );
}

#[test]
fn a_script_may_use_servers_the_lab_timeline_adds() {
    let mut lab = classic();
    let added = ServerSpec {
        name: "late".to_string(),
        ..ServerSpec::default()
    };
    lab.timeline.push(lblab::spec::TimedCommand::At(
        Dur::from_secs(1),
        Command::AddServer(added),
    ));
    let script = "[At(\"2s\", KillServer(\"late\"))]";
    assert!(load_commands_str(script, "s.ron", &lab).is_ok());
    // Before the timeline adds it, the server does not exist yet.
    let early = "[At(\"500ms\", KillServer(\"late\"))]";
    assert!(load_commands_str(early, "s.ron", &lab).is_err());
}

/// The last error the World logged, after applying `cmd` at once.
fn refusal(world: &mut World, cmd: Command) -> String {
    world.apply(cmd);
    let s = world.snapshot();
    let last = s.log.last().expect("a log line");
    assert_eq!(last.kind, LogKind::Error, "{:?}", last.text);
    last.text.clone()
}

#[test]
fn commands_from_the_dashboard_meet_the_same_bounds() {
    let mut world = World::new(&classic(), 1);
    world.run_until(lblab::model::SimTime::ZERO + SimDuration::from_millis(200));
    let before = world.snapshot();
    assert_eq!(
        refusal(&mut world, Command::SetPopulation(20_000_000)),
        "cannot population -> 20000000 clients: at most 10000000 clients, found 20000000"
    );
    assert_eq!(
        refusal(
            &mut world,
            Command::SetTimeout(lblab::spec::Timeout::HealthInterval, Dur::from_millis(1))
        ),
        "cannot health interval -> 1ms: the health interval must be at least 10ms, found 1ms"
    );
    let nameless = ServerSpec {
        name: String::new(),
        ..ServerSpec::default()
    };
    assert_eq!(
        refusal(&mut world, Command::AddServer(nameless)),
        "cannot add server : a server needs a name"
    );
    let after = world.snapshot();
    assert_eq!(
        after.servers.len(),
        before.servers.len(),
        "a refused command changed the pool"
    );
    assert_eq!(
        after
            .clients
            .map(|c| c.closed + c.syn_sent + c.established + c.fin_wait),
        before
            .clients
            .map(|c| c.closed + c.syn_sent + c.established + c.fin_wait),
        "a refused population changed the clients"
    );
}

/// A world `check` would refuse: every delay and time zero, so nothing
/// ever moves the clock.
fn frozen_lab() -> Lab {
    let mut lab = Lab::named("frozen");
    lab.network.client_link.delay = Dur::ZERO;
    lab.network.backend_link.delay = Dur::ZERO;
    lab.servers = ServersSpec::List(vec![ServerSpec {
        name: "srv".to_string(),
        service_time: Dist::Constant(Dur::ZERO),
        ..ServerSpec::default()
    }]);
    if let Some(closed) = lab.clients.closed.as_mut() {
        closed.population = 10;
        closed.gap = Dist::Constant(Dur::ZERO);
        closed.think = Dist::Constant(Dur::ZERO);
        closed.connections = None;
        closed.start_spread = Dur::ZERO;
    }
    lab
}

#[test]
fn a_world_whose_clock_stands_still_stops_itself_with_a_clear_error() {
    let lab = frozen_lab();
    assert!(
        lblab::lab::load_str(&ron::to_string(&lab).expect("a lab serializes"), "f.ron").is_err(),
        "check must refuse the frozen lab in the first place"
    );
    let run_for = Some(SimDuration::from_millis(200));
    // The default watch waits about 67 million events; four looks (about
    // 4 million) reach the same stop in a fraction of the time.
    const LOOKS: u32 = 4;
    let maker: lblab::engine::MakeEngine = std::sync::Arc::new(|lab, seed| {
        Box::new(World::new(lab, seed).with_stall_looks(LOOKS)) as Box<dyn Engine>
    });
    match headless::run(maker, &lab, 1, run_for, &[]) {
        Err(RunError::Stalled { lab, at, events }) => {
            assert_eq!(lab, "frozen");
            assert_eq!(at, "t=0.000000s");
            let looked = u64::from(LOOKS) * lblab::sim::STALL_CHECK_EVERY;
            assert!(
                (looked..looked + lblab::sim::STALL_CHECK_EVERY).contains(&events),
                "stopped after {events} events, not at the {LOOKS}th look"
            );
        }
        Err(other) => panic!("stopped for another reason: {other}"),
        Ok(_) => panic!("a frozen world ran to its end"),
    }
}

#[test]
fn an_engine_reports_no_stall_on_an_ordinary_run() {
    let mut world = World::new(&classic(), 1);
    world.run_until(lblab::model::SimTime::ZERO + SimDuration::from_secs(2));
    assert_eq!(Engine::stalled(&world), None);
}
