//! The server state machine, transition by transition: `test_<state>_<event>`.

use super::*;
use crate::model::{FourTuple, Ip};
use crate::spec::Positive;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

fn server(spec: ServerSpec) -> (Server, Pcg64Mcg) {
    let ep = Endpoint::new(Ip::new(10, 1, 0, 1), 80);
    (Server::new(&spec, ep), Pcg64Mcg::seed_from_u64(1))
}

fn key(port: u16) -> FourTuple {
    FourTuple::tcp(
        Endpoint::new(Ip::new(10, 0, 0, 1), port),
        Endpoint::new(Ip::new(10, 1, 0, 1), 80),
    )
}

fn send(s: &mut Server, rng: &mut Pcg64Mcg, p: Packet) -> (Result<(), DropReason>, ServerOut) {
    let mut out = ServerOut::default();
    let r = s.on_packet(&p, SimTime::ZERO, rng, &mut out, None);
    (r, out)
}

/// Sends a packet the server must accept.
fn deliver(s: &mut Server, rng: &mut Pcg64Mcg, p: Packet) -> ServerOut {
    let (r, out) = send(s, rng, p);
    assert_eq!(r, Ok(()));
    out
}

fn syn(port: u16) -> Packet {
    Packet::control(key(port), Flags::SYN, 100, 0)
}

/// Opens a connection and returns the server's ISS.
fn handshake(s: &mut Server, rng: &mut Pcg64Mcg, port: u16) -> u32 {
    let (_, out) = send(s, rng, syn(port));
    let iss = out.packets[0].seq;
    deliver(s, rng, Packet::control(key(port), Flags::ACK, 101, iss + 1));
    iss
}

fn data(port: u16, seq: u32, iss: u32) -> Packet {
    Packet {
        len: 1024,
        ..Packet::control(key(port), Flags::PSH | Flags::ACK, seq, iss + 1)
    }
}

#[test]
fn test_listen_syn() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let (r, out) = send(&mut s, &mut rng, syn(1));
    assert_eq!(r, Ok(()));
    assert_eq!(out.packets[0].flags, Flags::SYN | Flags::ACK);
    assert_eq!(out.packets[0].ack, 101);
    assert_eq!(out.packets[0].key, key(1).reversed());
    assert_eq!(s.half_open(), 1);
}

#[test]
fn test_listen_syn_with_backlog_full() {
    let spec = ServerSpec {
        backlog: Positive::new_const(2),
        ..ServerSpec::default()
    };
    let (mut s, mut rng) = server(spec);
    deliver(&mut s, &mut rng, syn(1));
    deliver(&mut s, &mut rng, syn(2));
    let (r, out) = send(&mut s, &mut rng, syn(3));
    assert_eq!(r, Err(DropReason::BacklogFull));
    assert!(out.packets.is_empty());
}

#[test]
fn test_listen_syn_at_max_connections_is_refused() {
    let spec = ServerSpec {
        max_connections: Positive::new_const(1),
        ..ServerSpec::default()
    };
    let (mut s, mut rng) = server(spec);
    handshake(&mut s, &mut rng, 1);
    let (_, out) = send(&mut s, &mut rng, syn(2));
    assert!(out.packets[0].flags.contains(Flags::RST));
    assert_eq!(s.stats.refused, 1);
}

#[test]
fn test_listen_segment_for_unknown_connection_gets_rst() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let (_, out) = send(&mut s, &mut rng, data(9, 5, 0));
    assert_eq!(out.packets[0].flags, Flags::RST);
}

#[test]
fn test_syn_received_repeated_syn() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let (_, first) = send(&mut s, &mut rng, syn(1));
    let (_, again) = send(&mut s, &mut rng, syn(1));
    assert_eq!(again.packets[0], first.packets[0]);
    assert_eq!(s.half_open(), 1);
}

