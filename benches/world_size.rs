//! How the event rate holds up as the world grows: events per wall second
//! of the 100 000-client world against classic's, the two measured in
//! turn, so a machine whose speed drifts (a shared host's does, by tens of
//! per cent within minutes) slows both sides of each pair alike. Prints
//! each side's median rate and the median of the pairs' ratios.
//!
//!   cargo bench --bench world_size [-- PAIRS]     (default 9 pairs)

#[path = "support/labs.rs"]
mod labs;

/// Big blocks mapped for huge pages, as in the lblab binary, so the rates
/// are the ones a user gets.
#[global_allocator]
static ALLOCATOR: lblab::alloc::HugePageAlloc = lblab::alloc::HugePageAlloc;

use lblab::model::{SimDuration, SimTime};
use lblab::sim::World;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

fn at(millis: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis(millis)
}

/// Events per wall second of `world` run on to `until`.
fn rate(mut world: World, until: SimTime) -> f64 {
    let before = world.events_processed();
    let start = Instant::now();
    world.run_until(until);
    let wall = start.elapsed().as_secs_f64();
    black_box(world.events_processed() - before) as f64 / wall
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> ExitCode {
    // Cargo passes `--bench`; a number among the arguments is the pairs.
    let pairs = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(9);
    if !(1..=1000).contains(&pairs) {
        eprintln!("world_size: PAIRS must be 1 to 1000, got {pairs}");
        return ExitCode::from(2);
    }
    let classic = labs::classic();
    let big = labs::hundred_thousand_clients();
    let (mut small_rates, mut big_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..pairs {
        // Classic as `benches/events.rs` runs it: a new World, 60 s, after
        // one run untimed, so its memory is in the caches as it is in
        // criterion's repeated runs, not where the big world left it.
        rate(World::new(&classic, 1), at(60_000));
        let small = rate(World::new(&classic, 1), at(60_000));
        // The big world as there too: every client is connected and
        // sending by 1 s (not timed); the next half second is measured.
        let mut warm = World::new(&big, 1);
        warm.run_until(at(1_000));
        let large = rate(warm, at(1_500));
        small_rates.push(small);
        big_rates.push(large);
        ratios.push(large / small);
    }
    println!(
        "classic (60 s)                      {:6.2} M events/s (median of {pairs})",
        median(small_rates) / 1e6
    );
    println!(
        "100 000 clients (from 1 s to 1.5 s) {:6.2} M events/s (median of {pairs})",
        median(big_rates) / 1e6
    );
    println!(
        "100 000 clients / classic           {:6.3} (median of the {pairs} pairs' ratios)",
        median(ratios)
    );
    ExitCode::SUCCESS
}
