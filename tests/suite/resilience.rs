//! The balancer's resilience in whole worlds: slow start ramps a revived
//! server in, outlier ejection beats slow health checks to a dead server,
//! the queue turns refusals into waits, panic spreads over a failing pool,
//! redispatch rescues handshakes sent to a dead server, and sticky
//! sessions keep a client on its backend.

use crate::common;

use common::{assert_conserved, at, lab};
use lblab::engine::ServerRow;
use lblab::sim::World;
use lblab::spec::{DropReason, FailReason};

/// Connections each server has taken so far.
fn picks(world: &World) -> Vec<u64> {
    world
        .server_rows()
        .iter()
        .map(|r: &ServerRow| r.connections)
        .collect()
}

fn log_has(world: &World, needle: &str) -> bool {
    world.snapshot().log.iter().any(|e| e.text.contains(needle))
}

/// Five servers under a steady stream of one-segment connections; srv-1
/// dies at 5 s and is revived at 10 s, with health checks of 100 ms.
fn revival_lab(algorithm: &str, segments: u32, resilience: &str) -> lblab::spec::Lab {
    lab(&format!(
        r#"(
            name: "ramp",
            duration: Some("40s"),
            balancer: (algorithm: {algorithm},
                       health: (interval: "100ms", timeout: "50ms", rise: 1, fall: 2),
                       resilience: ({resilience})),
            servers: Replicate(count: 5, template: (name: "srv")),
            clients: (closed: None, open: Some((rate: 500.0, segments: Constant({segments}), gap: Constant("10ms")))),
            timeline: [At("5s", KillServer("srv-1")), At("10s", ReviveServer("srv-1"))],
        )"#
    ))
}

