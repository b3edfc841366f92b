//! The cost of one Snapshot of a World of a million clients: what the live
//! driver pays 60 times a second. Client counts are kept as clients move,
//! so the cost is that of the servers' rows, the series and the log, not of
//! the clients.

use criterion::{Criterion, criterion_group, criterion_main};
use lblab::model::{SimDuration, SimTime};
use lblab::sim::World;
use std::hint::black_box;

fn snapshot(c: &mut Criterion) {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // then a tenth of the world keeps the check quick.
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 1_000_000 } else { 100_000 };
    let text = format!(
        r#"(name: "million",
        balancer: (established_timeout: "10m", half_open_timeout: "10m"),
        servers: Replicate(count: 100, template: (name: "srv",
            max_half_open: 100000, backlog: 100000, max_connections: 100000)),
        clients: (closed: Some((population: {n}, segments: Constant(1000),
            gap: Constant("30s"), connections: Some(1), start_spread: "10s"))))"#
    );
    let lab = match lblab::lab::load_str(&text, "<snapshot bench>") {
        Ok(lab) => lab,
        Err(e) => panic!("{e}"),
    };
    let mut world = World::new(&lab, 1);
    world.run_until(SimTime::ZERO + SimDuration::from_secs(15));
    let clients = world.snapshot().clients.map_or(0, |c| c.established);
    assert_eq!(clients, n, "every client should be connected");
    c.bench_function(&format!("snapshot_{n}_clients"), |b| {
        b.iter(|| black_box(world.snapshot()))
    });
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
