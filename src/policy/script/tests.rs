//! The script algorithm's tests: picks, faults, limits and helpers.
use super::super::test_support::*;
use super::*;
use crate::model::Ip;
use std::time::{Duration, Instant};

fn script(source: &str) -> Script {
    Script::new(ScriptRef::new(source).unwrap_or_else(|e| panic!("{source}: {e}")))
}

/// Picks `n` times with entropy words from `seed`.
fn picks(s: &mut Script, backends: &[BackendView], seed: u64, n: usize) -> Vec<usize> {
    let mut rr = RoundRobin::default();
    words(seed)
        .take(n)
        .map(|w| s.pick(backends, &flow(), w, &mut rr).expect("a pick"))
        .collect()
}

const LEAST_LOADED: &str = "
    fn pick(backends, flow, rng) {
        let best = -1;
        let ties = 0;
        for b in backends {
            if !b.eligible { continue; }
            if best < 0 || b.load < backends[best].load {
                best = b.index;
                ties = 1;
            } else if b.load == backends[best].load {
                // Reservoir sampling: each of k tied backends wins with 1/k.
                ties += 1;
                if rng.below(ties) == 0 { best = b.index; }
            }
        }
        best
    }";

#[test]
fn a_least_connections_script_picks_as_least_connections_does() {
    let seed = 0x5eed_0001;
    println!("seed {seed:#x}");
    let mut backends = pool(8);
    let mut s = script(LEAST_LOADED);
    let mut state = seed;
    for round in 0..300 {
        // A new pool state each round: loads 0..6, some down or draining.
        for b in backends.iter_mut() {
            state = flow_hash::mix(state);
            b.active = (state % 5) as u32;
            b.half_open = ((state >> 8) % 2) as u32;
            b.healthy = (state >> 16) % 7 != 0;
            b.draining = (state >> 24) % 11 == 0;
        }
        if !backends.iter().any(BackendView::eligible) {
            continue;
        }
        let least = backends
            .iter()
            .filter(|b| b.eligible())
            .map(BackendView::load)
            .min()
            .unwrap();
        let w = flow_hash::mix(state ^ 0xabc);
        let got = s
            .pick(&backends, &flow(), w, &mut RoundRobin::default())
            .unwrap();
        let want = crate::policy::Selector::new(crate::spec::Algorithm::LeastConnections)
            .pick(&backends, &flow(), w)
            .unwrap();
        assert!(backends[got].eligible(), "round {round}: {got}");
        assert_eq!(backends[got].load(), least, "round {round}: {backends:?}");
        assert_eq!(backends[want].load(), backends[got].load(), "round {round}");
    }
    assert_eq!(s.faults(), 0);
}

#[test]
fn a_least_connections_script_spreads_ties_like_least_connections() {
    let backends = pool(4);
    let mut s = script(LEAST_LOADED);
    let mut counts = [0usize; 4];
    for i in picks(&mut s, &backends, 17, 4000) {
        counts[i] += 1;
    }
    // Uniform over 4: 1000 each, within 5 standard deviations (~27).
    assert!(counts.iter().all(|&c| c.abs_diff(1000) < 140), "{counts:?}");
}

const RANDOM: &str = "fn pick(backends, flow, rng) { rng.below(backends.len) }";

#[test]
fn a_random_script_is_a_function_of_the_entropy() {
    let backends = pool(16);
    let a = picks(&mut script(RANDOM), &backends, 99, 200);
    let b = picks(&mut script(RANDOM), &backends, 99, 200);
    let c = picks(&mut script(RANDOM), &backends, 100, 200);
    assert_eq!(a, b);
    assert_ne!(a, c);
    let distinct: std::collections::HashSet<_> = a.iter().collect();
    assert_eq!(distinct.len(), 16, "{a:?}");
}

#[test]
fn the_flow_and_the_pick_number_reach_the_script() {
    let backends = pool(5);
    let mut s = script("fn pick(backends, flow, rng) { flow.seq % backends.len }");
    assert_eq!(picks(&mut s, &backends, 1, 7), [0, 1, 2, 3, 4, 0, 1]);
    let mut s = script("fn pick(backends, flow, rng) { flow.hash % backends.len }");
    let mut rr = RoundRobin::default();
    let f = flow();
    let want = ((flow_hash::of(&f) >> 1) % 5) as usize;
    assert_eq!(s.pick(&backends, &f, 3, &mut rr), Some(want));
    let mut s = script(
        "fn pick(backends, flow, rng) {
            if flow.src_ip == \"10.0.0.1\" && flow.src_port == 40000 { 3 } else { 0 }
        }",
    );
    assert_eq!(s.pick(&backends, &f, 3, &mut rr), Some(3));
    let other = FourTuple::tcp(Endpoint::new(Ip::new(10, 0, 0, 2), 1), f.dst);
    assert_eq!(s.pick(&backends, &other, 3, &mut rr), Some(0));
}

