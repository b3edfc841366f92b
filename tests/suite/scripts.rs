//! Scripted algorithms end to end: a lab's `Script("...")` or
//! `ScriptFile("...")` read, run by the simulated balancer, and run by the
//! real proxy's pool, picking as the script says.

use crate::common;

use common::{at, run_to};
use lblab::engine::Snapshot;
use lblab::lab::{load_file, load_str};
use lblab::model::Ip;
use lblab::policy::BackendView;
use lblab::proxy::config::BackendConfig;
use lblab::proxy::pool::{Backend, Pool};
use lblab::sim::World;
use lblab::spec::{Algorithm, Command, ScriptRef};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

/// A busy lab of `servers` servers balanced by `algorithm` (as written in
/// a lab).
fn lab_text(servers: u32, algorithm: &str) -> String {
    format!(
        r#"(
            name: "scripted",
            balancer: (algorithm: {algorithm}),
            servers: Replicate(count: {servers}, template: (name: "srv")),
            clients: (
                closed: Some((
                    population: 40,
                    segments: Constant(5),
                    gap: Constant("10ms"),
                    think: Constant("50ms"),
                    connections: None,
                )),
            ),
        )"#
    )
}

/// Connections each server took, in server order.
fn shares(s: &Snapshot) -> Vec<u64> {
    s.servers.iter().map(|r| r.connections).collect()
}

fn run(lab: &lblab::spec::Lab, seed: u64, secs: f64) -> Snapshot {
    let mut w = World::new(lab, seed);
    run_to(&mut w, secs);
    w.snapshot()
}

#[test]
fn a_script_that_picks_backend_0_sends_everything_to_srv_1() {
    let lab = load_str(
        &lab_text(4, r#"Script("fn pick(backends, flow, rng) { 0 }")"#),
        "t.ron",
    )
    .expect("loads");
    assert!(matches!(lab.balancer.algorithm, Algorithm::Script(_)));
    let s = run(&lab, 1, 5.0);
    let got = shares(&s);
    assert!(got[0] > 100, "{got:?}");
    assert_eq!(got[1..], [0, 0, 0], "{got:?}");
    assert_eq!(s.servers[0].name, "srv-1");
}

#[test]
fn a_round_robin_script_shares_exactly_like_round_robin() {
    let lab = load_str(
        &lab_text(
            4,
            r#"Script("fn pick(backends, flow, rng) { flow.seq % backends.len }")"#,
        ),
        "t.ron",
    )
    .expect("loads");
    let got = shares(&run(&lab, 3, 5.0));
    let (lo, hi) = (got.iter().min().unwrap(), got.iter().max().unwrap());
    assert!(*lo > 50 && hi - lo <= 1, "{got:?}");
}

#[test]
fn a_random_script_is_reproducible_by_seed() {
    let lab = load_str(
        &lab_text(
            5,
            r#"Script("fn pick(backends, flow, rng) { rng.below(backends.len) }")"#,
        ),
        "t.ron",
    )
    .expect("loads");
    let a = shares(&run(&lab, 7, 4.0));
    let b = shares(&run(&lab, 7, 4.0));
    let c = shares(&run(&lab, 8, 4.0));
    println!("seeds 7 and 8: {a:?} {c:?}");
    assert_eq!(a, b, "same lab and seed, same picks");
    assert_ne!(a, c, "another seed, other picks");
    assert!(a.iter().all(|&n| n > 0), "{a:?}");
}

#[test]
fn a_script_steers_around_a_dead_server_by_its_view() {
    // Least loaded among the eligible: srv-2 is killed at 2 s and takes
    // nothing new once health checks mark it down.
    let lab = load_str(
        &lab_text(
            3,
            r#"Script("fn pick(backends, flow, rng) { backends.least(\"load\") }")"#,
        ),
        "t.ron",
    )
    .expect("loads");
    let mut w = World::new(&lab, 2);
    w.schedule(at(2.0), Command::KillServer("srv-2".into()));
    run_to(&mut w, 5.0);
    let before = shares(&w.snapshot());
    run_to(&mut w, 9.0);
    let after = shares(&w.snapshot());
    assert_eq!(after[1], before[1], "{before:?} then {after:?}");
    assert!(after[0] > before[0] && after[2] > before[2], "{after:?}");
}

#[test]
fn a_runaway_script_is_stopped_and_the_run_goes_on_by_round_robin() {
    for source in [
        "fn pick(backends, flow, rng) { loop {} }",
        "fn pick(backends, flow, rng) { let a = [1]; loop { a += a; } }",
    ] {
        let lab = load_str(&lab_text(3, &format!("Script({source:?})")), "t.ron").expect("loads");
        let start = std::time::Instant::now();
        let got = shares(&run(&lab, 1, 5.0));
        // One pick ran into the limit; every later pick was round robin's.
        let (lo, hi) = (got.iter().min().unwrap(), got.iter().max().unwrap());
        assert!(*lo > 50 && hi - lo <= 1, "{source}: {got:?}");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{source}: {:?}",
            start.elapsed()
        );
    }
}