#[test]
fn slow_start_ramps_a_revived_server_in_linearly() {
    let seed = 3;
    let mut world = World::new(
        &revival_lab("RoundRobin", 1, r#"slow_start: Some("8s")"#),
        seed,
    );
    world.run_until(at(10.01));
    let mut before = picks(&world);
    // Its share of new connections in each 2 s of the 8 s ramp, against
    // the linear ramp's mean share over that stretch (of a fair fifth).
    let mut shares = Vec::new();
    for k in 0..4 {
        world.run_until(at(10.01 + 2.0 * (k + 1) as f64));
        let now = picks(&world);
        let got: Vec<u64> = now.iter().zip(&before).map(|(a, b)| a - b).collect();
        let total: u64 = got.iter().sum();
        shares.push(got[0] as f64 / total as f64);
        before = now;
    }
    for (k, share) in shares.iter().enumerate() {
        // Round robin offers it a fifth; it keeps a share of them that
        // ramps from 0 to 1: the mean of each quarter is (k + ½)/4 of a
        // fifth.
        let ramp = (k as f64 + 0.5) / 4.0 * 0.2;
        assert!(
            (share - ramp).abs() < 0.02,
            "seed {seed}: quarter {k}: share {share:.3}, ramp {ramp:.3}; all {shares:?}"
        );
    }
    assert!(
        shares.windows(2).all(|w| w[1] > w[0]),
        "seed {seed}: {shares:?}"
    );
    assert_conserved(&world, "slow start");
    // Least connections hands the empty revived server the herd when
    // connections last (here about a second); slow start holds it to the
    // ramp in its first second.
    let first_second = |resilience: &str| {
        let mut w = World::new(&revival_lab("LeastConnections", 100, resilience), seed);
        w.run_until(at(10.01));
        let before = picks(&w);
        w.run_until(at(11.01));
        let got: Vec<u64> = picks(&w).iter().zip(&before).map(|(a, b)| a - b).collect();
        got[0] as f64 / got.iter().sum::<u64>() as f64
    };
    let herd = first_second("");
    let ramped = first_second(r#"slow_start: Some("8s")"#);
    assert!(
        herd > 0.25,
        "seed {seed}: without slow start {herd:.3}, with {ramped:.3}"
    );
    // Offered nearly every pick, it keeps 1/16 of them on average.
    assert!(ramped < 0.1, "seed {seed}: with slow start {ramped:.3}");
}

/// Ten servers; srv-3 dies at 10 s, and health checks every 20 s will not
/// notice for a long while.
fn dead_server_lab(resilience: &str) -> lblab::spec::Lab {
    lab(&format!(
        r#"(
            name: "outlier",
            duration: Some("30s"),
            balancer: (algorithm: RoundRobin,
                       health: (interval: "20s", timeout: "1s", rise: 1, fall: 3),
                       resilience: ({resilience})),
            servers: Replicate(count: 10, template: (name: "srv")),
            clients: (closed: None, open: Some((rate: 200.0, segments: Constant(2), gap: Constant("10ms")))),
            timeline: [At("10s", KillServer("srv-3"))],
        )"#
    ))
}

#[test]
fn outlier_ejection_takes_a_dead_server_out_long_before_health_checks() {
    let seed = 5;
    let spec = r#"outlier_ejection: Some((consecutive_failures: 3, base_ejection: "30s"))"#;
    let mut ejecting = World::new(&dead_server_lab(spec), seed);
    ejecting.run_until(at(30.0));
    let mut plain = World::new(&dead_server_lab(""), seed);
    plain.run_until(at(30.0));
    assert!(log_has(&ejecting, "srv-3 ejected for 30s"), "seed {seed}");
    assert!(!log_has(&plain, "ejected"), "seed {seed}");
    let (e, p) = (
        ejecting.metrics().conns.failed_total(),
        plain.metrics().conns.failed_total(),
    );
    // Round robin sends the dead server a tenth of 200/s for 20 s: about
    // 400 failures; ejection stops it after three failed handshakes and
    // those in flight with them.
    assert!(p > 300, "seed {seed}: untouched {p} failed");
    assert!(e < 40, "seed {seed}: with ejection {e} failed");
    assert_conserved(&ejecting, "outlier ejection");
}

#[test]
fn redispatch_sends_an_unanswered_syn_to_another_server() {
    let seed = 6;
    let mut redispatching = World::new(&dead_server_lab("redispatch: Some(1)"), seed);
    redispatching.run_until(at(30.0));
    let mut plain = World::new(&dead_server_lab(""), seed);
    plain.run_until(at(30.0));
    let syn_timeouts = |w: &World| w.metrics().conns.failed[FailReason::SynTimeout.index()];
    assert!(
        syn_timeouts(&plain) > 300,
        "seed {seed}: {}",
        syn_timeouts(&plain)
    );
    // Every client's retransmitted SYN goes elsewhere: none runs out.
    assert_eq!(syn_timeouts(&redispatching), 0, "seed {seed}");
    assert!(redispatching.metrics().retransmits.syn > 300, "seed {seed}");
    assert_conserved(&redispatching, "redispatch");
}

/// Two small servers and a burst of 100 connections at once, each holding
/// its connection for a while.
fn burst_lab(resilience: &str) -> lblab::spec::Lab {
    lab(&format!(
        r#"(
            name: "burst",
            duration: Some("20s"),
            balancer: (algorithm: RoundRobin, resilience: ({resilience})),
            servers: Replicate(count: 2, template: (name: "srv", max_connections: 10)),
            clients: (closed: Some((population: 100, segments: Constant(5), gap: Constant("100ms"),
                       think: Constant("1s"), connections: Some(1), start_spread: "10ms"))),
        )"#
    ))
}

#[test]
fn a_queue_at_the_balancer_turns_refusals_into_waits() {
    let seed = 2;
    let queued = r#"queue: Some((max_connections: 10, size: 200, timeout: "10s"))"#;
    let mut waiting = World::new(&burst_lab(queued), seed);
    waiting.run_until(at(20.0));
    let mut plain = World::new(&burst_lab(""), seed);
    plain.run_until(at(20.0));
    let refused = |w: &World| w.metrics().conns.failed[FailReason::Refused.index()];
    assert!(refused(&plain) >= 50, "seed {seed}: {}", refused(&plain));
    assert_eq!(refused(&waiting), 0, "seed {seed}");
    assert_eq!(waiting.metrics().conns.completed, 100, "seed {seed}");
    // The servers never held more than the cap.
    assert!(
        waiting
            .server_rows()
            .iter()
            .all(|r| r.server_established.unwrap_or(0) <= 10),
        "seed {seed}"
    );
    // Clients waiting in the queue retransmit their SYNs; those are not
    // queued twice.
    assert!(waiting.metrics().drops[DropReason::AlreadyQueued.index()] > 0);
    assert_conserved(&waiting, "queue");
}