#[test]
fn every_field_of_a_backend_reaches_the_script() {
    let mut backends = pool(3);
    backends[1] = BackendView {
        weight: 7,
        healthy: true,
        draining: false,
        active: 4,
        half_open: 2,
        outstanding: 9,
        latency_ns: 2_500_000.0,
        error_rate: 0.25,
    };
    let mut s = script(
        "fn pick(backends, flow, rng) {
            let b = backends[1];
            if b.weight == 7 && b.active == 4 && b.half_open == 2 && b.load == 6
                && b.outstanding == 9 && b.latency_ms == 2.5 && b.error_rate == 0.25
                && b.healthy && !b.draining && b.eligible && b.index == 1
                && backends.len() == 3 { 1 } else { throw \"a field is wrong\" }
        }",
    );
    assert_eq!(picks(&mut s, &backends, 1, 1), [1]);
    assert_eq!(s.faults(), 0);
}

/// One pick of `source` over `backends`: the pick, the fault line and
/// whether the script was retired.
fn faulty(source: &str, backends: &[BackendView]) -> (Option<usize>, String, bool) {
    let mut s = script(source);
    let mut rr = RoundRobin::default();
    let got = s.pick(backends, &flow(), 5, &mut rr);
    assert_eq!(s.faults(), 1, "{source}");
    let line = s.take_fault().expect("a fault line");
    assert_eq!(s.take_fault(), None, "taken once");
    (got, line, s.retired())
}

#[test]
fn bad_returns_fall_back_to_round_robin_and_are_recorded() {
    let mut backends = pool(3);
    backends[0].healthy = false;
    backends[2].draining = true;
    for (source, says) in [
        (
            "fn pick(backends, flow, rng) { 0 }",
            "pick returned 0, a backend that is down",
        ),
        (
            "fn pick(backends, flow, rng) { 2 }",
            "pick returned 2, a backend that is draining",
        ),
        (
            "fn pick(backends, flow, rng) { 3 }",
            "pick returned 3, but the backends are numbered 0 to 2",
        ),
        (
            "fn pick(backends, flow, rng) { -1 }",
            "pick returned -1, but",
        ),
        (
            "fn pick(backends, flow, rng) { \"srv-2\" }",
            "pick returned srv-2 (string), not the index",
        ),
        (
            "fn pick(backends, flow, rng) { 1.0 }",
            "(f64), not the index",
        ),
        (
            "fn pick(backends, flow, rng) { }",
            "pick returned  (()), not",
        ),
        (
            "fn pick(backends, flow, rng) {\n  throw \"no idea\";\n}",
            "line 2, col 3: Runtime error: no idea",
        ),
        (
            "fn pick(backends, flow, rng) {\n  backends[7].load\n}",
            "line 2, col 11: Array index 7 out of bounds",
        ),
        (
            "fn pick(backends, flow, rng) { rng.below(0) }",
            "rng.below(n) needs n of 1 or more, found 0",
        ),
        (
            "fn pick(backends, flow, rng) { backends.name }",
            "line 1, col 41: ",
        ),
    ] {
        let (got, line, retired) = faulty(source, &backends);
        // Round robin's first pick: the only eligible backend.
        assert_eq!(got, Some(1), "{source}");
        assert!(line.contains(says), "{source}: {line}");
        assert!(line.ends_with("round robin took this pick"), "{line}");
        assert!(!retired, "{source}");
    }
}

#[test]
fn a_script_keeps_running_after_an_input_dependent_fault() {
    // Picks backend 0 whatever its state: faults while it is down.
    let mut backends = pool(3);
    let mut s = script("fn pick(backends, flow, rng) { 0 }");
    let mut rr = RoundRobin::default();
    backends[0].healthy = false;
    let while_down: Vec<_> = (0..4)
        .map(|w| s.pick(&backends, &flow(), w, &mut rr).unwrap())
        .collect();
    assert_eq!(while_down, [1, 2, 1, 2], "round robin over the others");
    assert_eq!(s.faults(), 4);
    assert!(!s.retired());
    backends[0].healthy = true;
    assert_eq!(s.pick(&backends, &flow(), 9, &mut rr), Some(0));
    assert_eq!(s.faults(), 4);
}

