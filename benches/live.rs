//! Two figures of the live dashboard, printed:
//!
//! - simulated events per second while frames are drawn at 30 fps, against
//!   the same lab headless (target: at least 0.8 of headless);
//! - time from a key's Control to the drawn frame that shows its effect
//!   (target: within one frame at 30 fps, 33 ms).
//!
//! Run with `cargo bench --bench live`.

use lblab::live::{self, Control, Speed};
use lblab::model::SimTime;
use lblab::sim::World;
use lblab::spec::Command;
use lblab::tui::app::App;
use lblab::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

/// The classic lab with clients that never stop, so the mix of events
/// stays the same however long a run lasts.
fn classic() -> lblab::spec::Lab {
    let mut lab = lblab::lab::builtin("classic").expect("the classic lab loads");
    lab.timeline.clear();
    if let Some(closed) = lab.clients.closed.as_mut() {
        closed.connections = None;
    }
    lab
}

/// Events per wall second of the World alone, over the first `secs` of
/// simulated time.
fn headless_rate(until: SimTime) -> f64 {
    let mut w = World::new(&classic(), 1);
    let start = Instant::now();
    w.run_until(until);
    w.events_processed() as f64 / start.elapsed().as_secs_f64()
}

/// Events per wall second while the driver runs at full speed and this
/// thread draws a 160×48 frame every 33 ms, for `wall`.
fn live_rate(wall: Duration) -> (f64, u64, SimTime) {
    let mut handle = live::spawn(World::maker(), classic(), 1, Speed::Max, false);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test terminal");
    let start = Instant::now();
    let mut frames = 0;
    let mut app = App::new(handle.frames.borrow_and_update().clone(), false);
    while start.elapsed() < wall {
        app.set_frame(handle.frames.borrow_and_update().clone());
        terminal.draw(|f| view::draw(f, &app)).expect("draw");
        frames += 1;
        let next = Duration::from_nanos(33_333_333 * frames);
        if let Some(rest) = next.checked_sub(start.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (events, now) = {
        let f = handle.frames.borrow();
        (f.snapshot.events, f.snapshot.now)
    };
    handle.shutdown();
    (events as f64 / elapsed, frames, now)
}

/// Key-to-frame latencies: send a Control, wait for the frame that shows
/// it, draw that frame.
fn key_to_frame(samples: usize) -> Vec<Duration> {
    let mut handle = live::spawn(World::maker(), classic(), 1, Speed::Factor(1.0), false);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test terminal");
    let mut app = App::new(handle.frames.borrow_and_update().clone(), false);
    let mut sent = 0;
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        // Alternate weights so every key really changes something.
        let weight = 1 + (i % 2) as u32;
        let start = Instant::now();
        let _ = handle
            .controls
            .send(Control::Apply(Command::SetWeight("srv-1".into(), weight)));
        sent += 1;
        loop {
            let frame = handle.frames.borrow_and_update().clone();
            if frame.applied >= sent {
                app.set_frame(frame);
                break;
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        terminal.draw(|f| view::draw(f, &app)).expect("draw");
        out.push(start.elapsed());
        assert_eq!(app.frame.snapshot.servers[0].weight, weight);
        std::thread::sleep(Duration::from_millis(7));
    }
    handle.shutdown();
    out
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let wall = if full {
        Duration::from_secs(5)
    } else {
        Duration::from_millis(500)
    };
    let (live, frames, reached) = live_rate(wall);
    // Headless over the same stretch of simulated time the live run covered.
    let headless = headless_rate(reached);
    println!(
        "headless                 {:.2}M events/s ({reached} simulated)",
        headless / 1e6
    );
    println!(
        "live, drawing at 30 fps  {:.2}M events/s ({frames} frames drawn)",
        live / 1e6
    );
    println!("live / headless          {:.2}", live / headless);
    let mut lat = key_to_frame(if full { 300 } else { 20 });
    lat.sort();
    let q = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize];
    println!(
        "key to frame             p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        q(0.5).as_secs_f64() * 1e3,
        q(0.99).as_secs_f64() * 1e3,
        lat[lat.len() - 1].as_secs_f64() * 1e3
    );
}
