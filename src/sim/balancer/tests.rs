//! The balancer decision by decision: entries, rewriting, admission,
//! idle timers, resets and defences.

use super::*;
use crate::model::Ip;
use crate::spec::{Algorithm, BalancerSpec};

fn vip() -> Endpoint {
    Endpoint::new(Ip::new(192, 0, 2, 1), 80)
}

fn lb(backends: u32) -> Balancer {
    let mut lb = Balancer::new(&BalancerSpec::default(), vip());
    for i in 0..backends {
        lb.add_backend(Endpoint::new(Ip::new(172, 16, 0, 1 + i as u8), 80), 1, 2);
    }
    lb
}

fn client(port: u16) -> Endpoint {
    Endpoint::new(Ip::new(10, 0, 0, 1), port)
}

fn from(port: u16, flags: Flags) -> Packet {
    Packet::control(FourTuple::tcp(client(port), vip()), flags, 1, 1)
}

fn reply(lb: &Balancer, b: usize, port: u16, flags: Flags) -> Packet {
    Packet::control(
        FourTuple::tcp(lb.backends[b].endpoint, client(port)),
        flags,
        1,
        1,
    )
}

#[test]
fn syn_gets_an_entry_and_a_rewritten_destination() {
    let mut lb = lb(2);
    let Forward::ToBackend {
        backend,
        packet,
        new_entry,
    } = lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0)
    else {
        panic!("dropped")
    };
    assert_eq!(backend, 0);
    assert_eq!(packet.key.dst, lb.backends[0].endpoint);
    assert_eq!(packet.key.src, client(1));
    assert_eq!(new_entry.map(|e| e.1), Some(SimTime(0) + lb.idle.half_open));
    assert_eq!(lb.views[0].half_open, 1);
    assert_eq!(lb.table_len(), 1);
}

#[test]
fn later_packets_follow_their_entry_and_replies_come_from_the_vip() {
    let mut lb = lb(3);
    lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0);
    lb.from_client(&from(2, Flags::SYN), SimTime(0), &mut 0);
    let Forward::ToBackend { backend, .. } =
        lb.from_client(&from(1, Flags::ACK), SimTime(1), &mut 0)
    else {
        panic!("dropped")
    };
    assert_eq!(backend, 0, "the flow sticks to its backend");
    assert_eq!(lb.views[0].active, 1);
    assert_eq!(lb.views[0].half_open, 0);
    let Backward::ToClient(out) =
        lb.from_backend(1, &reply(&lb, 1, 2, Flags::SYN | Flags::ACK), SimTime(2))
    else {
        panic!("not forwarded to the client")
    };
    assert_eq!(out.key.src, vip());
    assert_eq!(out.key.dst, client(2));
}

#[test]
fn a_syn_reusing_a_closing_flow_starts_a_new_entry() {
    let mut lb = lb(2);
    lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0);
    lb.from_client(&from(1, Flags::ACK), SimTime(1), &mut 0);
    lb.from_client(&from(1, Flags::FIN | Flags::ACK), SimTime(2), &mut 0);
    let again = lb.from_client(&from(1, Flags::SYN), SimTime(3), &mut 0);
    let Forward::ToBackend {
        backend, new_entry, ..
    } = again
    else {
        panic!("dropped")
    };
    assert!(new_entry.is_some());
    assert_eq!(backend, 1, "round robin moves on");
    assert_eq!((lb.views[0].active, lb.views[1].half_open), (0, 1));
    assert_eq!(lb.table_len(), 1);
}

#[test]
fn reply_from_the_wrong_backend_is_dropped() {
    let mut lb = lb(2);
    lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0);
    let r = lb.from_backend(1, &reply(&lb, 1, 1, Flags::ACK), SimTime(1));
    assert_eq!(r, Backward::Drop(DropReason::NoConnEntry));
}

#[test]
fn non_syn_without_entry_is_dropped() {
    let mut lb = lb(1);
    assert_eq!(
        lb.from_client(&from(1, Flags::ACK), SimTime(0), &mut 0),
        Forward::Drop(DropReason::NoConnEntry)
    );
}

