//! What the balancer learns of each backend from the traffic it forwards:
//! outstanding requests, response times, failures, and what a change of
//! the backends in rotation does to a hashing algorithm's mapping.

use super::*;
use crate::model::Ip;
use crate::spec::{BalancerSpec, TableSize};

fn vip() -> Endpoint {
    Endpoint::new(Ip::new(192, 0, 2, 1), 80)
}

fn lb_with(algorithm: Algorithm, backends: u32) -> Balancer {
    let spec = BalancerSpec {
        algorithm,
        ..BalancerSpec::default()
    };
    let mut lb = Balancer::new(&spec, vip());
    for i in 0..backends {
        lb.add_backend(Endpoint::new(Ip::new(172, 16, 0, 1 + i as u8), 80), 1, 64);
    }
    lb
}

fn key(client: u8) -> FourTuple {
    FourTuple::tcp(Endpoint::new(Ip::new(10, 0, 0, client), 40000), vip())
}

/// Opens a connection from `client` to whatever backend the algorithm
/// picks, through the backend's SYN|ACK and the client's ACK; returns the
/// backend.
fn open(lb: &mut Balancer, client: u8, now: u64) -> u32 {
    let syn = Packet::control(key(client), Flags::SYN, 100, 0);
    let Forward::ToBackend { backend, .. } = lb.from_client(&syn, SimTime(now), &mut 7) else {
        panic!("SYN dropped")
    };
    let synack = Packet::control(
        FourTuple::tcp(lb.backends[backend as usize].endpoint, key(client).src),
        Flags::SYN | Flags::ACK,
        5000,
        101,
    );
    lb.from_backend(backend, &synack, SimTime(now + 1));
    let ack = Packet::control(key(client), Flags::ACK, 101, 5001);
    lb.from_client(&ack, SimTime(now + 2), &mut 7);
    backend
}

fn data(client: u8, seq: u32, len: u32) -> Packet {
    Packet {
        len,
        ..Packet::control(key(client), Flags::ACK | Flags::PSH, seq, 5001)
    }
}

fn ack_from(lb: &Balancer, b: u32, client: u8, ack: u32) -> Packet {
    Packet::control(
        FourTuple::tcp(lb.backends[b as usize].endpoint, key(client).src),
        Flags::ACK,
        5001,
        ack,
    )
}

/// Runs the idle timer of `slot` from `due` until it stops rechecking.
fn expire(lb: &mut Balancer, slot: u32, mut due: SimTime) -> IdleCheck {
    loop {
        let generation = lb.table.generation(slot);
        match lb.on_idle_timer(slot, generation, due) {
            IdleCheck::Recheck(next) => due = next,
            done => return done,
        }
    }
}

#[test]
fn a_request_is_outstanding_until_the_backend_acknowledges_all_of_it() {
    let mut lb = lb_with(Algorithm::LeastRequests, 2);
    let b = open(&mut lb, 1, 0);
    lb.from_client(&data(1, 101, 1000), SimTime(1_000), &mut 7);
    assert_eq!(lb.views[b as usize].outstanding, 1);
    // A retransmission of the same bytes is the same request.
    lb.from_client(&data(1, 101, 1000), SimTime(2_000), &mut 7);
    assert_eq!(lb.views[b as usize].outstanding, 1);
    // An acknowledgement of part of it does not answer it.
    lb.from_backend(b, &ack_from(&lb, b, 1, 601), SimTime(3_000));
    assert_eq!(lb.views[b as usize].outstanding, 1);
    assert_eq!(lb.views[b as usize].latency_ns, 0.0);
    lb.from_backend(b, &ack_from(&lb, b, 1, 1101), SimTime(11_000));
    assert_eq!(lb.views[b as usize].outstanding, 0);
    // Timed from the first transmission: the client waited all of it.
    assert_eq!(lb.views[b as usize].latency_ns, 10_000.0);
    assert_eq!(lb.views[b as usize].error_rate, 0.0);
}

#[test]
fn a_forgotten_entry_takes_its_outstanding_request_with_it() {
    let mut lb = lb_with(Algorithm::LeastRequests, 1);
    open(&mut lb, 1, 0);
    lb.from_client(&data(1, 101, 1000), SimTime(1_000), &mut 7);
    assert_eq!(lb.views[0].outstanding, 1);
    let rst = Packet::control(key(1), Flags::RST, 1101, 0);
    lb.from_client(&rst, SimTime(2_000), &mut 7);
    assert_eq!(lb.table_len(), 0);
    assert_eq!(lb.views[0].outstanding, 0);
}

