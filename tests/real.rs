//! A lab on real loopback sockets (`--real`, `--vs-real`, `lblab
//! conform`): real servers and clients through lblab proxy (or a daemon),
//! in real time. Each test runs seconds of a built-in lab, on ephemeral
//! ports, and stops by itself.

use lblab::conform::{self, install};
use lblab::engine::{Engine, ServerState};
use lblab::export::Engine as Daemon;
use lblab::headless::{Stop, run_engine};
use lblab::model::SimDuration;
use lblab::real::RealLab;
use lblab::real::versus;
use lblab::spec::{Command, Dur, TimedCommand};

/// Real timers run late: a probe's interval and timeout are each a sleep
/// that ends on the timer's next millisecond or after, more on a busy
/// machine, and the engine sees a verdict within a few milliseconds of
/// it. A detection may come this much past fall x interval + timeout.
const TIMER_SLACK_MS: f64 = 30.0;

// The `--vs-real` comparisons run a lab twice, the second time in real
// time (8 to 40 s each), so `cargo test` leaves them out and CI runs them
// in a step of their own; `cargo test --test real -- --ignored` runs them
// anywhere.

fn lab(name: &str) -> lblab::spec::Lab {
    lblab::lab::builtin(name).expect("a built-in lab")
}

#[test]
fn round_robin_on_real_sockets_deals_each_backend_its_exact_turn() {
    let lab = lab("round-robin");
    let mut real = RealLab::start(&lab, 7).expect("starts on loopback");
    run_engine(&mut real, Stop::After(SimDuration::from_secs(5)));
    let rows = real.server_rows();
    let conns: Vec<u64> = rows.iter().map(|r| r.connections).collect();
    let (min, max) = (conns.iter().min().copied(), conns.iter().max().copied());
    assert_eq!(rows.len(), 4);
    assert!(
        min.unwrap_or(0) >= 10,
        "too few connections to judge: {conns:?}"
    );
    assert!(
        max.zip(min).is_some_and(|(a, b)| a - b <= 1),
        "round robin gives every backend its turn, to within one: {conns:?}"
    );
    let snap = real.snapshot();
    assert_eq!(snap.conns.failed_total(), 0, "{:?}", snap.conns);
    assert!(
        snap.latency.segment.count > 100,
        "{:?}",
        snap.latency.segment
    );
    // Every segment the servers served was answered to a client.
    let served: u64 = rows.iter().filter_map(|r| r.segments_served).sum();
    assert!(
        served >= snap.latency.segment.count,
        "{served} < {:?}",
        snap.latency.segment
    );
}

#[test]
fn a_killed_server_is_found_by_health_checks_within_fall_intervals_and_a_timeout() {
    let mut lab = lab("server-dies");
    lab.timeline = vec![TimedCommand::At(
        Dur::from_secs(2),
        Command::KillServer("srv-2".into()),
    )];
    let h = lab.balancer.health;
    let bound = h.interval.get().as_millis_f64() * f64::from(h.fall.get())
        + h.timeout.get().as_millis_f64()
        + TIMER_SLACK_MS;
    let mut real = RealLab::start(&lab, 3).expect("starts on loopback");
    run_engine(&mut real, Stop::After(SimDuration::from_secs(4)));
    let snap = real.snapshot();
    let detection = snap.latency.detection;
    assert_eq!(
        detection.count, 1,
        "one death, one detection: {detection:?}"
    );
    let took = detection.max.map_or(f64::MAX, |d| d.as_millis_f64());
    assert!(
        took <= bound,
        "found after {took} ms, beyond fall x interval + timeout (+ slack) = {bound} ms"
    );
    let row = snap
        .servers
        .iter()
        .find(|r| r.name == "srv-2")
        .expect("srv-2");
    assert_eq!(row.state, ServerState::Killed);
    assert!(!row.healthy);
    let after = row.connections;
    run_engine(&mut real, Stop::After(SimDuration::from_secs(6)));
    // Its clients failed once their connections' timeouts ran out (it
    // went silent under them, as in the lab); the others went on.
    let conns = real.snapshot().conns;
    assert!(conns.failed_total() > 0, "{conns:?}");
    let later = real.server_rows();
    let srv2 = later
        .iter()
        .find(|r| r.name == "srv-2")
        .map(|r| r.connections);
    assert_eq!(
        srv2,
        Some(after),
        "a server marked down takes no new connections"
    );
    let others: u64 = later
        .iter()
        .filter(|r| r.name != "srv-2")
        .map(|r| r.connections)
        .sum();
    assert!(others > 50, "the other servers carry the clients: {others}");
}