#[test]
fn test_syn_received_ack() {
    let (mut s, mut rng) = server(ServerSpec::default());
    handshake(&mut s, &mut rng, 1);
    assert_eq!(s.half_open(), 0);
    assert_eq!(s.established(), 1);
    assert_eq!(s.stats.accepted, 1);
}

#[test]
fn test_syn_received_expires() {
    let (mut s, mut rng) = server(ServerSpec::default());
    deliver(&mut s, &mut rng, syn(1));
    s.sweep(SimTime::ZERO + SYN_RECEIVED_TIMEOUT);
    assert_eq!(s.half_open(), 0);
    assert_eq!(s.stats.half_open_expired, 1);
}

#[test]
fn test_established_segment_is_served_then_acked() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let iss = handshake(&mut s, &mut rng, 1);
    let (_, out) = send(&mut s, &mut rng, data(1, 101, iss));
    assert!(out.packets.is_empty(), "no ACK before service");
    let (service, job) = out.jobs[0];
    assert_eq!(service, SimDuration::from_micros(100));
    let mut done = ServerOut::default();
    let ack = s.on_service_done(&job, &mut done).expect("an ACK");
    assert_eq!(ack.flags, Flags::ACK);
    assert_eq!(ack.ack, 101 + 1024);
    assert_eq!(s.stats.segments_served, 1);
}

#[test]
fn test_established_segments_queue_fifo_behind_busy_workers() {
    let spec = ServerSpec {
        workers: Positive::new_const(1),
        ..ServerSpec::default()
    };
    let (mut s, mut rng) = server(spec);
    let a = handshake(&mut s, &mut rng, 1);
    let b = handshake(&mut s, &mut rng, 2);
    let (_, first) = send(&mut s, &mut rng, data(1, 101, a));
    let (_, second) = send(&mut s, &mut rng, data(2, 101, b));
    assert_eq!(first.jobs.len(), 1);
    assert!(second.jobs.is_empty());
    assert_eq!(s.queued(), 1);
    let mut out = ServerOut::default();
    let first_ack = s.on_service_done(&first.jobs[0].1, &mut out);
    assert_eq!(
        first_ack.map(|p| p.key),
        Some(key(1).reversed()),
        "the first is acked"
    );
    let next = out.jobs[0].1;
    let mut done = ServerOut::default();
    let next_ack = s.on_service_done(&next, &mut done);
    assert_eq!(
        next_ack.map(|p| p.key),
        Some(key(2).reversed()),
        "the queued segment was served next"
    );
}

#[test]
fn test_established_retransmitted_segment_is_acked_again() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let iss = handshake(&mut s, &mut rng, 1);
    let (_, out) = send(&mut s, &mut rng, data(1, 101, iss));
    // While in service, a retransmission is dropped as a duplicate.
    let (fate, dup) = send(&mut s, &mut rng, data(1, 101, iss));
    assert_eq!(fate, Err(DropReason::Duplicate));
    assert!(dup.packets.is_empty() && dup.jobs.is_empty());
    s.on_service_done(&out.jobs[0].1, &mut ServerOut::default());
    // After service, it is acknowledged without serving it again.
    let (_, again) = send(&mut s, &mut rng, data(1, 101, iss));
    assert_eq!(again.packets[0].ack, 101 + 1024);
    assert!(again.jobs.is_empty());
}

#[test]
fn test_established_fin() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let iss = handshake(&mut s, &mut rng, 1);
    let fin = Packet::control(key(1), Flags::FIN | Flags::ACK, 101, iss + 1);
    let (_, out) = send(&mut s, &mut rng, fin);
    assert_eq!(out.packets[0].flags, Flags::FIN | Flags::ACK);
    assert_eq!(out.packets[0].ack, 102);
    // The FIN|ACK is repeated if the FIN is.
    let (_, again) = send(&mut s, &mut rng, fin);
    assert_eq!(again.packets[0], out.packets[0]);
}

