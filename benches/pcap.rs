//! What packet capture costs: writing one tapped packet as a pcap record
//! (headers built, checksums summed, the record appended to a buffer), and
//! the classic lab's events per second with its tap on. With the tap off,
//! `events` measures the World as it always ran.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lblab::model::{SimDuration, SimTime};
use lblab::pcap::PcapFile;
use lblab::sim::{TapRecord, TapSides, TapSpec, World};
use std::hint::black_box;

fn classic() -> lblab::spec::Lab {
    lblab::lab::builtin("classic").expect("the classic lab loads")
}

fn at(secs: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(secs)
}

fn both_sides(window: SimDuration) -> TapSpec {
    TapSpec {
        sides: TapSides::Both,
        window,
        max_packets: u64::MAX,
    }
}

/// Classic's first 5 s on both sides: handshakes, data, ACKs, probes.
fn records() -> Vec<TapRecord> {
    let mut world = World::new(&classic(), 1);
    world.start_tap(both_sides(SimDuration::from_secs(5)));
    world.run_until(at(5));
    let mut out = Vec::new();
    world.drain_tap(&mut out);
    out
}

fn write_cost(c: &mut Criterion) {
    let records = records();
    let mut group = c.benchmark_group("pcap");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("write_records", |b| {
        b.iter(|| {
            let mut file =
                PcapFile::new(Vec::with_capacity(records.len() * 80)).expect("a header in memory");
            for r in &records {
                file.write(r).expect("written to memory");
            }
            black_box(file.finish().expect("flushed").len())
        })
    });
    group.finish();
}

fn tapped_events(c: &mut Criterion) {
    let lab = classic();
    let mut probe = World::new(&lab, 1);
    probe.run_until(at(60));
    let mut group = c.benchmark_group("classic");
    group.sample_size(20);
    group.throughput(Throughput::Elements(probe.events_processed()));
    // The tap on for the whole minute, drained every simulated second as
    // the pcap engine does (it drains every 100 ms).
    group.bench_function("events_60s_tapped", |b| {
        b.iter(|| {
            let mut w = World::new(&lab, 1);
            w.start_tap(both_sides(SimDuration::from_secs(60)));
            let mut buf = Vec::new();
            for s in 1..=60 {
                w.run_until(at(s));
                w.drain_tap(&mut buf);
                buf.clear();
            }
            black_box(w.events_processed())
        })
    });
    group.finish();
}

criterion_group!(benches, write_cost, tapped_events);
criterion_main!(benches);