#[test]
fn below_the_panic_threshold_the_balancer_spreads_over_every_server() {
    let seed = 4;
    let text = |threshold: &str| {
        lab(&format!(
            r#"(
                name: "panic",
                duration: Some("20s"),
                balancer: (algorithm: RoundRobin,
                           health: (interval: "100ms", timeout: "50ms", rise: 1, fall: 2),
                           resilience: (panic_threshold: {threshold})),
                servers: Replicate(count: 10, template: (name: "srv")),
                clients: (closed: None, open: Some((rate: 300.0, segments: Constant(1), gap: Constant("1ms")))),
                timeline: [At("5s", KillServer("srv-1")), At("5s", KillServer("srv-2")),
                           At("5s", KillServer("srv-3")), At("5s", KillServer("srv-4")),
                           At("5s", KillServer("srv-5")), At("5s", KillServer("srv-6"))],
            )"#
        ))
    };
    let mut panicking = World::new(&text("Some(50)"), seed);
    panicking.run_until(at(6.0));
    let before = picks(&panicking);
    panicking.run_until(at(10.0));
    let got: Vec<u64> = picks(&panicking)
        .iter()
        .zip(&before)
        .map(|(a, b)| a - b)
        .collect();
    assert!(
        log_has(&panicking, "PANIC: 4 of 10 backends eligible"),
        "seed {seed}"
    );
    // Every server, dead or not, takes its tenth.
    let total: u64 = got.iter().sum();
    assert!(got.iter().all(|&g| g * 20 > total), "seed {seed}: {got:?}");
    // Without a threshold the four survivors take everything.
    let mut calm = World::new(&text("None"), seed);
    calm.run_until(at(6.0));
    let before = picks(&calm);
    calm.run_until(at(10.0));
    let got: Vec<u64> = picks(&calm)
        .iter()
        .zip(&before)
        .map(|(a, b)| a - b)
        .collect();
    assert!(got[..6].iter().all(|&g| g == 0), "seed {seed}: {got:?}");
    // Reviving them ends the panic.
    panicking.apply(lblab::spec::Command::ReviveServer("srv-1".into()));
    panicking.apply(lblab::spec::Command::ReviveServer("srv-2".into()));
    panicking.run_until(at(12.0));
    // The first revival back up lifts the pool to half: panic is over.
    assert!(log_has(&panicking, "panic over: 5 of 10"), "seed {seed}");
}

#[test]
fn sticky_sessions_keep_a_client_on_its_server_until_it_dies() {
    let seed = 8;
    let text = |sticky: &str| {
        lab(&format!(
            r#"(
                name: "sticky",
                duration: Some("20s"),
                balancer: (algorithm: RoundRobin, resilience: (sticky: {sticky}),
                           health: (interval: "100ms", timeout: "50ms", rise: 1, fall: 2)),
                servers: Replicate(count: 4, template: (name: "srv")),
                clients: (closed: Some((population: 1, segments: Constant(1), gap: Constant("1ms"),
                           think: Constant("100ms"), connections: None))),
            )"#
        ))
    };
    let mut sticky = World::new(&text(r#"Some("1s")"#), seed);
    sticky.run_until(at(5.0));
    let got = picks(&sticky);
    assert_eq!(
        got.iter().filter(|&&g| g > 0).count(),
        1,
        "seed {seed}: {got:?}"
    );
    // Round robin alone spreads the one client over all four.
    let mut plain = World::new(&text("None"), seed);
    plain.run_until(at(5.0));
    assert!(picks(&plain).iter().all(|&g| g > 5), "seed {seed}");
    // Its server dies: it moves, and sticks to the new one.
    let home = got.iter().position(|&g| g > 0).expect("one server");
    sticky.apply(lblab::spec::Command::KillServer(format!(
        "srv-{}",
        home + 1
    )));
    let before = picks(&sticky);
    sticky.run_until(at(6.0));
    let mid = picks(&sticky);
    sticky.run_until(at(10.0));
    let after: Vec<u64> = picks(&sticky)
        .iter()
        .zip(&mid)
        .map(|(a, b)| a - b)
        .collect();
    assert_eq!(
        after.iter().filter(|&&g| g > 0).count(),
        1,
        "seed {seed}: {after:?}"
    );
    assert_eq!(after[home], 0, "seed {seed}: {before:?} {after:?}");
}