#[test]
fn half_open_limit_drops_new_syns_for_that_backend() {
    let mut lb = lb(1);
    lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0);
    lb.from_client(&from(2, Flags::SYN), SimTime(0), &mut 0);
    assert_eq!(
        lb.from_client(&from(3, Flags::SYN), SimTime(0), &mut 0),
        Forward::Drop(DropReason::HalfOpenLimit)
    );
    // A retransmitted SYN of an admitted flow still passes.
    assert!(matches!(
        lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0),
        Forward::ToBackend { .. }
    ));
}

#[test]
fn no_healthy_backend_is_a_named_drop() {
    let mut lb = lb(1);
    lb.views[0].healthy = false;
    assert_eq!(
        lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0),
        Forward::Drop(DropReason::NoHealthyBackend)
    );
}

#[test]
fn all_weights_zero_under_weighted_round_robin_is_its_own_drop() {
    // Weight 0 means "no new connections" (HAProxy's meaning), so healthy
    // backends that all have it are a configuration, not a health failure.
    let mut lb = lb(2);
    lb.selector.set_algorithm(Algorithm::WeightedRoundRobin);
    for v in &mut lb.views {
        v.weight = 0;
    }
    assert_eq!(
        lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0),
        Forward::Drop(DropReason::NoWeightedBackend)
    );
    // Once none is healthy either, health is the reason.
    lb.views[0].healthy = false;
    lb.views[1].healthy = false;
    assert_eq!(
        lb.from_client(&from(2, Flags::SYN), SimTime(0), &mut 0),
        Forward::Drop(DropReason::NoHealthyBackend)
    );
    // One weight above zero takes the connection.
    lb.views[0].healthy = true;
    lb.views[0].weight = 1;
    assert!(matches!(
        lb.from_client(&from(3, Flags::SYN), SimTime(0), &mut 0),
        Forward::ToBackend { backend: 0, .. }
    ));
}

#[test]
fn full_close_removes_the_entry() {
    let mut lb = lb(1);
    lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0);
    lb.from_client(&from(1, Flags::ACK), SimTime(1), &mut 0);
    lb.from_client(&from(1, Flags::FIN | Flags::ACK), SimTime(2), &mut 0);
    let back = lb.from_backend(0, &reply(&lb, 0, 1, Flags::FIN | Flags::ACK), SimTime(3));
    assert!(matches!(back, Backward::ToClient(_)));
    assert_eq!(lb.table_len(), 1);
    lb.from_client(&from(1, Flags::ACK), SimTime(4), &mut 0);
    assert_eq!(lb.table_len(), 0);
    assert_eq!(lb.views[0].active, 0);
}

#[test]
fn idle_timer_rechecks_active_entries_and_expires_idle_ones() {
    let mut lb = lb(1);
    let Forward::ToBackend {
        new_entry: Some((slot, due)),
        ..
    } = lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0)
    else {
        panic!("no entry")
    };
    // Activity at 1 s pushes the deadline to 3 s.
    lb.from_client(&from(1, Flags::SYN), SimTime(1_000_000_000), &mut 0);
    let again = SimTime(3_000_000_000);
    assert_eq!(lb.on_idle_timer(slot, 0, due), IdleCheck::Recheck(again));
    assert_eq!(lb.on_idle_timer(slot, 0, due), IdleCheck::Stale);
    assert_eq!(lb.on_idle_timer(slot, 0, again), IdleCheck::Expired);
    assert_eq!(lb.table_len(), 0);
    assert_eq!(lb.views[0].half_open, 0);
    assert_eq!(lb.table.stats.half_open_expired, 1);
}