#[test]
fn fault_lines_come_first_then_at_powers_of_ten() {
    let mut backends = pool(2);
    backends[0].healthy = false;
    let mut s = script("fn pick(backends, flow, rng) { 0 }");
    let mut rr = RoundRobin::default();
    let mut lines = Vec::new();
    for w in 0..1000 {
        s.pick(&backends, &flow(), w, &mut rr);
        if let Some(l) = s.take_fault() {
            lines.push((s.faults(), l));
        }
    }
    let at: Vec<u64> = lines.iter().map(|(n, _)| *n).collect();
    assert_eq!(at, [1, 10, 100, 1000]);
    assert!(lines[3].1.contains("1000 faults so far"), "{:?}", lines[3]);
}

/// Runs one pick of a runaway script over `n` backends, checks it is
/// stopped with a fault naming `limit` within a bounded time, and that
/// the script is not run again.
fn runaway(n: usize, source: &str, limit: &str) {
    let backends = pool(n);
    let mut s = script(source);
    let mut rr = RoundRobin::default();
    let start = Instant::now();
    assert_eq!(s.pick(&backends, &flow(), 1, &mut rr), Some(0));
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "{source}: {took:?}");
    let line = s.take_fault().expect("a fault line");
    assert!(line.contains(limit), "{source}: {line}");
    assert!(line.contains("retired"), "{line}");
    assert!(s.retired());
    // Retired: round robin picks, instantly, and no fault is added.
    let start = Instant::now();
    let next: Vec<_> = (0..1000)
        .map(|w| s.pick(&backends, &flow(), w, &mut rr).unwrap())
        .collect();
    assert!(start.elapsed() < Duration::from_millis(500));
    assert_eq!(next[..3], [1, 2, 3]);
    assert_eq!(s.faults(), 1);
}

#[test]
fn an_endless_loop_is_stopped_at_the_operation_limit() {
    runaway(
        10,
        "fn pick(backends, flow, rng) { loop {} }",
        "limit of 11000 operations",
    );
    runaway(
        10,
        "fn pick(backends, flow, rng) { let i = 0; while true { i += 1; } i }",
        "limit of 11000 operations",
    );
}

#[test]
fn unbounded_allocation_is_stopped_at_the_size_limits() {
    // Pushing one at a time takes an operation each: in a pool of 10
    // the operation limit comes first, in a pool of 3000 the size.
    runaway(
        10,
        "fn pick(backends, flow, rng) { let a = []; loop { a.push(a.len()); } }",
        "limit of 11000 operations",
    );
    runaway(
        3000,
        "fn pick(backends, flow, rng) { let a = []; loop { a.push(a.len()); } }",
        "an array grew past the limit of 4096 items",
    );
    runaway(
        10,
        "fn pick(backends, flow, rng) { let a = [0]; loop { a += a; } }",
        "an array grew past the limit of 4096 items",
    );
    runaway(
        10,
        "fn pick(backends, flow, rng) { let s = \"x\"; loop { s += s; } }",
        "a string grew past the limit of 16384 bytes",
    );
    // Rhai checks a map's size when maps are joined (and when a
    // function returns), not at each `m[k] = v`: a map filled one key
    // at a time is stopped by the operations it takes.
    runaway(
        3000,
        "fn pick(backends, flow, rng) {
            let m = #{}; let i = 0;
            loop { let one = #{}; one[i.to_string()] = i; m += one; i += 1; }
        }",
        "a map grew past the limit of 1024 entries",
    );
    runaway(
        10,
        "fn pick(backends, flow, rng) { let m = #{}; let i = 0; loop { m[i.to_string()] = i; i += 1; } }",
        "limit of 11000 operations",
    );
    runaway(
        10,
        "fn pick(backends, flow, rng) { [0].pad(100000000, 0); 0 }",
        "an array grew past the limit of 4096 items",
    );
}

#[test]
fn runaway_recursion_is_stopped_at_the_call_limit() {
    runaway(
        10,
        "fn deeper(n) { deeper(n + 1) } fn pick(backends, flow, rng) { deeper(0) }",
        "limit of 16 levels",
    );
}

