//! The labs the event-rate benches run (`#[path]`-included by each).

use lblab::spec::Lab;

/// The source design's scenario: the classic lab without its chaos
/// timeline, so every run does the same work.
pub fn classic() -> Lab {
    let mut lab = lblab::lab::builtin("classic").expect("the classic lab loads");
    lab.timeline.clear();
    lab
}

/// Classic grown to 100 000 clients on 100 servers with room for them: the
/// same traffic per client, a thousand times the state.
pub fn hundred_thousand_clients() -> Lab {
    let mut lab = classic();
    if let Some(closed) = lab.clients.closed.as_mut() {
        closed.population = 100_000;
    }
    let text = r#"Replicate(count: 100, template: (name: "srv", max_half_open: 10000,
        backlog: 10000, max_connections: 100000))"#;
    lab.servers = ron::from_str(text).expect("a server list");
    lab
}