/// A fresh directory under the system's temporary one.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lblab-scripts-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn a_script_file_is_read_beside_the_lab() {
    let dir = temp_dir("file");
    std::fs::create_dir_all(dir.join("algos")).unwrap();
    std::fs::write(
        dir.join("algos/second.rhai"),
        "// Always the second backend.\nfn pick(backends, flow, rng) {\n    1\n}\n",
    )
    .unwrap();
    let path = dir.join("lab.ron");
    std::fs::write(&path, lab_text(3, r#"ScriptFile("algos/second.rhai")"#)).unwrap();
    let lab = load_file(&path).expect("loads");
    let got = shares(&run(&lab, 1, 4.0));
    assert!(got[1] > 100 && got[0] == 0 && got[2] == 0, "{got:?}");
    // Read, it is the Script of the file's text, and written back it
    // carries the source.
    let source = std::fs::read_to_string(dir.join("algos/second.rhai")).unwrap();
    assert_eq!(
        lab.balancer.algorithm,
        Algorithm::Script(ScriptRef::new(&source).unwrap())
    );
    let written = ron::to_string(&lab.balancer.algorithm).unwrap();
    assert!(written.starts_with("Script(\"// Always"), "{written}");

    // A broken script file is refused at the ScriptFile, with its own line.
    std::fs::write(
        dir.join("algos/second.rhai"),
        "fn pick(a, b, c) {\n  1 +\n}\n",
    )
    .unwrap();
    let e = load_file(&path).unwrap_err();
    // At the first character of the name.
    assert_eq!((e.line, e.col), (3, 47), "{e}");
    assert!(
        e.message
            .starts_with("balancer.algorithm: script algos/second.rhai line 3, col 1: "),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_script_file_needs_a_lab_file() {
    let e = load_str(&lab_text(3, r#"ScriptFile("x.rhai")"#), "<builtin x>").unwrap_err();
    assert!(e.message.contains("write the script inline"), "{e}");
    assert_eq!(e.line, 3, "{e}");
}

#[test]
fn the_example_scripts_load_and_pick_eligible_backends() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("presets/scripts");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "{names:?}");
    for path in names {
        let source = std::fs::read_to_string(&path).unwrap();
        let algorithm = Algorithm::Script(
            ScriptRef::new(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        );
        let mut sel = lblab::policy::Selector::new(algorithm);
        let mut views: Vec<BackendView> = (0..6)
            .map(|i| BackendView {
                weight: 1 + i % 3,
                active: (i * 5) % 7,
                latency_ns: 1e6 * (1 + i) as f32,
                ..BackendView::idle()
            })
            .collect();
        views[2].healthy = false;
        views[4].draining = true;
        let flow = lblab::model::FourTuple::tcp(
            lblab::model::Endpoint::new(Ip::new(10, 0, 0, 9), 5000),
            lblab::model::Endpoint::new(Ip::new(192, 0, 2, 1), 80),
        );
        let mut seen = [0; 6];
        for w in 1..=600u64 {
            let i = sel
                .pick(&views, &flow, w.wrapping_mul(0x9e37_79b9_7f4a_7c15))
                .unwrap();
            seen[i] += 1;
        }
        assert_eq!(sel.take_script_fault(), None, "{}", path.display());
        assert_eq!((seen[2], seen[4]), (0, 0), "{}: {seen:?}", path.display());
    }
}

/// A proxy pool of `n` backends on unused local ports, picked by
/// `algorithm`.
fn pool(n: u16, algorithm: Algorithm) -> Pool {
    let backends = (0..n)
        .map(|i| {
            Arc::new(Backend::new(BackendConfig {
                address: format!("127.0.0.1:{}", 9 + i).parse().unwrap(),
                written: String::new(),
                name: format!("b{i}"),
                weight: 1,
            }))
        })
        .collect();
    Pool::new(backends, algorithm)
}

fn script(source: &str) -> Algorithm {
    Algorithm::Script(ScriptRef::new(source).expect("compiles"))
}

#[test]
fn the_proxy_pool_picks_as_the_script_says() {
    let p = pool(4, script("fn pick(backends, flow, rng) { 0 }"));
    for _ in 0..10 {
        assert_eq!(p.pick(Ip(1), &[]), Ok(0));
    }
    // A retry skips the tried backend: the script's 0 is down to it, and
    // round robin takes that pick.
    let retry = p.pick(Ip(1), &[0]).unwrap();
    assert_ne!(retry, 0);

    // Live connection counts reach the script.
    let p = pool(
        3,
        script("fn pick(backends, flow, rng) { backends.least(\"active\") }"),
    );
    p.backends()[0].active.store(5, Relaxed);
    p.backends()[1].active.store(2, Relaxed);
    p.backends()[2].active.store(4, Relaxed);
    assert_eq!(p.pick(Ip(1), &[]), Ok(1));
    p.backends()[1].draining.store(true, Relaxed);
    assert_eq!(p.pick(Ip(1), &[]), Ok(2));
}

#[test]
fn the_proxy_pool_and_the_simulation_run_the_same_script_alike() {
    // The client address decides: flow.hash is the same hash in both.
    let source = "fn pick(backends, flow, rng) { flow.hash % backends.len }";
    let p = pool(5, script(source));
    let mut sel = lblab::policy::Selector::new(script(source));
    let views = vec![BackendView::idle(); 5];
    for a in 1..200u32 {
        let ip = Ip(0x0a00_0000 + a);
        let flow = lblab::model::FourTuple::tcp(
            lblab::model::Endpoint::new(ip, 1234),
            lblab::model::Endpoint::new(Ip::new(192, 0, 2, 1), 80),
        );
        assert_eq!(p.pick(ip, &[]), sel.pick(&views, &flow, a as u64), "{ip}");
    }
}

#[test]
fn a_runaway_script_in_the_proxy_is_retired_and_round_robin_serves() {
    let p = pool(3, script("fn pick(backends, flow, rng) { loop {} }"));
    let start = std::time::Instant::now();
    let picks: Vec<usize> = (0..30).map(|_| p.pick(Ip(1), &[]).unwrap()).collect();
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    for (k, i) in picks.iter().enumerate() {
        assert_eq!(*i, k % 3, "{picks:?}");
    }
}
