//! Nanoseconds per pick for each balancing algorithm, with 10 and 1000
//! healthy backends carrying uneven load.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lblab::model::{Endpoint, FourTuple, Ip};
use lblab::policy::{BackendView, Selector};
use lblab::spec::Algorithm;
use std::hint::black_box;

fn backends(n: usize) -> Vec<BackendView> {
    (0..n)
        .map(|i| BackendView {
            weight: 1 + (i % 5) as u32,
            active: (i * 7 % 13) as u32,
            half_open: (i % 3) as u32,
            ..BackendView::idle()
        })
        .collect()
}

fn picks(c: &mut Criterion) {
    let flow = FourTuple::tcp(
        Endpoint::new(Ip::new(10, 0, 0, 1), 40000),
        Endpoint::new(Ip::new(192, 0, 2, 1), 80),
    );
    let mut group = c.benchmark_group("pick");
    group.throughput(Throughput::Elements(1));
    for n in [10, 1000] {
        let pool = backends(n);
        for algorithm in Algorithm::ALL {
            let mut selector = Selector::new(algorithm);
            // A cheap xorshift supplies fresh entropy words, as the World's
            // generator would.
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            group.bench_with_input(BenchmarkId::new(algorithm.name(), n), &pool, |b, pool| {
                b.iter(|| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    black_box(selector.pick(black_box(pool), &flow, x))
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, picks);
criterion_main!(benches);
