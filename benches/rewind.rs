//! Rewind's costs on `classic`: the memory a checkpoint (a copy of the
//! World) takes, per checkpoint and per simulated minute at the driver's
//! first interval, and the latency of a 5-minute jump from a key press to
//! the frame that shows it, through the live driver.
//!
//! Run with `cargo bench --bench rewind`; it prints the figures.

use lblab::live::{self, Control, FIRST_EVERY, MAX_CHECKPOINTS, RunSetup, Seek, Speed};
use lblab::model::{SimDuration, SimTime};
use lblab::sim::World;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{Counting, LIVE};

#[global_allocator]
static ALLOC: Counting = Counting;

fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

fn main() {
    let lab = lblab::lab::builtin("classic").expect("classic loads");
    // Memory: a checkpoint at several moments of the run.
    let mut world = World::new(&lab, 1);
    println!("checkpoint memory on classic (a copy of the World, live bytes):");
    let mut per_checkpoint = 0usize;
    for minute in [1u64, 2, 5] {
        world.run_until(secs(minute * 60));
        let before = LIVE.load(Ordering::Relaxed);
        let copy = world.clone();
        let bytes = LIVE.load(Ordering::Relaxed).saturating_sub(before);
        drop(copy);
        per_checkpoint = per_checkpoint.max(bytes);
        println!("  at {minute} min: {:.0} KiB", bytes as f64 / 1024.0);
    }
    let per_minute = 60 / FIRST_EVERY.as_secs_f64() as usize;
    println!(
        "  per simulated minute (a checkpoint every {FIRST_EVERY}): {:.1} MiB; bounded by {MAX_CHECKPOINTS} checkpoints: {:.1} MiB",
        (per_checkpoint * per_minute) as f64 / (1 << 20) as f64,
        (per_checkpoint * MAX_CHECKPOINTS) as f64 / (1 << 20) as f64
    );
    // Latency: the live driver at max speed to 6 min, paused, then jumps.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick { 1 } else { 5 };
    let mut h = live::spawn_run(
        World::maker(),
        lab,
        1,
        Speed::Max,
        false,
        RunSetup::default(),
    );
    let wait = |h: &mut live::LiveHandle, what: &dyn Fn(&live::LiveFrame) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let f = h.frames.borrow_and_update().clone();
            if what(&f) {
                return f;
            }
            assert!(Instant::now() < deadline, "timed out");
            std::thread::sleep(Duration::from_micros(200));
        }
    };
    wait(&mut h, &|f| f.snapshot.now >= secs(60));
    let _ = h.controls.send(Control::TogglePause);
    wait(&mut h, &|f| f.pace.paused);
    // Key to frame: a control sent, the frame whose generation shows it.
    let jump = |h: &mut live::LiveHandle, seek: Seek| {
        let g = h.frames.borrow().generation;
        let started = Instant::now();
        let _ = h.controls.send(Control::Seek(seek));
        let f = wait(h, &|fr| fr.generation > g);
        (started.elapsed().as_secs_f64() * 1e3, f.snapshot.now)
    };
    // The first jump forward has no checkpoint ahead: it simulates 5 min.
    let from = h.frames.borrow().snapshot.now;
    let (ms, to) = jump(&mut h, Seek::To(from + SimDuration::from_secs(300)));
    println!(
        "jump 5 min forward with nothing ahead (simulated): {ms:.0} ms (to t={:.0}s)",
        to.as_secs_f64()
    );
    let (mut back, mut ahead) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        back.push(jump(&mut h, Seek::Back(SimDuration::from_secs(300))).0);
        ahead.push(jump(&mut h, Seek::Forward(SimDuration::from_secs(300))).0);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "rewind 5 min back, key to frame (from a checkpoint): median {:.1} ms over {rounds}; 5 min forward again (checkpoint ahead): {:.1} ms",
        median(&mut back),
        median(&mut ahead)
    );
    let run = h.frames.borrow().run.clone();
    println!(
        "checkpoints kept at 6 min: {} (one every {})",
        run.checkpoints.0, run.checkpoints.1
    );
    let _ = h.shutdown();
}
