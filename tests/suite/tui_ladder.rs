//! The connection inspector: `i` on a server picks the client behind its
//! last pick, the World keeps that client's packets on both sides of the
//! balancer, and the ladder draws them time going down, a server's death
//! showing as segments sent again.

use crate::common;

use common::at;
use common::dashboard::{app, commands, press};
use lblab::sim::World;
use lblab::spec::{Command, Inspect};
use lblab::tui::app::Overlay;
use lblab::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The ladder popup alone, drawn at 120×40: 118 columns wide and as
/// tall as its packets and five more rows, centred, within the screen.
fn ladder_region(a: &lblab::tui::app::App) -> String {
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("test terminal");
    t.draw(|f| view::draw(f, a)).expect("draw");
    let buffer = t.backend().buffer();
    let packets = a
        .frame
        .snapshot
        .inspected
        .as_ref()
        .map_or(0, |i| i.packets.len());
    let height = (packets as u16 + 5).min(40);
    let top = (40 - height) / 2;
    (top..top + height)
        .map(|y| {
            let line: String = (1..119)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            format!("{}\n", line.trim_end())
        })
        .collect()
}

#[test]
fn ladder_shows_a_handshake_and_a_retransmission_after_a_kill() {
    let lab = lblab::lab::builtin("classic").expect("classic loads");
    let mut w = World::new(&lab, 1);
    w.run_until(at(0.05));

    // srv-1 (selected) has had its first connections: i inspects the
    // client of its newest pick and opens the ladder.
    let mut a = app(&w);
    let sent = commands(&press(&mut a, "i"));
    assert_eq!(
        sent,
        vec![Command::Inspect(Inspect::LastPickOf("srv-1".into()))]
    );
    assert_eq!(a.overlay, Overlay::Ladder);
    for c in sent {
        w.apply(c);
    }
    let chosen = w.snapshot().inspected.expect("a client is inspected");
    let client = chosen.client.expect("a client of the lab, not a flood");
    let log = w.snapshot().log;
    let said = format!("inspect client {client} (srv-1's last pick)");
    assert!(log.iter().any(|e| e.text.contains(&said)), "{log:?}");

    // srv-1 dies at 1.5 s: its client's segment goes unanswered and is
    // sent again after the 700 ms segment timeout.
    w.run_until(at(1.5));
    w.apply(Command::KillServer("srv-1".into()));
    w.run_until(at(3.0));
    let inspected = w.snapshot().inspected.expect("still inspected");
    assert_eq!(
        inspected.packets.len(),
        lblab::sim::WATCH_PACKETS,
        "bounded"
    );
    let mut a = app(&w);
    a.overlay = Overlay::Ladder;
    let text = ladder_region(&a);
    let title = format!("packets of client {client} ({})", chosen.address);
    assert!(text.contains(&title), "{text}");
    assert!(
        text.contains("again"),
        "a retransmission is marked:\n{text}"
    );
    insta::assert_snapshot!("ladder_after_a_kill", text);

    // Any key closes it.
    press(&mut a, "x");
    assert_eq!(a.overlay, Overlay::None);
}

#[test]
fn ladder_of_a_fresh_connection_starts_with_its_handshake() {
    let lab = lblab::lab::builtin("classic").expect("classic loads");
    let mut w = World::new(&lab, 1);
    // Client 0, watched from the start, connects somewhere in the first
    // second (classic spreads its clients' starts).
    w.apply(Command::Inspect(Inspect::Client(0)));
    let mut t = 0.0;
    while w.snapshot().inspected.is_none_or(|i| i.packets.len() < 6) && t < 2.0 {
        t += 0.001;
        w.run_until(at(t));
    }
    let mut a = app(&w);
    a.overlay = Overlay::Ladder;
    let text = ladder_region(&a);
    let rows: Vec<&str> = text.lines().filter(|l| l.contains("──")).skip(1).collect();
    // SYN to the VIP, SYN to the server, SYN|ACK back twice, then the ACK.
    let order = ["SYN ", "SYN ", "SYN|ACK", "SYN|ACK", "ACK "];
    assert!(rows.len() >= order.len(), "{text}");
    for (row, want) in rows.iter().zip(order) {
        assert!(row.contains(want), "{want} expected in {row}\n{text}");
    }
    assert!(
        rows[0].contains("──▶"),
        "the client's SYN goes right: {}",
        rows[0]
    );
    assert!(
        rows[2].contains("◀──"),
        "the server's answer comes back: {}",
        rows[2]
    );
    insta::assert_snapshot!("ladder_handshake", text);
}

#[test]
fn inspect_needs_a_server_with_a_pick() {
    // Before any client has connected, srv-1 has no pick to follow.
    let w = common::dashboard::world("classic", 0.0, &[]);
    let mut a = app(&w);
    assert!(commands(&press(&mut a, "i")).is_empty());
    assert_eq!(a.overlay, Overlay::None);
    let notice = a.notice.clone().unwrap_or_default();
    assert!(notice.contains("not been picked yet"), "{notice}");
    // The World refuses a client it does not have, and says so.
    let mut w = w;
    w.apply(Command::Inspect(Inspect::Client(100_000)));
    assert!(w.snapshot().inspected.is_none());
    let log = w.snapshot().log;
    assert!(
        log.iter()
            .any(|e| e.text.contains("there is no client 100000"))
    );
}
