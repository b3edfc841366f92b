//! Packets are conserved: on every link, sent = delivered + lost + in
//! flight, every loss is counted as a drop with its reason, and every
//! packet delivered is used or dropped with a reason — after every run,
//! whatever the lab, seed and chaos, and for every built-in lab.

use crate::common;

use common::{assert_conserved, at, busy_lab, lab};
use lblab::sim::World;
use lblab::spec::Lab;
use lblab::spec::{Command, DropReason};

fn labs() -> Vec<Lab> {
    vec![
        busy_lab(4, 40, ""),
        busy_lab(3, 30, "on_backend_down: Reset"),
        lab(r#"(name: "lossy-everywhere",
                network: (client_link: (delay: "1ms", jitter: "4ms", loss: 0.1),
                          backend_link: (delay: "500us", jitter: "1ms", loss: 0.05)),
                clients: (tcp: (retransmit: Rfc6298(min_rto: "200ms", max_rto: "5s")),
                          closed: Some((population: 50, segments: Uniform(1, 30), gap: Exponential("5ms"), connections: None)),
                          open: Some((rate: 50.0, segments: Constant(3)))))"#),
        lab(r#"(name: "flooded",
                servers: Replicate(count: 2, template: (name: "srv", max_half_open: 16, backlog: 8)),
                clients: (closed: Some((population: 10, segments: Constant(5), gap: Constant("20ms"), connections: None)),
                          floods: [(rate: 20000.0, sources: 10000)]))"#),
    ]
}

#[test]
fn every_link_balances_after_every_run() {
    for lab in labs() {
        for seed in [1, 2, 3] {
            let mut w = World::new(&lab, seed);
            w.schedule(at(1.5), Command::KillRandomServer);
            w.schedule(at(2.0), Command::KillRandomClient);
            w.schedule(at(3.0), Command::KillRandomServer);
            w.schedule(at(4.5), Command::ReviveServer("srv-1".into()));
            w.run_until(at(6.0));
            let context = format!("lab {} seed {seed}", lab.name);
            assert_conserved(&w, &context);
            // Something must have been in flight and something lost or
            // dropped, or the check proves little.
            let links = w.link_stats();
            assert!(
                links.iter().any(|l| l.in_flight > 0),
                "{context}: nothing in flight"
            );
            assert!(w.metrics().drops_total() > 0, "{context}: nothing dropped");
        }
    }
}

#[test]
fn every_built_in_lab_accounts_for_every_packet() {
    for (name, _) in lblab::lab::BUILTIN {
        let lab = lblab::lab::builtin(name).expect("built-in labs load");
        let mut w = World::new(&lab, 1);
        w.run_until(at(45.0));
        assert_conserved(&w, name);
    }
}

#[test]
fn links_balance_at_every_instant() {
    let lab = &labs()[2];
    let mut w = World::new(lab, 9);
    for _ in 0..50_000 {
        w.step();
        for l in w.link_stats() {
            assert!(l.is_conserved(), "at {}: {l:?}", w.now());
        }
    }
}

#[test]
fn syns_turned_away_by_zero_weights_are_counted_drops() {
    // Weight 0 under weighted round robin refuses every SYN with its own
    // reason; those drops must balance like any other, and none may be
    // filed under a health problem that did not happen.
    let lab = busy_lab(3, 20, "algorithm: WeightedRoundRobin");
    let mut w = World::new(&lab, 4);
    for s in ["srv-1", "srv-2", "srv-3"] {
        w.schedule(at(1.0), Command::SetWeight(s.into(), 0));
    }
    w.schedule(at(3.0), Command::SetWeight("srv-2".into(), 2));
    w.run_until(at(5.0));
    assert_conserved(&w, "weights all zero from 1 s to 3 s");
    let drops = &w.metrics().drops;
    assert!(drops[DropReason::NoWeightedBackend.index()] > 0);
    assert_eq!(drops[DropReason::NoHealthyBackend.index()], 0);
}