#[test]
fn least_requests_sends_new_flows_past_a_backend_with_work_waiting() {
    let mut lb = lb_with(Algorithm::LeastRequests, 2);
    let first = open(&mut lb, 1, 0);
    lb.from_client(&data(1, 101, 1000), SimTime(1_000), &mut 7);
    // The other backend has as many connections (none busy): it wins.
    for client in 2..10 {
        let b = open(&mut lb, client, 2_000 + u64::from(client));
        assert_ne!(b, first, "client {client}");
        // Close it again so connection counts stay even.
        let rst = Packet::control(key(client), Flags::RST, 101, 0);
        lb.from_client(&rst, SimTime(3_000), &mut 7);
    }
}

#[test]
fn a_backend_reset_counts_as_a_failure_and_an_unanswered_syn_too() {
    let mut lb = lb_with(Algorithm::RoundRobin, 1);
    let b = open(&mut lb, 1, 0);
    let rst = Packet::control(
        FourTuple::tcp(lb.backends[0].endpoint, key(1).src),
        Flags::RST,
        5001,
        0,
    );
    lb.from_backend(b, &rst, SimTime(10));
    let after_reset = lb.views[0].error_rate;
    assert!((after_reset - 1.0 / 16.0).abs() < 1e-6, "{after_reset}");
    // A SYN no one answers expires half-open: a failed connect.
    let syn = Packet::control(key(2), Flags::SYN, 100, 0);
    let Forward::ToBackend {
        new_entry: Some((slot, due)),
        ..
    } = lb.from_client(&syn, SimTime(20), &mut 7)
    else {
        panic!("SYN dropped")
    };
    assert_eq!(expire(&mut lb, slot, due), IdleCheck::Expired);
    assert!(lb.views[0].error_rate > after_reset);
}

#[test]
fn a_spoofed_syn_the_backend_answered_says_nothing_against_it() {
    let mut lb = lb_with(Algorithm::RoundRobin, 1);
    let syn = Packet::control(key(3), Flags::SYN, 100, 0);
    let Forward::ToBackend {
        new_entry: Some((slot, due)),
        ..
    } = lb.from_client(&syn, SimTime(0), &mut 7)
    else {
        panic!("SYN dropped")
    };
    let synack = Packet::control(
        FourTuple::tcp(lb.backends[0].endpoint, key(3).src),
        Flags::SYN | Flags::ACK,
        5000,
        101,
    );
    lb.from_backend(0, &synack, SimTime(1));
    assert_eq!(expire(&mut lb, slot, due), IdleCheck::Expired);
    assert_eq!(lb.views[0].error_rate, 0.0);
}

#[test]
fn a_backend_going_down_under_maglev_moves_about_its_share_of_keys() {
    let algorithm = Algorithm::Maglev {
        table_size: TableSize::new(4099).expect("prime"),
    };
    let mut lb = lb_with(algorithm, 10);
    let flows: Vec<u32> = (1..=40).map(|c| open(&mut lb, c, 0)).collect();
    let on_5 = flows.iter().filter(|&&b| b == 5).count();
    lb.remove_backend(5);
    let d = lb.take_disruption().expect("measured");
    let share = d.keys.share();
    assert!((share - 0.1).abs() < 0.02, "{share}");
    // The flows that move are exactly those of the backend that left.
    assert_eq!(d.flows.total, 40);
    assert_eq!(d.flows.moved, on_5);
    assert!(lb.take_disruption().is_none(), "taken once");
}

#[test]
fn source_hash_moves_most_keys_and_round_robin_is_not_measured() {
    let mut lb = lb_with(Algorithm::SourceHash, 10);
    lb.set_draining(2, true);
    let share = lb.take_disruption().expect("measured").keys.share();
    assert!(share > 0.8, "{share}");
    // Only eligibility and weight are the rotation: draining again is no
    // change at all.
    lb.set_draining(2, true);
    assert!(lb.take_disruption().is_none());
    let mut rr = lb_with(Algorithm::RoundRobin, 10);
    rr.set_draining(2, true);
    assert!(rr.take_disruption().is_none());
}

#[test]
fn a_backend_back_up_starts_with_a_clean_record() {
    let mut lb = lb_with(
        Algorithm::Score {
            latency: crate::spec::Coefficient::ONE,
            connections: crate::spec::Coefficient::ONE,
            errors: crate::spec::Coefficient::ONE,
        },
        1,
    );
    lb.views[0].error_rate = 0.9;
    lb.views[0].latency_ns = 5e6;
    let (rise, fall) = (lb.health.rise.get(), lb.health.fall.get());
    for _ in 0..fall {
        lb.record_probe(0, false, None, SimTime(0));
    }
    assert!(!lb.views[0].healthy);
    for _ in 0..rise {
        lb.record_probe(0, true, None, SimTime(0));
    }
    assert!(lb.views[0].healthy);
    assert_eq!(lb.views[0].error_rate, 0.0);
    assert_eq!(lb.views[0].latency_ns, 0.0);
}
