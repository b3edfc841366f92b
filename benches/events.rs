//! Simulated events per wall second: on the `classic` lab (the source
//! design's scenario), on a world of 100 000 closed clients, and the wall
//! time of the whole `classic` scenario run to completion (about 520 s of
//! simulated time).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use lblab::model::{SimDuration, SimTime};
use lblab::sim::World;
use std::hint::black_box;

#[path = "support/labs.rs"]
mod labs;

/// Big blocks mapped for huge pages, as in the lblab binary, so the rates
/// are the ones a user gets.
#[global_allocator]
static ALLOCATOR: lblab::alloc::HugePageAlloc = lblab::alloc::HugePageAlloc;

use labs::{classic, hundred_thousand_clients};

fn at(secs: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(secs)
}

fn events_per_second(c: &mut Criterion) {
    let lab = classic();
    // 60 s of simulated classic traffic; events counted once up front so the
    // throughput is events per second.
    let mut probe = World::new(&lab, 1);
    probe.run_until(at(60));
    let events = probe.events_processed();
    let mut group = c.benchmark_group("classic");
    group.sample_size(20);
    group.throughput(Throughput::Elements(events));
    group.bench_function("events_60s", |b| {
        b.iter(|| {
            let mut w = World::new(&lab, 1);
            w.run_until(at(60));
            black_box(w.events_processed())
        })
    });
    group.finish();
}

fn events_per_second_with_100k_clients(c: &mut Criterion) {
    let lab = hundred_thousand_clients();
    // Every client is connected and sending by 1 s; the next half second is
    // measured.
    let warm = || {
        let mut w = World::new(&lab, 1);
        w.run_until(at(1));
        w
    };
    let mut probe = warm();
    let before = probe.events_processed();
    probe.run_until(at(1) + SimDuration::from_millis(500));
    let mut group = c.benchmark_group("100k_clients");
    group.sample_size(10);
    group.throughput(Throughput::Elements(probe.events_processed() - before));
    group.bench_function("events_500ms", |b| {
        // By reference, so dropping the World (tens of megabytes, freed
        // after each run) is not counted as time spent running events.
        b.iter_batched_ref(
            warm,
            |w| {
                w.run_until(at(1) + SimDuration::from_millis(500));
                black_box(w.events_processed())
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn whole_scenario(c: &mut Criterion) {
    let lab = classic();
    let mut group = c.benchmark_group("classic");
    group.sample_size(10);
    group.bench_function("run_to_completion", |b| {
        b.iter(|| {
            let mut w = World::new(&lab, 1);
            assert!(w.run_to_completion(SimTime::MAX));
            black_box(w.now())
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    events_per_second,
    whole_scenario,
    events_per_second_with_100k_clients
);
criterion_main!(benches);
