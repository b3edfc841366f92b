//! A spoofed flood of 1 000 000 SYN/s against ten servers with 100 real
//! clients, run headless for 10 s of simulated time, with SYN cookies off
//! and always on: prints simulated seconds per wall second (at least 1
//! means the runner keeps up with real time).
//!
//! Run with `cargo bench --bench flood`.

use lblab::headless;
use lblab::sim::World;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (rate, secs) = if full {
        (1_000_000.0, 10)
    } else {
        (10_000.0, 2)
    };
    for mode in ["Off", "Always"] {
        let text = format!(
            r#"(name: "flood", duration: Some("{secs}s"),
            balancer: (defences: (syn_cookies: {mode})),
            servers: Replicate(count: 10, template: (name: "srv")),
            clients: (closed: Some((population: 100, segments: Constant(50), gap: Constant("10ms"), connections: None)),
                      floods: [(rate: {rate}, sources: 100000)]))"#
        );
        let lab = match lblab::lab::load_str(&text, "<flood bench>") {
            Ok(lab) => lab,
            Err(e) => panic!("{e}"),
        };
        let (report, _) = match headless::run(World::maker(), &lab, 1, None, &[]) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        let wall = report.wall.map_or(0.0, |w| w.seconds);
        println!(
            "{rate} SYN/s, cookies {mode:<6}: {secs} s simulated in {wall:.2} s wall = {:.1}x real time, \
             {:.1}M events/s, real clients' success {}",
            secs as f64 / wall,
            report.wall.map_or(0.0, |w| w.events_per_sec) / 1e6,
            report
                .totals
                .success_pct
                .map_or("–".to_string(), |p| format!("{p:.1}%"))
        );
    }
}
