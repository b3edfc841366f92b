//! `lblab conform`: the exported configuration under the real daemon
//! beside lblab proxy, on loopback. Skipped, with the reason printed,
//! where the daemon is absent (CI installs both).

use lblab::conform::{self, install};
use lblab::export::Engine;
use lblab::model::SimDuration;

fn conform_round_robin(engine: Engine, program: &str) {
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
    conform_round_robin(Engine::Haproxy, "haproxy");
}

#[test]
fn round_robin_under_nginx_deals_the_shares_lblab_proxy_does() {
    conform_round_robin(Engine::Nginx, "nginx");
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
