//! `lblab compare`: the two runs of a comparison draw the same arrivals
//! and service times whatever the algorithm, so B − A is the algorithm's
//! doing; the hashes the report prints say so, and change when the draws
//! do.

use crate::common;

use common::lab;
use lblab::compare::{Side, compare};
use lblab::spec::{Algorithm, Command, Dur, TimedCommand};

/// Open arrivals with several segments each over four servers with
/// exponential service: every draw the streams make is exercised.
fn open_lab(servers: u32) -> lblab::spec::Lab {
    lab(&format!(
        r#"(
            name: "draws",
            duration: Some("20s"),
            balancer: (algorithm: RoundRobin),
            servers: Replicate(count: {servers}, template: (name: "srv", workers: 2,
                service_time: Exponential("20ms"))),
            clients: (closed: None, open: Some((rate: 150.0, segments: Uniform(1, 6),
                segment_size: Uniform(100, 2000), gap: Exponential("30ms")))),
        )"#
    ))
}

fn side(label: &str, command: Command) -> Side {
    Side {
        label: label.into(),
        commands: vec![TimedCommand::At(Dur::from_secs(0), command)],
    }
}

#[test]
fn changing_the_algorithm_changes_no_arrival_and_no_service_time() {
    let lab = open_lab(4);
    for algorithm in [
        Algorithm::PowerOfTwoChoices,
        Algorithm::LeastConnections,
        Algorithm::Random,
    ] {
        let b = side("b", Command::SetAlgorithm(algorithm));
        let c = compare(&lab, 3, None, Side::plain(), b).expect("both sides run");
        // The algorithm did change what the balancer did.
        let shares = |r: &lblab::report::Report| {
            r.backends.iter().map(|b| b.connections).collect::<Vec<_>>()
        };
        assert_ne!(shares(&c.report_a), shares(&c.report_b), "{algorithm:?}");
        // Every arrival is the same, and so is its time: open arrivals do
        // not wait for anything.
        assert!(c.arrivals.checked);
        assert_eq!(c.arrivals.a, c.arrivals.b, "{algorithm:?}");
        assert_eq!(c.arrivals.differing, 0);
        // Every segment both runs served took the same time; the end of
        // the run may cut different segments short.
        assert!(c.service.checked && c.service.shared > 1000);
        assert_eq!(c.service.differing, 0, "{algorithm:?}");
        assert_eq!(c.service.shared_hash_a, c.service.shared_hash_b);
        assert!(c.arrivals.same() && c.service.same());
        let text = c.to_table();
        assert!(
            text.contains(&format!("{:016x}", c.arrivals.a.hash)),
            "{text}"
        );
        assert!(!text.contains("DIFFERENT"), "{text}");
    }
}

#[test]
fn a_finished_workload_draws_exactly_the_same_under_any_algorithm() {
    // A closed population that makes its connections and stops: the run
    // ends when every client has finished, so A and B make exactly the
    // same draws, though least connections times them otherwise.
    let lab = lab(r#"(
        name: "finite",
        balancer: (algorithm: RoundRobin),
        servers: Replicate(count: 3, template: (name: "srv", workers: 1,
            service_time: Exponential("15ms"))),
        clients: (closed: Some((population: 20, segments: Uniform(1, 10),
            gap: Exponential("20ms"), think: Exponential("200ms"), connections: Some(3))),
            open: None),
    )"#);
    let b = side("b", Command::SetAlgorithm(Algorithm::LeastConnections));
    let c = compare(&lab, 1, None, Side::plain(), b).expect("both sides run");
    assert!(c.report_a.finished && c.report_b.finished);
    assert_ne!(c.report_a.latency.segment, c.report_b.latency.segment);
    assert_eq!(c.arrivals.a, c.arrivals.b);
    assert_eq!(c.service.a, c.service.b);
    assert_eq!((c.service.only_a, c.service.only_b), (0, 0));
}

#[test]
fn another_seed_draws_otherwise_and_the_check_says_so() {
    let lab = open_lab(4);
    let a = compare(&lab, 1, None, Side::plain(), Side::plain()).expect("runs");
    let b = compare(&lab, 2, None, Side::plain(), Side::plain()).expect("runs");
    assert_ne!(a.arrivals.a.hash, b.arrivals.a.hash);
    assert_ne!(a.service.a.hash, b.service.a.hash);
}

#[test]
fn inline_commands_parse_as_one_command_or_a_list_and_bad_ones_say_why() {
    let lab = open_lab(2);
    let one = Side::parse("b", "SetAlgorithm(PowerOfTwoChoices)", &lab).expect("one command");
    assert_eq!(one.commands.len(), 1);
    let list = Side::parse("b", r#"[At("5s", KillServer("srv-1"))]"#, &lab).expect("a list");
    assert_eq!(list.commands.len(), 1);
    let err = Side::parse("b", "SetAlgorithm(Nonsense)", &lab).expect_err("refused");
    assert!(err.contains("--b") && err.contains("Nonsense"), "{err}");
    let err = Side::parse("b", r#"[At("5s", KillServer("srv-9"))]"#, &lab).expect_err("refused");
    assert!(err.contains("srv-9"), "{err}");
}
