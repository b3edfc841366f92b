//! Simulated events per wall second on the `classic` lab, and the wall time
//! of the whole `classic` scenario run to completion (about 520 s of
//! simulated time).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lblab::model::{SimDuration, SimTime};
use lblab::sim::World;
use std::hint::black_box;

/// The source design's scenario: the classic lab without its chaos
/// timeline, so every run does the same work.
fn classic() -> lblab::spec::Lab {
    let mut lab = lblab::lab::builtin("classic").expect("the classic lab loads");
    lab.timeline.clear();
    lab
}

fn events_per_second(c: &mut Criterion) {
    let lab = classic();
    // 60 s of simulated classic traffic; events counted once up front so the
    // throughput is events per second.
    let horizon = SimTime::ZERO + SimDuration::from_secs(60);
    let mut probe = World::new(&lab, 1);
    probe.run_until(horizon);
    let events = probe.events_processed();
    let mut group = c.benchmark_group("classic");
    group.sample_size(20);
    group.throughput(Throughput::Elements(events));
    group.bench_function("events_60s", |b| {
        b.iter(|| {
            let mut w = World::new(&lab, 1);
            w.run_until(horizon);
            black_box(w.events_processed())
        })
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

criterion_group!(benches, events_per_second, whole_scenario);
criterion_main!(benches);