#[test]
fn reset_mode_resets_answered_clients_at_their_sequence_number_and_forgets_the_rest() {
    let mut lb = lb(2);
    lb.on_backend_down = OnBackendDown::Reset;
    // Round robin: ports 1 and 3 go to backend 0, 2 and 4 to backend 1.
    for port in 1..=4 {
        lb.from_client(&from(port, Flags::SYN), SimTime(0), &mut 0);
    }
    // Backend 0 answers port 1's SYN; port 3 is still waiting.
    let synack = Packet::control(
        FourTuple::tcp(lb.backends[0].endpoint, client(1)),
        Flags::SYN | Flags::ACK,
        70_000,
        2,
    );
    assert!(matches!(
        lb.from_backend(0, &synack, SimTime(1)),
        Backward::ToClient(_)
    ));
    let rsts = lb.backend_went_down(0);
    // Only the answered client is reset, at the sequence number it expects
    // and without an ACK, so a client still in SYN-SENT would drop it.
    assert_eq!(rsts.len(), 1);
    let rst = rsts[0];
    assert_eq!((rst.flags, rst.seq), (Flags::RST, 70_001));
    assert_eq!((rst.key.src, rst.key.dst), (vip(), client(1)));
    // Both of backend 0's entries are gone; port 3's next SYN is balanced
    // anew, to the backend still up.
    assert_eq!(lb.table_len(), 2);
    assert_eq!(lb.views[0].half_open, 0);
    lb.views[0].healthy = false;
    lb.backends[1].max_half_open = 10;
    let Forward::ToBackend { backend, .. } =
        lb.from_client(&from(3, Flags::SYN), SimTime(2), &mut 0)
    else {
        panic!("the retried SYN was dropped")
    };
    assert_eq!(backend, 1);
}

#[test]
fn timeout_mode_leaves_entries_alone() {
    let mut lb = lb(1);
    lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0);
    assert!(lb.backend_went_down(0).is_empty());
    assert_eq!(lb.table_len(), 1);
}

#[test]
fn impossible_flags_are_dropped_with_their_own_reason() {
    let mut lb = lb(1);
    for flags in [
        Flags::NONE,
        Flags::SYN | Flags::FIN,
        Flags::SYN | Flags::RST,
        Flags::FIN | Flags::RST,
    ] {
        assert_eq!(
            lb.from_client(&from(1, flags), SimTime(0), &mut 0),
            Forward::Drop(DropReason::InvalidFlags),
            "{flags}"
        );
    }
    lb.validate_packets = false;
    assert_eq!(
        lb.from_client(&from(1, Flags::SYN | Flags::FIN), SimTime(0), &mut 0),
        Forward::Drop(DropReason::NoConnEntry)
    );
}

#[test]
fn a_denied_source_never_takes_a_half_open_slot() {
    let mut lb = lb(1);
    let cidr = |s: &str| crate::model::Cidr::parse(s).unwrap();
    lb.filter = IpFilter::new(vec![cidr("10.0.0.0/8")], vec![cidr("10.0.0.1/32")]);
    assert_eq!(
        lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0),
        Forward::Drop(DropReason::Filtered)
    );
    assert_eq!(lb.views[0].half_open, 0);
    let other = Packet::control(
        FourTuple::tcp(Endpoint::new(Ip::new(10, 0, 0, 2), 1), vip()),
        Flags::SYN,
        1,
        0,
    );
    assert!(matches!(
        lb.from_client(&other, SimTime(0), &mut 0),
        Forward::ToBackend { .. }
    ));
    let outsider = Packet::control(
        FourTuple::tcp(Endpoint::new(Ip::new(198, 18, 0, 1), 1), vip()),
        Flags::SYN,
        1,
        0,
    );
    assert_eq!(
        lb.from_client(&outsider, SimTime(0), &mut 0),
        Forward::Drop(DropReason::Filtered)
    );
}

