//! Time to build and render one dashboard frame at 200×60 with 64 servers.

use criterion::{Criterion, criterion_group, criterion_main};
use lblab::live::{LiveFrame, Speed};
use lblab::model::{SimDuration, SimTime};
use lblab::sim::World;
use lblab::spec::Command;
use lblab::tui::app::App;
use lblab::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;

fn frame(c: &mut Criterion) {
    let text = r#"(name: "wide", servers: Replicate(count: 64, template: (name: "srv")),
        clients: (closed: Some((population: 2000, segments: Constant(20), gap: Constant("50ms"), connections: None))))"#;
    let lab = match lblab::lab::load_str(text, "<bench>") {
        Ok(lab) => lab,
        Err(e) => panic!("{e}"),
    };
    let mut world = World::new(&lab, 1);
    world.run_until(SimTime::ZERO + SimDuration::from_secs(30));
    world.apply(Command::KillServer("srv-7".into()));
    world.apply(Command::StartFlood(Default::default()));
    world.run_until(SimTime::ZERO + SimDuration::from_secs(150));
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test terminal");
    c.bench_function("frame_200x60_64_servers", |b| {
        b.iter(|| {
            // A frame as the dashboard makes one: take the World's snapshot,
            // then lay out and draw every region.
            let app = App::new(
                Arc::new(LiveFrame::still(&world, world.lab(), Speed::Factor(1.0))),
                false,
            );
            terminal.draw(|f| view::draw(f, &app)).expect("draw");
        })
    });
    let app = App::new(
        Arc::new(LiveFrame::still(&world, world.lab(), Speed::Factor(1.0))),
        false,
    );
    c.bench_function("draw_only_200x60_64_servers", |b| {
        b.iter(|| {
            terminal.draw(|f| view::draw(f, &app)).expect("draw");
        })
    });
}

criterion_group!(benches, frame);
criterion_main!(benches);