#[test]
fn the_budget_grows_with_the_pool() {
    // 1000 backends visited, a few operations each: past the base
    // budget, within the per-backend one.
    let backends = pool(1000);
    let mut s = script(LEAST_LOADED);
    picks(&mut s, &backends, 3, 3);
    assert_eq!(s.faults(), 0, "{:?}", s.take_fault());
}

/// A pool with loads, latencies and weights that differ, some
/// backends down or draining.
fn varied() -> Vec<BackendView> {
    let mut backends = pool(8);
    for (i, b) in backends.iter_mut().enumerate() {
        b.active = [3, 1, 4, 1, 5, 9, 2, 6][i];
        b.half_open = [0, 1, 0, 0, 0, 0, 0, 0][i];
        b.latency_ns = [5e6, 1e6, 7e6, 2e6, 0.5e6, 3e6, 4e6, 6e6][i];
        b.outstanding = [1, 2, 3, 4, 5, 6, 7, 8][i];
        b.weight = [1, 2, 3, 0, 5, 1, 1, 4][i];
    }
    backends[4].healthy = false;
    backends[7].draining = true;
    backends
}

fn counts(s: &mut Script, backends: &[BackendView], seed: u64, n: usize) -> Vec<usize> {
    let mut c = vec![0; backends.len()];
    for i in picks(s, backends, seed, n) {
        c[i] += 1;
    }
    c
}

#[test]
fn least_and_most_compare_a_field_among_the_eligible() {
    let backends = varied();
    let one = |source: &str| picks(&mut script(source), &backends, 7, 50);
    // Loads 3 2 4 1 (5 down) 9 2 (6 draining): 3 is least; 5 is most.
    assert!(
        one("fn pick(b, f, rng) { b.least(\"load\") }")
            .iter()
            .all(|&i| i == 3)
    );
    assert!(
        one("fn pick(b, f, rng) { b.most(\"load\") }")
            .iter()
            .all(|&i| i == 5)
    );
    // Latency 0.5 ms is backend 4, which is down: 1 ms is next.
    assert!(
        one("fn pick(b, f, rng) { b.least(\"latency_ms\") }")
            .iter()
            .all(|&i| i == 1)
    );
    assert!(
        one("fn pick(b, f, rng) { b.most(\"weight\") }")
            .iter()
            .all(|&i| i == 2)
    );
    // Active 1 is shared by backends 1 and 3: both are chosen.
    let ties = one("fn pick(b, f, rng) { b.least(\"active\") }");
    assert!(ties.iter().all(|&i| i == 1 || i == 3), "{ties:?}");
    assert!(ties.contains(&1) && ties.contains(&3), "{ties:?}");
}

#[test]
fn least_by_takes_a_function_of_a_backend() {
    let backends = varied();
    // latency_ms * (outstanding + 1): 10, 3, 28, 10, (down), 21, 32,
    // (draining): backend 1.
    let mut s = script("fn pick(b, f, rng) { b.least_by(|x| x.latency_ms * (x.outstanding + 1)) }");
    assert!(picks(&mut s, &backends, 7, 20).iter().all(|&i| i == 1));
    let mut s = script("fn pick(b, f, rng) { b.most_by(|x| x.index) }");
    assert!(picks(&mut s, &backends, 7, 20).iter().all(|&i| i == 6));
    let (_, line, _) = faulty("fn pick(b, f, rng) { b.least_by(|x| \"slow\") }", &backends);
    assert!(
        line.contains("must return a number, found slow (string)"),
        "{line}"
    );
    let (_, line, _) = faulty("fn pick(b, f, rng) { b.least(\"speed\") }", &backends);
    assert!(
        line.contains("no backend field \"speed\"; use one of: load,"),
        "{line}"
    );
}

#[test]
fn random_and_weighted_draw_among_the_eligible_in_proportion() {
    let seed = 0x5eed_0002;
    println!("seed {seed:#x}");
    let backends = varied();
    let n = 20_000;
    let uniform = counts(
        &mut script("fn pick(b, f, rng) { b.random() }"),
        &backends,
        seed,
        n,
    );
    let weighted = counts(
        &mut script("fn pick(b, f, rng) { b.weighted() }"),
        &backends,
        seed,
        n,
    );
    // Eligible: 0 1 2 3 5 6. Uniform: n/6 each; weighted by 1 2 3 0 1 1
    // (of 8): backend 3 has weight 0 and takes nothing.
    let weights = [1, 2, 3, 0, 0, 1, 1, 0];
    for i in 0..8 {
        let eligible = backends[i].eligible();
        let want_u = if eligible { n as f64 / 6.0 } else { 0.0 };
        let want_w = n as f64 * weights[i] as f64 / 8.0;
        // Within 5 standard deviations (about 0.5 % to 0.75 % of n).
        assert!(
            (uniform[i] as f64 - want_u).abs() <= 5.0 * want_u.sqrt() + 0.5,
            "{uniform:?}"
        );
        assert!(
            (weighted[i] as f64 - want_w).abs() <= 5.0 * want_w.sqrt() + 0.5,
            "{weighted:?}"
        );
    }
}

