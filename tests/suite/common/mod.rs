//! Helpers shared by the integration tests.
#![allow(dead_code)]

use lblab::engine::{ClientCounts, Snapshot};
use lblab::model::{SimDuration, SimTime};
use lblab::sim::World;
use lblab::spec::DropReason;
use lblab::spec::Lab;

pub mod corpus;
pub mod dashboard;

/// Parses a lab written inline in a test.
pub fn lab(text: &str) -> Lab {
    match ron::from_str(text) {
        Ok(lab) => lab,
        Err(e) => panic!("test lab does not parse: {e}\n{text}"),
    }
}

/// The client counts of a simulation's Snapshot (which always has them).
pub fn clients(s: &Snapshot) -> ClientCounts {
    s.clients.expect("the simulation counts its clients")
}

/// Seconds as a simulated instant.
pub fn at(secs: f64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs_f64(secs)
}

/// A small, busy lab: `servers` servers, a closed population looping for
/// ever, on clean 1 ms links.
pub fn busy_lab(servers: u32, population: u32, extra_balancer: &str) -> Lab {
    lab(&format!(
        r#"(
            name: "busy",
            balancer: ({extra_balancer}),
            servers: Replicate(count: {servers}, template: (name: "srv")),
            clients: (
                closed: Some((
                    population: {population},
                    segments: Constant(20),
                    gap: Constant("10ms"),
                    think: Constant("50ms"),
                    connections: None,
                )),
            ),
        )"#
    ))
}

/// Runs `world` to `secs` seconds.
pub fn run_to(world: &mut World, secs: f64) {
    world.run_until(at(secs));
}

/// Asserts every packet is accounted for: on every link, sent = delivered +
/// lost + in flight; link losses are exactly the drops counted as link
/// loss; and every packet delivered was used by the machine it reached or
/// dropped there with a named reason.
pub fn assert_conserved(world: &World, context: &str) {
    let mut lost = 0;
    let mut delivered = 0;
    for (i, l) in world.link_stats().iter().enumerate() {
        assert_eq!(
            l.sent,
            l.delivered + l.lost + l.in_flight,
            "{context}: link {i} leaks packets: {l:?}"
        );
        lost += l.lost;
        delivered += l.delivered;
    }
    let m = world.metrics();
    let link_loss = m.drops[DropReason::LinkLoss.index()];
    assert_eq!(lost, link_loss, "{context}: link losses vs drops counted");
    let dropped_on_arrival = m.drops_total() - link_loss;
    assert_eq!(
        delivered,
        m.consumed + dropped_on_arrival,
        "{context}: delivered {delivered} = used {} + dropped on arrival {dropped_on_arrival}",
        m.consumed
    );
}