/// Runs `name` both ways for `secs` seconds and checks the shares agree.
fn shares_agree(lab: lblab::spec::Lab, secs: u64) -> versus::VsReal {
    let name = lab.name.clone();
    let both =
        versus::run(&lab, lab.seed, Some(SimDuration::from_secs(secs))).expect("runs both ways");
    for r in both.rows().iter().filter(|r| r.label.ends_with(" share")) {
        let d = r.delta.unwrap_or(f64::MAX);
        assert!(
            d.abs() <= versus::SHARE_POINTS,
            "{name}: {} differs by {d:.2} points\n{}",
            r.label,
            both.to_table()
        );
    }
    both
}

#[test]
#[ignore = "real time; CI runs it: cargo test --test real -- --ignored"]
fn vs_real_round_robin_agrees_on_shares_and_failures() {
    let both = shares_agree(lab("round-robin"), 8);
    assert_eq!(both.sim.totals.failed, 0);
    assert_eq!(both.real.totals.failed, 0, "{}", both.to_table());
    assert!(both.to_table().contains("simulated vs real sockets"));
}

#[test]
#[ignore = "real time; CI runs it: cargo test --test real -- --ignored"]
fn vs_real_uneven_servers_agrees_on_shares() {
    let both = shares_agree(lab("uneven-servers"), 8);
    // The small servers queue on real sockets too: their one worker makes
    // the p95 segment several service times long in both runs.
    let p95 = |r: &lblab::report::Report| r.latency.segment.p95_ms.unwrap_or(0.0);
    assert!(
        p95(&both.sim) > 30.0 && p95(&both.real) > 30.0,
        "{}",
        both.to_table()
    );
    assert_eq!(
        both.real.totals.failed,
        both.sim.totals.failed,
        "{}",
        both.to_table()
    );
    // Packets are the kernel's on real sockets: the report says so rather
    // than printing a made-up 0.
    let table = both.real.render(lblab::report::Format::Table);
    assert!(table.contains("packets      – (the kernel's"), "{table}");
}

#[test]
#[ignore = "real time; CI runs it: cargo test --test real -- --ignored"]
fn vs_real_server_dies_agrees_on_shares_failures_and_detection() {
    // The lab's two deaths, 20 s apart as in the lab, brought forward so
    // the test takes 40 s rather than 90.
    let mut dies = lab("server-dies");
    dies.timeline = vec![
        TimedCommand::At(Dur::from_secs(10), Command::KillServer("srv-2".into())),
        TimedCommand::At(Dur::from_secs(30), Command::KillServer("srv-3".into())),
    ];
    // A run loses about 48 clients, give or take a few either way in
    // both worlds: three seeds, run at once, make the failure counts
    // steady enough to hold to 10 %.
    let runs: Vec<versus::VsReal> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..=3)
            .map(|seed| {
                let dies = &dies;
                s.spawn(move || {
                    versus::run(dies, seed, Some(SimDuration::from_secs(40))).expect("runs")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a run"))
            .collect()
    });
    let tables: String = runs.iter().map(versus::VsReal::to_table).collect();
    let (mut sim, mut real) = (0.0, 0.0);
    for both in &runs {
        sim += both.sim.totals.failed as f64;
        real += both.real.totals.failed as f64;
        for r in both.rows().iter().filter(|r| r.label.ends_with(" share")) {
            assert!(
                r.delta.is_some_and(|d| d.abs() <= versus::SHARE_POINTS),
                "{tables}"
            );
        }
        // Both deaths are found, each within fall x interval + timeout.
        let detection = both.real.latency.detection;
        assert_eq!(detection.count, 2, "{tables}");
        assert!(
            detection
                .max_ms
                .is_some_and(|ms| ms <= 1750.0 + TIMER_SLACK_MS),
            "{tables}"
        );
    }
    assert!(
        sim >= 60.0,
        "the simulation should lose clients to the deaths: {tables}"
    );
    assert!(
        (real - sim).abs() <= sim * versus::FAILED_SHARE,
        "failed connections differ by more than 10 % ({sim} simulated, {real} real): {tables}"
    );
}

#[test]
fn a_connection_flood_is_real_connections_the_servers_hold() {
    let text = r#"Lab(
        name: "flood-on-loopback",
        duration: Some("4s"),
        servers: Replicate(count: 2, template: (name: "srv")),
        clients: (
            closed: Some((population: 4, segments: Constant(3), gap: Constant("50ms"),
                          think: Constant("100ms"), connections: None)),
            floods: [(kind: ConnectionFlood, rate: 50.0, sources: 10, start: "1s", duration: Some("2s"))],
        ),
    )"#;
    let lab = lblab::lab::load_str(text, "flood.ron").expect("a valid lab");
    let mut real = RealLab::start(&lab, 1).expect("starts on loopback");
    run_engine(&mut real, Stop::After(SimDuration::from_millis(2500)));
    let snap = real.snapshot();
    // 1.5 s of a 50/s flood: about 75 connections, each sending one
    // segment and holding on.
    assert!((50..=100).contains(&snap.flood_syns), "{}", snap.flood_syns);
    let held = |real: &RealLab| -> u32 {
        real.server_rows()
            .iter()
            .filter_map(|r| r.server_established)
            .sum()
    };
    let during = held(&real);
    assert!(
        during >= 40,
        "the servers hold the flood's connections: {during}"
    );
    // When the flood stops, its connections close.
    run_engine(&mut real, Stop::After(SimDuration::from_millis(3800)));
    let after = held(&real);
    assert!(
        after <= 8,
        "the flood's connections closed when it stopped: {after}"
    );
}

