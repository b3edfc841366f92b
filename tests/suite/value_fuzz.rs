//! Labs and command scripts with values from the whole range of each type
//! (0, 1 ns, u32::MAX, 1e308 and the ordinary values between): every one
//! is refused with a located error, or runs within a stated bound.
//!
//! The bound: 100 ms of simulated time (not the 1 s a user would run: the
//! heaviest accepted combinations need minutes per simulated second by
//! design, which `check` states) within 5 s plus three times the events
//! the estimate predicts at 2 M events per second (a debug build's pace),
//! and the World's own memory (clients, tables, queue) within twice the
//! estimate of peak memory. The largest labs of each kind are measured
//! separately, in release.
//!
//! A failing case is printed and saved in `value_fuzz.proptest-regressions`
//! beside this file, which replays it first on every later run.

use lblab::headless;
use lblab::lab::estimate::estimate;
use lblab::lab::{load_commands_str, load_str};
use lblab::model::SimDuration;
use lblab::sim::World;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::time::{Duration, Instant};

/// Values from the whole range of each type, edges first.
const DURATIONS: &[&str] = &[
    "0ns", "1ns", "1us", "999us", "1ms", "10ms", "250ms", "1s", "24h", "876000h",
];
const COUNTS: &[u64] = &[0, 1, 7, 1000, u32::MAX as u64];
const RATES: &[&str] = &["0.0", "1e-9", "1.0", "1000.0", "1e6", "1e9", "1e308"];

/// Values every field of their type accepts, so that most cases carry
/// one or two extremes among ordinary values and get past `check` as
/// often as they are refused.
const ORDINARY_DURATIONS: &[&str] = &["10ms", "100ms", "250ms", "1s"];
const ORDINARY_COUNTS: &[u64] = &[1, 7, 100];
const ORDINARY_RATES: &[&str] = &["1.0", "100.0", "1000.0"];

fn duration() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        19 => prop::sample::select(ORDINARY_DURATIONS),
        1 => prop::sample::select(DURATIONS),
    ]
}
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![
        19 => prop::sample::select(ORDINARY_COUNTS),
        1 => prop::sample::select(COUNTS),
    ]
}
fn rate() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        19 => prop::sample::select(ORDINARY_RATES),
        1 => prop::sample::select(RATES),
    ]
}

/// A lab with every time, count and rate drawn from the pools.
fn lab_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(duration(), 12),
        prop::collection::vec(count(), 5),
        prop::collection::vec(rate(), 2),
        prop::bool::ANY,
    )
        .prop_map(|(d, c, r, open)| {
            let open = if open {
                format!("Some((rate: {}))", r[0])
            } else {
                "None".to_string()
            };
            format!(
                r#"(
    name: "fuzz",
    duration: Some("{}"),
    network: (client_link: (delay: "{}"), backend_link: (delay: "{}")),
    servers: Replicate(count: {}, template: (name: "srv", service_time: Constant("{}"), workers: {})),
    balancer: (health: (interval: "{}", timeout: "{}"), half_open_timeout: "{}"),
    clients: (
        tcp: (syn_timeout: "{}", segment_timeout: "{}"),
        closed: Some((population: {}, segments: Constant({}), gap: Constant("{}"), think: Constant("{}"))),
        open: {open},
        floods: [(rate: {}, sources: {})],
    ),
)"#,
                d[0], d[1], d[2], c[0], d[3], c[1].max(1), d[4], d[5], d[6], d[7], d[8], c[2],
                c[3], d[9], d[10], r[1], c[4].max(1)
            )
        })
}

/// A script of commands whose values come from the pools.
fn script_text() -> impl Strategy<Value = String> {
    let entry =
        (duration(), count(), rate(), duration(), 0..6usize).prop_map(|(at, n, rate, d, which)| {
            let command = match which {
                0 => format!("SetTimeout(Syn, \"{d}\")"),
                1 => format!("SetPopulation({n})"),
                2 => format!("SetArrivalRate({rate})"),
                3 => format!("StartFlood((rate: {rate}, sources: {}))", n.max(1)),
                4 => format!("SetHealth((interval: \"{d}\", timeout: \"{d}\"))"),
                _ => format!("SetLink(Clients, (delay: \"{d}\"))"),
            };
            format!("At(\"{at}\", {command})")
        });
    prop::collection::vec(entry, 1..5).prop_map(|e| format!("[{}]", e.join(", ")))
}

/// Runs an accepted lab for 100 ms of simulated time within the bound.
fn runs_within_bound(text: &str, script: &str) -> Result<(), TestCaseError> {
    let lab = match load_str(text, "fuzz.ron") {
        Ok(lab) => lab,
        Err(e) => {
            prop_assert!(e.position().is_some(), "refused without a position: {e}");
            return Ok(());
        }
    };
    let commands = match load_commands_str(script, "script.ron", &lab) {
        Ok(commands) => commands,
        Err(e) => {
            prop_assert!(e.position().is_some(), "refused without a position: {e}");
            Vec::new()
        }
    };
    let e = estimate(&lab);
    let run_for = SimDuration::from_millis(100);
    let bound =
        Duration::from_secs(5) + Duration::from_secs_f64(3.0 * e.events_per_second * 0.1 / 2e6);
    let started = Instant::now();
    let (_, engine) = headless::run(World::maker(), &lab, 1, Some(run_for), &commands)
        .map_err(|e| TestCaseError::fail(format!("{e}\n{text}\n{script}")))?;
    let took = started.elapsed();
    prop_assert!(
        took <= bound,
        "took {took:?}, bound {bound:?} (estimate {e:?})\n{text}\n{script}"
    );
    prop_assert!(engine.stalled().is_none(), "stalled\n{text}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // About three in four cases pass `check` and run; the whole
        // property takes a few seconds in a debug build.
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_lab_and_script_is_refused_with_a_position_or_runs_within_its_bound(
        lab in lab_text(),
        script in script_text(),
    ) {
        runs_within_bound(&lab, &script)?;
    }
}

/// The memory a World holds stays within twice the estimate of peak memory.
#[test]
fn the_estimate_covers_what_a_world_holds() {
    let text = r#"(
    name: "busy",
    servers: Replicate(count: 50, template: (name: "srv")),
    clients: (
        closed: Some((population: 20000, think: Constant("100ms"))),
        open: Some((rate: 5000.0)),
        floods: [(rate: 20000.0, sources: 1000)],
    ),
)"#;
    let lab = load_str(text, "busy.ron").expect("the lab loads");
    let mut world = World::new(&lab, 1);
    world.run_until(lblab::model::SimTime::ZERO + SimDuration::from_secs(3));
    let m = world.memory();
    let held = (m.conn_table + m.clients + m.servers + m.queue) as f64;
    let e = estimate(&lab);
    assert!(
        held <= 2.0 * e.peak_bytes,
        "the World holds {held} bytes, the estimate says {}",
        e.peak_bytes
    );
}
