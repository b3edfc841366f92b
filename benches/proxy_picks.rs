//! Nanoseconds per `Pool::pick` of the real proxy, for every balancing
//! algorithm with 3 and 100 healthy backends carrying uneven load:
//! single-threaded (`proxy_pick`), and the same pick made from 2 threads
//! at once on one shared pool (`proxy_pick_2_threads`, reported per pick
//! per thread: each thread times its own picks after a common start, and
//! the slower thread's time counts). A control group,
//! `proxy_pick_2_threads_unshared`, gives each thread a pool of its own:
//! the gap between the two is the cost of sharing (cache lines bouncing
//! between cores, the selector's lock), not of the machine.
//!
//! Run with `cargo bench --bench proxy_picks`. The source design reports
//! about 90 ns/op for round robin, 102 ns/op concurrent.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lblab::model::Ip;
use lblab::proxy::config::BackendConfig;
use lblab::proxy::pool::{Backend, Pool};
use lblab::spec::Algorithm;
use std::hint::black_box;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Threads picking at once in the concurrent group.
const THREADS: usize = 2;

/// A pool of `n` healthy backends with uneven weights and live counts, so
/// that weighted and least-loaded algorithms have something to compare.
fn pool(n: usize, algorithm: Algorithm) -> Pool {
    let backends = (0..n)
        .map(|i| {
            let port = 9001 + u16::try_from(i).expect("fewer than 56k backends");
            let backend = Backend::new(BackendConfig {
                address: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                written: format!("127.0.0.1:{port}"),
                name: format!("web-{}", i + 1),
                weight: 1 + (i % 5) as u32,
            });
            backend.active.store((i * 7 % 13) as u32, Relaxed);
            Arc::new(backend)
        })
        .collect();
    Pool::new(backends, algorithm)
}

/// A cheap xorshift step: a fresh client address for each pick.
fn next_source(x: &mut u32) -> Ip {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    Ip(*x)
}

fn single(c: &mut Criterion) {
    let mut group = c.benchmark_group("proxy_pick");
    group.throughput(Throughput::Elements(1));
    for n in [3, 100] {
        for algorithm in Algorithm::ALL {
            let pool = pool(n, algorithm);
            let mut x: u32 = 0x9e37_79b9;
            group.bench_with_input(BenchmarkId::new(algorithm.name(), n), &pool, |b, pool| {
                b.iter(|| black_box(pool.pick(next_source(&mut x), black_box(&[]))))
            });
        }
    }
    group.finish();
}

/// A pool alone on its cache lines (and the adjacent-line prefetcher's
/// pairs), so that two of them side by side share nothing.
#[repr(align(128))]
struct Padded(Pool);

/// `iters` picks on each of [`THREADS`] threads, thread `t` picking from
/// `pools[t % pools.len()]`, started together; the slower thread's time.
fn picks_on_threads(pools: &[Padded], iters: u64) -> Duration {
    let start = Barrier::new(THREADS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (start, pool) = (&start, &pools[t % pools.len()].0);
                s.spawn(move || {
                    let mut x: u32 = 0x9e37_79b9 ^ (t as u32 + 1).wrapping_mul(0x85eb_ca6b);
                    start.wait();
                    let began = Instant::now();
                    for _ in 0..iters {
                        black_box(pool.pick(next_source(&mut x), black_box(&[])))
                            .expect("healthy backends");
                    }
                    began.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a picking thread panicked"))
            .max()
            .unwrap_or_default()
    })
}

fn concurrent(c: &mut Criterion) {
    let mut group = c.benchmark_group("proxy_pick_2_threads");
    group.throughput(Throughput::Elements(1));
    for n in [3, 100] {
        for algorithm in Algorithm::ALL {
            let shared = [Padded(pool(n, algorithm))];
            group.bench_with_input(
                BenchmarkId::new(algorithm.name(), n),
                &shared,
                |b, pools| b.iter_custom(|iters| picks_on_threads(pools, iters)),
            );
        }
    }
    group.finish();
}

fn unshared(c: &mut Criterion) {
    let mut group = c.benchmark_group("proxy_pick_2_threads_unshared");
    group.throughput(Throughput::Elements(1));
    for algorithm in Algorithm::ALL {
        let own: Vec<Padded> = (0..THREADS).map(|_| Padded(pool(3, algorithm))).collect();
        group.bench_with_input(BenchmarkId::new(algorithm.name(), 3), &own, |b, pools| {
            b.iter_custom(|iters| picks_on_threads(pools, iters))
        });
    }
    group.finish();
}

criterion_group!(benches, single, concurrent, unshared);
criterion_main!(benches);