#[test]
fn helpers_draw_from_their_own_stream_not_from_rng() {
    let backends = pool(9);
    let plain = picks(
        &mut script("fn pick(b, f, rng) { rng.below(b.len) }"),
        &backends,
        5,
        100,
    );
    let with_helpers = picks(
        &mut script(
            "fn pick(b, f, rng) { b.random(); b.weighted(); b.least(\"load\"); rng.below(b.len) }",
        ),
        &backends,
        5,
        100,
    );
    assert_eq!(plain, with_helpers);
}

#[test]
fn a_selector_runs_the_script_and_hands_over_its_faults() {
    use crate::policy::{NoBackend, Selector};
    use crate::spec::Algorithm;
    let algorithm = Algorithm::Script(ScriptRef::new("fn pick(b, f, rng) { 2 }").unwrap());
    let mut sel = Selector::new(algorithm);
    assert!(sel.needs_entropy());
    let mut backends = pool(3);
    assert_eq!(sel.pick(&backends, &flow(), 1), Ok(2));
    assert_eq!(sel.take_script_fault(), None);
    backends[2].healthy = false;
    // Round robin from its fresh cursor: backend 0.
    assert_eq!(sel.pick(&backends, &flow(), 1), Ok(0));
    let line = sel.take_script_fault().expect("a fault line");
    assert!(
        line.contains("pick returned 2, a backend that is down"),
        "{line}"
    );
    assert_eq!(sel.pick(&[], &flow(), 1), Err(NoBackend::Empty));
    backends[0].draining = true;
    backends[1].healthy = false;
    assert_eq!(
        sel.pick(&backends, &flow(), 1),
        Err(NoBackend::NoneEligible {
            total: 3,
            down: 2,
            draining: 1
        })
    );
    // Setting the algorithm again starts afresh; other algorithms have
    // no script faults.
    sel.set_algorithm(algorithm);
    assert_eq!(sel.pick(&pool(3), &flow(), 1), Ok(2));
    assert_eq!(sel.take_script_fault(), None);
    assert_eq!(
        Selector::new(Algorithm::RoundRobin).take_script_fault(),
        None
    );
}

#[test]
fn a_pool_with_nothing_eligible_is_not_asked_of_the_script() {
    let mut backends = pool(2);
    backends[0].healthy = false;
    backends[1].draining = true;
    let mut s = script("fn pick(backends, flow, rng) { throw \"asked\" }");
    let mut rr = RoundRobin::default();
    assert_eq!(s.pick(&backends, &flow(), 1, &mut rr), None);
    assert_eq!(s.pick(&[], &flow(), 1, &mut rr), None);
    assert_eq!(s.faults(), 0);
}

#[test]
fn clones_pick_alike_and_keep_their_own_faults() {
    let backends = pool(6);
    let mut a = script(RANDOM);
    picks(&mut a, &backends, 4, 10);
    let mut b = a.clone();
    assert_eq!(
        picks(&mut a, &backends, 8, 50),
        picks(&mut b, &backends, 8, 50)
    );
    let mut down = pool(1);
    down.push(BackendView {
        healthy: false,
        ..BackendView::idle()
    });
    let mut c = script("fn pick(backends, flow, rng) { 1 }");
    let d = c.clone();
    c.pick(&down, &flow(), 1, &mut RoundRobin::default());
    assert_eq!((c.faults(), d.faults()), (1, 0));
}

#[test]
fn scripts_run_on_many_threads_at_once() {
    let backends = pool(8);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let backends = backends.clone();
            std::thread::spawn(move || {
                let mut s = script(RANDOM);
                picks(&mut s, &backends, t, 500)
            })
        })
        .collect();
    let all: Vec<Vec<usize>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(all[1], picks(&mut script(RANDOM), &backends, 1, 500));
}
