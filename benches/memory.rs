//! Bytes of memory per concurrent connection with one million connections
//! open at once: for the whole World (measured by a counting allocator) and
//! for one conn-table entry.
//!
//! Run with `cargo bench --bench memory`; it prints the figures.

use lblab::model::{SimDuration, SimTime};
use lblab::sim::World;
use std::sync::atomic::Ordering;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{Counting, LIVE, PEAK};

#[global_allocator]
static ALLOC: Counting = Counting;

const CONNECTIONS: u32 = 1_000_000;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // then one tenth of the size keeps the check quick.
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { CONNECTIONS } else { CONNECTIONS / 10 };
    let text = format!(
        r#"(
        name: "million",
        balancer: (established_timeout: "10m", half_open_timeout: "10m"),
        servers: Replicate(count: 100, template: (name: "srv",
            max_half_open: 100000, backlog: 100000, max_connections: 100000)),
        clients: (closed: Some((
            population: {n},
            segments: Constant(1000),
            gap: Constant("30s"),
            connections: Some(1),
            start_spread: "10s",
        ))),
    )"#
    );
    let lab = match lblab::lab::load_str(&text, "<memory bench>") {
        Ok(lab) => lab,
        Err(e) => panic!("{e}"),
    };
    let before = LIVE.load(Ordering::Relaxed);
    let mut world = World::new(&lab, 1);
    // Every client connects within 10 s and then sits between segments.
    world.run_until(SimTime::ZERO + SimDuration::from_secs(15));
    let live = LIVE.load(Ordering::Relaxed) - before;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let m = world.memory();
    let s = world.snapshot();
    let open = s.clients.map_or(0, |c| c.established);
    assert_eq!(open, u64::from(n), "every client should be connected");
    assert_eq!(m.conn_table_entries, n as usize);
    println!("concurrent connections      {open}");
    println!(
        "whole world, live           {} bytes/conn ({:.1} MiB)",
        live as u64 / open,
        live as f64 / 1048576.0
    );
    println!(
        "whole world, peak           {} bytes/conn",
        peak as u64 / open
    );
    println!(
        "conn table                  {} bytes/entry",
        m.conn_table / m.conn_table_entries
    );
    println!(
        "clients                     {} bytes/client",
        m.clients / n as usize
    );
    println!(
        "server tables               {} bytes/conn",
        m.servers / n as usize
    );
    println!(
        "event queue                 {} bytes ({} events)",
        m.queue, m.queued_events
    );
}
