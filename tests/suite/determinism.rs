//! Same lab + seed (+ commands) gives a byte-identical report; different
//! seeds give different runs.

use crate::common;

use common::{at, lab};
use lblab::report::{Format, Report};
use lblab::sim::World;
use lblab::spec::Command;
use lblab::spec::Lab;

fn labs() -> Vec<Lab> {
    vec![
        lab(r#"(name: "classic-short", duration: Some("20s"),
                clients: (closed: Some((population: 100, segments: Constant(5000), gap: Constant("100ms"),
                    start_spread: "100ms", connections: Some(1)))))"#),
        lab(r#"(name: "lossy",
                network: (client_link: (delay: "2ms", jitter: "3ms", loss: 0.05)),
                clients: (closed: Some((population: 30, segments: Uniform(5, 40), gap: Exponential("20ms"),
                    segment_size: LogNormal(median: 1000, sigma: 0.5), connections: None, think: Exponential("100ms")))))"#),
        lab(
            r#"(name: "open-p2c", balancer: (algorithm: PowerOfTwoChoices),
                servers: List([(name: "a"), (name: "b", service_time: Exponential("2ms")), (name: "c", weight: 3)]),
                clients: (closed: None, open: Some((rate: 200.0, segments: Exponential(8), limit: Some(1500)))))"#,
        ),
        lab(
            r#"(name: "defended", balancer: (defences: (syn_cookies: OnOverflow, early_drop: true,
                    rate_limit: Some((rate: 50, per: "1s", burst: 50, sources: 64)))),
                servers: Replicate(count: 3, template: (name: "srv", max_half_open: 16)),
                clients: (closed: Some((population: 20, segments: Constant(10), gap: Constant("50ms"), connections: None)),
                          floods: [(rate: 3000.0, sources: 500, start: "2s"), (kind: SlowSenders, rate: 20.0, start: "1s")]))"#,
        ),
        lab(r#"(name: "flood", balancer: (half_open_timeout: "1s"),
                servers: Replicate(count: 3, template: (name: "srv", max_half_open: 32)),
                clients: (closed: Some((population: 20, segments: Constant(10), gap: Constant("50ms"), connections: None)),
                          floods: [(rate: 3000.0, sources: 500, start: "2s", duration: Some("4s"))]))"#),
    ]
}

/// Runs a lab for 12 s of simulated time with a few commands on the way,
/// and renders the report in every format, wall clock left out.
fn run(lab: &Lab, seed: u64) -> String {
    let mut w = World::new(lab, seed);
    w.schedule(at(3.0), Command::KillRandomServer);
    w.schedule(at(4.0), Command::KillRandomClient);
    w.schedule(
        at(8.0),
        Command::SetAlgorithm(lblab::spec::Algorithm::LeastConnections),
    );
    w.run_until(at(12.0));
    let r = Report::from_engine(&w, w.workload_finished(), None);
    [Format::Table, Format::Json, Format::Csv]
        .iter()
        .map(|f| r.render(*f))
        .collect()
}

#[test]
fn same_lab_and_seed_give_byte_identical_reports() {
    for lab in labs() {
        for seed in [1, 7, 123_456_789] {
            let a = run(&lab, seed);
            let b = run(&lab, seed);
            assert!(a == b, "lab {} seed {seed}: two runs differ", lab.name);
        }
    }
}

#[test]
fn different_seeds_give_different_runs() {
    for lab in labs() {
        let a = run(&lab, 1);
        let b = run(&lab, 2);
        assert_ne!(a, b, "lab {}: seeds 1 and 2 gave the same report", lab.name);
    }
}

#[test]
fn a_run_in_slices_equals_a_run_in_one_go() {
    // The live driver advances the World in small steps; the result must not
    // depend on how the time is sliced.
    for lab in labs() {
        let mut whole = World::new(&lab, 5);
        whole.run_until(at(10.0));
        let mut sliced = World::new(&lab, 5);
        let mut t: f64 = 0.0;
        while t < 10.0 {
            t += 0.033;
            sliced.run_until(at(t.min(10.0)));
        }
        let a = Report::from_engine(&whole, false, None).render(Format::Json);
        let b = Report::from_engine(&sliced, false, None).render(Format::Json);
        assert!(a == b, "lab {}: sliced run differs", lab.name);
    }
}