#[test]
fn test_last_ack_ack() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let iss = handshake(&mut s, &mut rng, 1);
    deliver(
        &mut s,
        &mut rng,
        Packet::control(key(1), Flags::FIN | Flags::ACK, 101, iss + 1),
    );
    deliver(
        &mut s,
        &mut rng,
        Packet::control(key(1), Flags::ACK, 102, iss + 2),
    );
    assert_eq!(s.established(), 0);
}

#[test]
fn test_last_ack_syn_with_a_new_sequence_number_opens_a_new_connection() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let iss = handshake(&mut s, &mut rng, 1);
    // The client's last ACK was lost; the port comes round again.
    deliver(
        &mut s,
        &mut rng,
        Packet::control(key(1), Flags::FIN | Flags::ACK, 101, iss + 1),
    );
    let out = deliver(
        &mut s,
        &mut rng,
        Packet::control(key(1), Flags::SYN, 9_000, 0),
    );
    assert_eq!(out.packets[0].flags, Flags::SYN | Flags::ACK);
    assert_eq!(out.packets[0].ack, 9_001);
    assert_eq!((s.half_open(), s.established()), (1, 0));
}

#[test]
fn test_last_ack_expires() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let iss = handshake(&mut s, &mut rng, 1);
    deliver(
        &mut s,
        &mut rng,
        Packet::control(key(1), Flags::FIN | Flags::ACK, 101, iss + 1),
    );
    s.sweep(SimTime::ZERO + SYN_RECEIVED_TIMEOUT);
    assert_eq!(s.established(), 0);
}

#[test]
fn test_listen_syn_counts_half_open_against_max_connections() {
    let spec = ServerSpec {
        max_connections: Positive::new_const(2),
        ..ServerSpec::default()
    };
    let (mut s, mut rng) = server(spec);
    deliver(&mut s, &mut rng, syn(1));
    deliver(&mut s, &mut rng, syn(2));
    let out = deliver(&mut s, &mut rng, syn(3));
    assert!(out.packets[0].flags.contains(Flags::RST));
}

#[test]
fn test_established_rst() {
    let (mut s, mut rng) = server(ServerSpec::default());
    handshake(&mut s, &mut rng, 1);
    deliver(
        &mut s,
        &mut rng,
        Packet::control(key(1), Flags::RST, 101, 0),
    );
    assert_eq!(s.established(), 0);
}

#[test]
fn test_killed_drops_everything_and_revives_clean() {
    let (mut s, mut rng) = server(ServerSpec::default());
    handshake(&mut s, &mut rng, 1);
    s.kill();
    let (r, out) = send(&mut s, &mut rng, syn(2));
    assert_eq!(r, Err(DropReason::ServerDown));
    assert!(out.packets.is_empty());
    let mut probe = ServerOut::default();
    assert_eq!(s.on_probe(&syn(3), &mut probe), Err(DropReason::ServerDown));
    s.revive();
    assert_eq!(s.established(), 0);
    let (r, _) = send(&mut s, &mut rng, syn(2));
    assert_eq!(r, Ok(()));
}

#[test]
fn test_established_rst_in_and_out_of_window() {
    let (mut s, mut rng) = server(ServerSpec::default());
    handshake(&mut s, &mut rng, 1);
    let rst = |seq| Packet::control(key(1), Flags::RST, seq, 0);
    assert_eq!(
        send(&mut s, &mut rng, rst(5)).0,
        Err(DropReason::RstOutOfWindow)
    );
    assert_eq!(s.established(), 1);
    // In the window but not exact: a challenge ACK, the connection stays.
    let out = deliver(&mut s, &mut rng, rst(101 + 10));
    assert_eq!(out.packets[0].flags, Flags::ACK);
    assert_eq!(s.established(), 1);
    deliver(&mut s, &mut rng, rst(101));
    assert_eq!(s.established(), 0);
}

#[test]
fn test_listen_rst_is_dropped_unanswered() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let (fate, out) = send(&mut s, &mut rng, Packet::control(key(1), Flags::RST, 1, 0));
    assert_eq!(fate, Err(DropReason::NoSocket));
    assert!(out.packets.is_empty());
}

