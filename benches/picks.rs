//! Nanoseconds per pick for every balancing algorithm (and two scripted
//! ones), with 10 and 1 000 healthy backends carrying uneven load; what
//! building a Maglev table and a hash ring costs; and a ring pick at 1 000
//! equal backends.
//!
//! Each iteration picks for a different client (4 096 precomputed flows
//! taken in turn), so the hashing algorithms read a different slot or ring
//! point every time instead of one cached line. The Selector builds its
//! ring or Maglev table at the first pick and keeps it, which is the steady
//! state of a balancer whose pool is not changing.
//!
//! Short measurement windows keep the whole run under about two minutes:
//! `cargo bench --bench picks`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lblab::model::{Endpoint, FourTuple, Ip};
use lblab::policy::{BackendView, Selector, flow_hash, maglev, ring_hash};
use lblab::spec::{Algorithm, ScriptRef};
use std::hint::black_box;
use std::time::Duration;

/// Distinct flows per run, a power of two so the counter wraps by a mask.
const FLOWS: usize = 4096;

/// `n` healthy backends with uneven weights, connections, outstanding
/// requests, latencies (1 to 5 ms) and error rates, so the load-aware
/// algorithms have real comparisons to make.
fn backends(n: usize) -> Vec<BackendView> {
    (0..n)
        .map(|i| BackendView {
            weight: 1 + (i % 5) as u32,
            active: (i * 7 % 13) as u32,
            half_open: (i % 3) as u32,
            outstanding: (i * 11 % 17) as u32,
            latency_ns: 1e6 + (i * 7919 % 4001) as f32 * 1e3,
            error_rate: (i % 10) as f32 / 100.0,
            ..BackendView::idle()
        })
        .collect()
}

/// Flows from 4 096 consecutive client addresses to one service.
fn flows() -> Vec<FourTuple> {
    let first = Ip::new(10, 0, 0, 1);
    (0..FLOWS as u32)
        .map(|i| {
            FourTuple::tcp(
                Endpoint::new(first.offset(i), 40000 + (i % 1000) as u16),
                Endpoint::new(Ip::new(192, 0, 2, 1), 80),
            )
        })
        .collect()
}

fn picks(c: &mut Criterion) {
    let flows = flows();
    let mut group = c.benchmark_group("pick");
    group
        .throughput(Throughput::Elements(1))
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30);
    for n in [10, 1000] {
        let pool = backends(n);
        let named = Algorithm::ALL.iter().map(|a| (a.name(), *a));
        for (name, algorithm) in named.chain(scripts()) {
            let mut selector = Selector::new(algorithm);
            // A cheap xorshift supplies fresh entropy words, as the World's
            // generator would.
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            let mut k = 0usize;
            group.bench_with_input(BenchmarkId::new(name, n), &pool, |b, pool| {
                b.iter(|| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    k = k.wrapping_add(1);
                    let flow = &flows[k & (FLOWS - 1)];
                    black_box(selector.pick(black_box(pool), flow, x))
                })
            });
        }
    }
    group.finish();
}

/// Scripted algorithms (`cargo bench --bench picks -- script`): one
/// helper written in Rust, and the example script's loop over every
/// backend written in Rhai. benches/script.rs measures more of them.
fn scripts() -> [(&'static str, Algorithm); 2] {
    let script = |source: &str| Algorithm::Script(ScriptRef::new(source).expect("compiles"));
    [
        (
            "script-least",
            script("fn pick(backends, flow, rng) { backends.least(\"load\") }"),
        ),
        (
            "script-least-loaded",
            script(include_str!("../presets/scripts/least-loaded.rhai")),
        ),
    ]
}

fn builds(c: &mut Criterion) {
    let equal = vec![BackendView::idle(); 100];
    let mut group = c.benchmark_group("maglev-build");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    group.bench_function("65537x100", |b| {
        b.iter(|| maglev::Table::build(black_box(&equal), 65_537))
    });
    group.finish();

    let mut group = c.benchmark_group("ring-build");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    group.bench_function("100x160", |b| {
        b.iter(|| ring_hash::Ring::build(black_box(&equal), 160))
    });
    group.finish();
    // The pick group's pools have weights 1 to 5, so its ring at 1 000
    // backends holds 480 000 points; this is the plain 1 000 × 160.
    let equal = vec![BackendView::idle(); 1000];
    let ring = ring_hash::Ring::build(&equal, 160);
    let hashes: Vec<u64> = flows().iter().map(flow_hash::of).collect();
    let mut group = c.benchmark_group("ring-pick");
    group
        .throughput(Throughput::Elements(1))
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30);
    let mut k = 0usize;
    group.bench_function("1000x160", |b| {
        b.iter(|| {
            k = k.wrapping_add(1);
            black_box(ring.pick(&equal, hashes[k & (FLOWS - 1)], None))
        })
    });
    group.finish();
}

criterion_group!(benches, picks, builds);
criterion_main!(benches);
