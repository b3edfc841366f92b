//! Queueing theory from the report alone: an M/M/1 lab run headless, and
//! its report's figures (no peeking into the World) must give the mean
//! sojourn of M/M/1, Little's law, the utilisation and the share of
//! segments that waited (PASTA: an arrival finds the server busy with
//! probability ρ).

use crate::common;

use common::lab;
use lblab::headless;
use lblab::report::Report;
use lblab::sim::World;

const RATE: f64 = 80.0;
/// Mean service time in seconds.
const SERVICE: f64 = 0.010;
/// Long enough that the mean sojourn's relative standard error is about
/// 1.5% (M/M/1 at ρ = 0.8 mixes slowly), short enough for a debug build.
const SECONDS: u32 = 5000;

/// One server with one worker, Poisson arrivals, exponential service,
/// one segment per connection, 1 µs links.
fn mm1_report() -> Report {
    let lab = lab(&format!(
        r#"(
            name: "mm1",
            duration: Some("{SECONDS}s"),
            network: (client_link: (delay: "1us"), backend_link: (delay: "1us")),
            balancer: (algorithm: RoundRobin),
            servers: Replicate(count: 1, template: (name: "srv", workers: 1,
                service_time: Exponential("{ms}ms"))),
            clients: (closed: None, open: Some((rate: {RATE}, segments: Constant(1), gap: Constant("1ms")))),
        )"#,
        ms = SERVICE * 1e3
    ));
    let (report, _) = headless::run(World::maker(), &lab, 1, None, &[]).expect("the lab runs");
    report
}

fn within(what: &str, got: f64, want: f64, tolerance: f64) {
    let off = (got - want).abs() / want;
    assert!(
        off <= tolerance,
        "{what}: {got:.4} is {:.2}% from {want:.4} (allowed {:.0}%)",
        off * 100.0,
        tolerance * 100.0
    );
}

#[test]
fn an_mm1_report_checks_against_theory_and_littles_law() {
    let r = mm1_report();
    let rho = RATE * SERVICE;
    // W = 1 / (μ − λ) for M/M/1: 50 ms here.
    let mean_ms = r.latency.segment.mean_ms.expect("segments were measured");
    within(
        "mean segment latency (ms)",
        mean_ms,
        1e3 * SERVICE / (1.0 - rho),
        0.03,
    );
    // Little's law from the report's figures alone: L = queue + busy
    // workers (time averages), λ = segments served per simulated second,
    // W = the mean segment latency.
    let averages = r.averages.as_ref().expect("the simulation averages");
    let b = &averages.backends[0];
    let l = b.queue + b.busy_workers;
    let lambda = b.segments_served as f64 / averages.seconds;
    within("L against λW", l, lambda * mean_ms / 1e3, 0.03);
    // The server holds each connection while its segment waits or is
    // served: its active connections are L too.
    within("active connections against L", b.active, l, 0.03);
    within(
        "utilisation (%)",
        b.utilisation_pct.expect("one worker"),
        rho * 100.0,
        0.03,
    );
    within(
        "segments that waited for a worker",
        b.segments_waited as f64 / b.segments_served as f64,
        rho,
        0.03,
    );
}