// lblab conform: the exported configuration under the real daemon beside
// lblab proxy. Skipped, with the reason printed, where the daemon is
// absent (CI installs both).

fn conform_round_robin(engine: Daemon, program: &str) {
    if install::find(program).is_none() {
        println!("skipped: {program} is not installed (CI installs it)");
        return;
    }
    let lab = lblab::lab::builtin("round-robin").expect("built in");
    let report = conform::run(&lab, engine, 5, Some(SimDuration::from_secs(6))).expect("both run");
    let table = report.to_table();
    let shares: Vec<f64> = report
        .real
        .backends
        .iter()
        .filter_map(|b| b.share_pct)
        .collect();
    assert_eq!(shares.len(), 4, "{table}");
    // The daemon's shares are what the servers received: round robin
    // deals each a quarter, within a connection.
    let total: u64 = report.real.backends.iter().map(|b| b.connections).sum();
    assert!(total >= 40, "too few connections to judge: {table}");
    for b in &report.real.backends {
        let quarter = total as f64 / 4.0;
        assert!(
            (b.connections as f64 - quarter).abs() <= 1.0,
            "{}: {table}",
            b.name
        );
    }
    assert!(conform::shares_agree(&report), "{table}");
    assert_eq!(report.real.totals.failed, 0, "{table}");
    assert!(
        table.contains(&format!("lblab proxy vs {engine}")),
        "{table}"
    );
}

#[test]
fn round_robin_under_haproxy_deals_the_shares_lblab_proxy_does() {
    conform_round_robin(Daemon::Haproxy, "haproxy");
}

#[test]
fn round_robin_under_nginx_deals_the_shares_lblab_proxy_does() {
    conform_round_robin(Daemon::Nginx, "nginx");
}

#[test]
fn a_missing_share_is_not_agreement() {
    // Shares absent on one side (a daemon whose servers received nothing)
    // must not pass as "within tolerance".
    let lab = lblab::lab::builtin("round-robin").expect("built in");
    let (sim, _) = lblab::headless::run(
        lblab::sim::World::maker(),
        &lab,
        1,
        Some(SimDuration::from_secs(2)),
        &[],
    )
    .expect("runs");
    let mut nothing = sim.clone();
    for b in &mut nothing.backends {
        b.connections = 0;
        b.share_pct = None;
    }
    let report = lblab::real::versus::VsReal {
        labels: ("a".into(), "b".into()),
        title: "test".into(),
        notes: Vec::new(),
        sim: sim.clone(),
        real: nothing,
        detection_ms: 500.0,
        wall: (0.0, 0.0),
    };
    assert!(!conform::shares_agree(&report));
    let same = lblab::real::versus::VsReal {
        real: sim.clone(),
        ..report
    };
    assert!(conform::shares_agree(&same));
}
