//! Nanoseconds per pick of scripted algorithms (`Script("...")`), with 10
//! and 1 000 healthy backends carrying uneven load, beside the built-in
//! least connections for scale:
//!
//! - `script-random`: `rng.below(backends.len)`, the cost of running a
//!   script at all (copying the views, the call, the checks);
//! - `script-least`, `script-weighted`: one helper written in Rust
//!   (`backends.least("load")`, `backends.weighted()`);
//! - `script-least-by`: `backends.least_by(|b| ...)`, a script function
//!   called per backend;
//! - `script-fastest-of-two`, `script-least-loaded`,
//!   `script-weighted-random`: the example scripts in presets/scripts/,
//!   the last two loops over every backend written in the script.
//!
//! `cargo bench --bench script`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lblab::model::{Endpoint, FourTuple, Ip};
use lblab::policy::{BackendView, Selector};
use lblab::spec::{Algorithm, ScriptRef};
use std::hint::black_box;
use std::time::Duration;

/// `n` healthy backends with uneven weights, connections, outstanding
/// requests and latencies, as benches/picks.rs builds them.
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

fn scripts() -> Vec<(&'static str, Algorithm)> {
    let script = |source: &str| Algorithm::Script(ScriptRef::new(source).expect("compiles"));
    vec![
        ("least-connections", Algorithm::LeastConnections),
        (
            "script-random",
            script("fn pick(backends, flow, rng) { rng.below(backends.len) }"),
        ),
        (
            "script-least",
            script("fn pick(backends, flow, rng) { backends.least(\"load\") }"),
        ),
        (
            "script-weighted",
            script("fn pick(backends, flow, rng) { backends.weighted() }"),
        ),
        (
            "script-least-by",
            script(
                "fn pick(backends, flow, rng) { \
                 backends.least_by(|b| b.latency_ms * (b.outstanding + 1)) }",
            ),
        ),
        (
            "script-fastest-of-two",
            script(include_str!("../presets/scripts/fastest-of-two.rhai")),
        ),
        (
            "script-least-loaded",
            script(include_str!("../presets/scripts/least-loaded.rhai")),
        ),
        (
            "script-weighted-random",
            script(include_str!("../presets/scripts/weighted-random.rhai")),
        ),
    ]
}

fn picks(c: &mut Criterion) {
    let flow = FourTuple::tcp(
        Endpoint::new(Ip::new(10, 0, 0, 1), 40000),
        Endpoint::new(Ip::new(192, 0, 2, 1), 80),
    );
    let mut group = c.benchmark_group("pick");
    group
        .throughput(Throughput::Elements(1))
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    for n in [10, 1000] {
        let pool = backends(n);
        for (name, algorithm) in scripts() {
            let mut selector = Selector::new(algorithm);
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            group.bench_with_input(BenchmarkId::new(name, n), &pool, |b, pool| {
                b.iter(|| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    black_box(selector.pick(black_box(pool), &flow, x))
                })
            });
            assert_eq!(selector.take_script_fault(), None, "{name} at {n}");
        }
    }
    group.finish();
}

criterion_group!(benches, picks);
criterion_main!(benches);
