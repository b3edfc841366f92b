//! The World's own books against the slow truth: client counts kept as
//! clients move against a scan of every client, and packets of every flag
//! combination thrown at every machine in every state, each one used,
//! dropped with a reason, or still in flight.

use super::{Dest, World};
use crate::model::{Flags, FourTuple, Packet, SimDuration, SimTime};
use crate::sim::addressing::VIP;
use crate::sim::client::TcpState;
use crate::spec::{Command, DropReason, Lab};

fn lab(text: &str) -> Lab {
    match ron::from_str(text) {
        Ok(lab) => lab,
        Err(e) => panic!("test lab does not parse: {e}\n{text}"),
    }
}

fn at(ms: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis(ms)
}

/// Labs whose clients come and go in every way there is: closed clients
/// that loop and retire, open arrivals that reuse slots, attack
/// connections that reuse them too, kills.
fn churning_labs() -> Vec<Lab> {
    vec![
        lab(
            r#"(name: "closed", servers: Replicate(count: 3, template: (name: "srv", max_connections: 40)),
            clients: (closed: Some((population: 60, segments: Uniform(1, 8), gap: Exponential("3ms"),
                                    think: Exponential("20ms"), connections: Some(5)))))"#,
        ),
        lab(
            r#"(name: "open-and-attacks", servers: Replicate(count: 2, template: (name: "srv")),
            network: (client_link: (delay: "1ms", loss: 0.05)),
            clients: (closed: None, open: Some((rate: 400.0, segments: Constant(3))),
                      floods: [(kind: ConnectionFlood, rate: 50.0, sources: 10, duration: Some("1s")),
                               (kind: SlowSenders, rate: 20.0, sources: 10, start: "500ms")]))"#,
        ),
    ]
}

#[test]
fn client_books_agree_with_a_scan_of_every_client() {
    for lab in churning_labs() {
        for seed in 1..=3u64 {
            let mut w = World::new(&lab, seed);
            w.schedule(at(300), Command::KillRandomClient);
            w.schedule(at(400), Command::KillRandomServer);
            w.schedule(at(600), Command::SetPopulation(20));
            w.schedule(at(900), Command::SetPopulation(80));
            w.schedule(at(1200), Command::KillClient(3));
            let mut checked = 0;
            while w.now() < at(2500) && w.step() {
                if w.events.is_multiple_of(97) {
                    let (kept, scanned) = (w.client_counts(), w.client_counts_by_scan());
                    assert_eq!(kept, scanned, "lab {} seed {seed} at {}", lab.name, w.now());
                    checked += 1;
                }
            }
            assert!(
                checked > 50,
                "lab {} seed {seed}: {checked} checks",
                lab.name
            );
            let c = w.client_counts();
            assert_eq!(c, w.client_counts_by_scan(), "lab {} seed {seed}", lab.name);
        }
    }
}

/// Every flag combination with a few sequence numbers, on `key`.
fn every_packet(key: FourTuple, around: u32) -> impl Iterator<Item = Packet> {
    (0..64u8).flat_map(move |bits| {
        [
            0,
            around,
            around.wrapping_add(1),
            around.wrapping_add(70_000),
        ]
        .into_iter()
        .map(move |n| Packet {
            len: if bits % 4 == 0 { 512 } else { 0 },
            ..Packet::control(key, Flags::from_bits_truncate(bits), n, n)
        })
    })
}

/// Throws every flag combination at client `c` and at what it talks to:
/// as if the client sent it, as if the VIP answered, as if the balancer
/// forwarded it, as if the server answered.
fn throw_everything_at(w: &mut World, c: usize) {
    let client = &w.clients[c].tcp;
    let key = FourTuple::tcp(client.local, VIP);
    let around = u32::from(client.local.port);
    let s = (0..w.servers.len())
        .find(|&s| w.servers[s].established() > 0)
        .unwrap_or(0);
    let to_server = FourTuple::tcp(client.local, w.servers[s].endpoint);
    let packets: Vec<_> = every_packet(key, around).collect();
    for p in packets {
        w.send(Dest::Balancer, p);
        w.send(
            Dest::Client,
            Packet {
                key: key.reversed(),
                ..p
            },
        );
        w.send(
            Dest::Server(s as u32),
            Packet {
                key: to_server,
                ..p
            },
        );
        let back = to_server.reversed();
        w.send(Dest::BalancerFrom(s as u32), Packet { key: back, ..p });
    }
}

#[test]
fn every_packet_thrown_at_every_machine_is_used_dropped_or_in_flight() {
    let lab = lab(
        r#"(name: "busy", servers: Replicate(count: 2, template: (name: "srv")),
        clients: (closed: Some((population: 12, segments: Constant(6), gap: Constant("7ms"),
                                think: Constant("13ms"), connections: None))))"#,
    );
    let mut reasons = [0u64; DropReason::COUNT];
    for target in TcpState::ALL {
        let mut w = World::new(&lab, 5);
        w.run_until(at(50));
        // Find a client in the state to test, then throw everything at it.
        let c = loop {
            let found = (0..w.clients.len()).find(|&c| {
                w.clients[c].tcp.state == target && w.clients[c].meta.life == super::Life::Active
            });
            match found {
                Some(c) => break c,
                None => assert!(w.step() && w.now() < at(5_000), "no client in {target}"),
            }
        };
        throw_everything_at(&mut w, c);
        for checkpoint in [0, 1, 3, 200] {
            w.run_until(w.now() + SimDuration::from_millis(checkpoint));
            let links = w.links.iter().map(|l| l.stats);
            let (sent, delivered, in_flight) = links.fold((0, 0, 0), |(s, d, f), l| {
                (s + l.sent, d + l.delivered, f + l.in_flight)
            });
            let m = &w.metrics;
            let link_loss = m.drops[DropReason::LinkLoss.index()];
            assert_eq!(sent, delivered + in_flight + link_loss, "{target}");
            assert_eq!(
                delivered,
                m.consumed + m.drops_total() - link_loss,
                "{target}, {checkpoint} ms on: a delivered packet was neither used nor dropped"
            );
        }
        for (total, n) in reasons.iter_mut().zip(w.metrics.drops) {
            *total += n;
        }
    }
    // The thrown packets really were dropped for named reasons.
    for reason in [
        DropReason::Unexpected,
        DropReason::Duplicate,
        DropReason::RstOutOfWindow,
        DropReason::RstBadAck,
        DropReason::InvalidFlags,
        DropReason::NoConnEntry,
        DropReason::NoSocket,
    ] {
        assert!(reasons[reason.index()] > 0, "no {reason} drops");
    }
}