#[test]
fn the_rate_limit_refuses_the_fourth_connection_in_a_minute() {
    let mut lb = lb(1);
    lb.views[0].half_open = 0;
    lb.backends[0].max_half_open = 100;
    let limit = crate::policy::RateLimit::new(3, SimDuration::from_secs(60), 3).unwrap();
    lb.limiter = Some(RateLimiter::new(limit, 16));
    for port in 1..=3 {
        assert!(matches!(
            lb.from_client(&from(port, Flags::SYN), SimTime(0), &mut 0),
            Forward::ToBackend { .. }
        ));
    }
    assert_eq!(
        lb.from_client(&from(4, Flags::SYN), SimTime(0), &mut 0),
        Forward::Drop(DropReason::RateLimited)
    );
    // A retransmitted SYN of an admitted flow is not a new connection.
    assert!(matches!(
        lb.from_client(&from(1, Flags::SYN), SimTime(1), &mut 0),
        Forward::ToBackend { .. }
    ));
    // 20 s later the bucket has one more.
    let later = SimTime(20_000_000_000);
    assert!(matches!(
        lb.from_client(&from(5, Flags::SYN), later, &mut 0),
        Forward::ToBackend { .. }
    ));
}

#[test]
fn early_drop_forgets_the_oldest_half_open_entry_to_admit_a_new_syn() {
    let mut lb = lb(1);
    lb.set_early_drop(true);
    // Limit 2: ports 1 and 2 fill it, 1 completes its handshake.
    lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0);
    lb.from_client(&from(2, Flags::SYN), SimTime(1), &mut 0);
    lb.from_client(&from(3, Flags::SYN), SimTime(2), &mut 0);
    assert_eq!(
        lb.table.stats.early_drops, 1,
        "port 1's entry made room for port 3"
    );
    assert_eq!(lb.views[0].half_open, 2);
    // Port 3 completes its handshake, port 4 takes the free slot.
    lb.from_client(&from(3, Flags::ACK), SimTime(3), &mut 0);
    lb.from_client(&from(4, Flags::SYN), SimTime(4), &mut 0);
    assert_eq!(lb.table.stats.early_drops, 1);
    // Full again: port 2 is the oldest still half-open (3 moved on).
    assert!(matches!(
        lb.from_client(&from(5, Flags::SYN), SimTime(5), &mut 0),
        Forward::ToBackend { .. }
    ));
    assert_eq!(lb.table.stats.early_drops, 2);
    assert_eq!(
        lb.from_client(&from(2, Flags::ACK), SimTime(6), &mut 0),
        Forward::Drop(DropReason::NoConnEntry)
    );
    assert_eq!((lb.views[0].half_open, lb.views[0].active), (2, 1));
    lb.set_early_drop(false);
    assert_eq!(
        lb.from_client(&from(6, Flags::SYN), SimTime(7), &mut 0),
        Forward::Drop(DropReason::HalfOpenLimit)
    );
}

#[test]
fn probe_p95_uses_recent_samples() {
    let mut lb = lb(1);
    for ms in 1..=100u64 {
        lb.record_probe(0, true, Some(SimDuration::from_millis(ms)), SimTime(0));
    }
    // The window holds the last 64 samples: 37..=100 ms.
    assert_eq!(
        lb.backends[0].probe_p95(),
        Some(SimDuration::from_millis(97))
    );
}

#[test]
fn a_clients_older_flow_is_found_past_its_newest() {
    // The newest-flow shortcut per client address must never hide another
    // flow of the same client.
    let mut lb = lb(2);
    lb.from_client(&from(1, Flags::SYN), SimTime(0), &mut 0);
    lb.from_client(&from(2, Flags::SYN), SimTime(0), &mut 0);
    let (a, b) = (from(1, Flags::ACK).key, from(2, Flags::ACK).key);
    let (slot_a, slot_b) = (lb.table.find(&a), lb.table.find(&b));
    assert!(slot_a.is_some() && slot_b.is_some() && slot_a != slot_b);
    assert_eq!(lb.table.entry(slot_a.unwrap()).client, a);
    // Port 2's flow goes; port 1's is still found, port 2's no more.
    lb.table.remove(slot_b.unwrap(), &mut lb.views);
    assert_eq!(lb.table.find(&a), slot_a);
    assert_eq!(lb.table.find(&b), None);
}