#[test]
fn test_last_ack_needs_the_ack_of_our_fin() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let iss = handshake(&mut s, &mut rng, 1);
    deliver(
        &mut s,
        &mut rng,
        Packet::control(key(1), Flags::FIN | Flags::ACK, 101, iss + 1),
    );
    let early = Packet::control(key(1), Flags::ACK, 102, iss + 1);
    assert_eq!(send(&mut s, &mut rng, early).0, Err(DropReason::Duplicate));
    assert_eq!(s.established(), 1);
}

#[test]
fn every_flag_combination_in_every_state_is_used_or_dropped_with_a_reason() {
    // A server step answers a packet, keeps it, or drops it with a reason;
    // a dropped packet is never answered, and the counts stay true.
    type Stage = fn(&mut Server, &mut Pcg64Mcg);
    let stages: [(&str, Stage); 4] = [
        ("LISTEN", |_, _| {}),
        ("SYN-RECEIVED", |s, rng| {
            deliver(s, rng, syn(1));
        }),
        ("ESTABLISHED", |s, rng| {
            handshake(s, rng, 1);
        }),
        ("LAST-ACK", |s, rng| {
            let iss = handshake(s, rng, 1);
            let fin = Packet::control(key(1), Flags::FIN | Flags::ACK, 101, iss + 1);
            deliver(s, rng, fin);
        }),
    ];
    let mut dropped = 0;
    for (name, stage) in stages {
        for bits in 0..64u8 {
            for (seq, ack) in [(100, 0), (101, 0), (101, 1), (7, 7), (102, 2)] {
                let (mut s, mut rng) = server(ServerSpec::default());
                stage(&mut s, &mut rng);
                let flags = Flags::from_bits_truncate(bits);
                let p = Packet {
                    len: if bits % 3 == 0 { 100 } else { 0 },
                    ..Packet::control(key(1), flags, seq, ack)
                };
                let (fate, out) = send(&mut s, &mut rng, p);
                if fate.is_err() {
                    dropped += 1;
                    assert!(
                        out.packets.is_empty(),
                        "{name}: {flags} dropped yet answered"
                    );
                }
                assert!(s.half_open() + s.established() <= 1, "{name}: {flags}");
            }
        }
    }
    assert!(dropped > 0);
}

#[test]
fn a_stale_hint_never_finds_another_connection() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let iss1 = handshake(&mut s, &mut rng, 1);
    handshake(&mut s, &mut rng, 2);
    let slot1 = s.conns.find(&key(1).src, None);
    let slot2 = s.conns.find(&key(2).src, None);
    assert!(slot1.is_some() && slot1 != slot2);
    // A hint naming port 2's slot, for port 1's packet: the index decides.
    assert_eq!(s.conns.find(&key(1).src, slot2), slot1);
    // And the packet lands on port 1's connection, not port 2's.
    let mut out = ServerOut::default();
    let fate = s.on_packet(
        &data(1, 101, iss1),
        SimTime::ZERO,
        &mut rng,
        &mut out,
        slot2,
    );
    assert_eq!(fate, Ok(()));
    assert_eq!(out.slot, slot1);
}

#[test]
fn a_packet_for_another_address_finds_no_socket() {
    let (mut s, mut rng) = server(ServerSpec::default());
    let iss = handshake(&mut s, &mut rng, 1);
    // The connection's client end, but another server's address.
    let mut p = data(1, 101, iss);
    p.key.dst = Endpoint::new(Ip::new(10, 1, 0, 2), 80);
    let (fate, out) = send(&mut s, &mut rng, p);
    assert_eq!(fate, Err(DropReason::NoSocket));
    assert!(out.packets.is_empty() && out.jobs.is_empty());
    // The connection itself is untouched: its data is still served.
    let out = deliver(&mut s, &mut rng, data(1, 101, iss));
    assert_eq!(out.jobs.len(), 1);
}
