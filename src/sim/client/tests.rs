//! The client state machine, transition by transition: `test_<state>_<event>`,
//! driven through a small rig that holds what the World would.

use super::*;
use crate::model::Ip;
use crate::spec::Dur;

const ISS: u32 = 1000;
const SERVER_ISS: u32 = 50_000;

fn ms(n: u64) -> SimTime {
    SimTime(n * 1_000_000)
}

fn vip() -> Endpoint {
    Endpoint::new(Ip::new(192, 0, 2, 1), 80)
}

/// The World's part of a client step: settings, outbox and book of `$r`.
macro_rules! io {
    ($r:expr) => {
        Io {
            cfg: &$r.cfg,
            vip: vip(),
            out: &mut $r.out,
            book: &mut $r.book,
        }
    };
}

/// One client with the settings, outbox and book the World would give it.
struct Rig {
    c: Client,
    cfg: TcpConfig,
    out: Vec<Packet>,
    book: ClientStates,
}

impl Rig {
    /// A closed client, counted in the book as a running client.
    fn new() -> Rig {
        let mut book = ClientStates::default();
        book.enter(TcpState::Closed);
        Rig {
            c: Client::new(Endpoint::new(Ip::new(10, 0, 0, 1), 0)),
            cfg: TcpConfig::from(&TcpSpec::default()),
            out: Vec::new(),
            book,
        }
    }

    /// Takes the packets sent since the last look.
    fn sent(&mut self) -> Vec<Packet> {
        std::mem::take(&mut self.out)
    }

    /// Delivers a packet from the VIP with these flags and numbers.
    fn recv(&mut self, at: SimTime, flags: Flags, seq: u32, ack: u32) -> Outcome {
        let p = Packet::control(FourTuple::tcp(vip(), self.c.local), flags, seq, ack);
        let mut io = io!(self);
        self.c.on_packet(&p, at, &mut io)
    }

    fn timer(&mut self, at: SimTime) -> Outcome {
        let mut io = io!(self);
        self.c.on_retransmit_timer(at, &mut io)
    }

    fn syn_sent() -> Rig {
        let mut r = Rig::new();
        r.c.connect(ms(0), 40000, ISS, 2, &mut io!(r));
        r
    }

    fn established() -> Rig {
        let mut r = Rig::syn_sent();
        r.recv(ms(4), Flags::SYN | Flags::ACK, SERVER_ISS, ISS + 1);
        r.sent();
        r
    }

    fn with_segment_out() -> Rig {
        let mut r = Rig::established();
        let mut io = io!(r);
        assert!(r.c.send_segment(ms(4), 1024, &mut io));
        r.sent();
        r
    }

    fn fin_wait() -> Rig {
        let mut r = Rig::established();
        let mut io = io!(r);
        assert!(r.c.close(ms(10), &mut io));
        r.sent();
        r
    }

    /// The book agrees with the one client it counts.
    fn assert_booked(&self) {
        for s in TcpState::ALL {
            let want = u64::from(s == self.c.state);
            assert_eq!(
                self.book.get(s),
                want,
                "{s} with the client in {}",
                self.c.state
            );
        }
    }
}

#[test]
fn test_closed_connect() {
    let mut r = Rig::syn_sent();
    assert_eq!(r.c.state, TcpState::SynSent);
    let out = r.sent();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].flags, Flags::SYN);
    assert_eq!(out[0].seq, ISS);
    assert_eq!(out[0].key.src.port, 40000);
    assert_eq!(out[0].key.dst, vip());
    assert_eq!(r.c.deadline(Timer::Retransmit), ms(500));
    r.assert_booked();
}

#[test]
fn test_closed_late_packet_is_dropped() {
    let mut r = Rig::new();
    let o = r.recv(ms(1), Flags::ACK, 1, 1);
    assert_eq!(o, Outcome::Dropped(DropReason::NoSocket));
    assert!(r.sent().is_empty());
}

#[test]
fn test_syn_sent_syn_ack() {
    let mut r = Rig::syn_sent();
    r.sent();
    let o = r.recv(ms(4), Flags::SYN | Flags::ACK, SERVER_ISS, ISS + 1);
    assert_eq!(
        o,
        Outcome::Established {
            handshake: SimDuration::from_millis(4)
        }
    );
    assert_eq!(r.c.state, TcpState::Established);
    let out = r.sent();
    assert_eq!(out[0].flags, Flags::ACK);
    assert_eq!(out[0].ack, SERVER_ISS + 1);
    assert_eq!(r.c.deadline(Timer::Retransmit), SimTime::MAX);
    r.assert_booked();
}

#[test]
fn test_syn_sent_syn_ack_with_wrong_ack_is_dropped() {
    let mut r = Rig::syn_sent();
    let o = r.recv(ms(4), Flags::SYN | Flags::ACK, SERVER_ISS, ISS + 7);
    assert_eq!(o, Outcome::Dropped(DropReason::Unexpected));
    assert_eq!(r.c.state, TcpState::SynSent);
}

#[test]
fn test_syn_sent_rst_ack_acceptable() {
    // The server at max_connections answers the SYN with RST|ACK.
    let mut r = Rig::syn_sent();
    let o = r.recv(ms(4), Flags::RST | Flags::ACK, 0, ISS + 1);
    assert_eq!(o, Outcome::Failed(FailReason::Refused));
    assert_eq!(r.c.state, TcpState::Closed);
    assert_eq!(r.c.deadline(Timer::Retransmit), SimTime::MAX);
    r.assert_booked();
}

#[test]
fn test_syn_sent_rst_unacceptable() {
    // RFC 9293 3.10.7.3: in SYN-SENT, an RST without an ACK of our SYN
    // cannot be an answer to it, whatever its sequence number.
    let mut r = Rig::syn_sent();
    for (flags, ack) in [
        (Flags::RST, 0),
        (Flags::RST, ISS + 1),
        (Flags::RST | Flags::ACK, ISS),
        (Flags::RST | Flags::ACK, ISS + 2),
        (Flags::RST | Flags::ACK, 0),
    ] {
        let o = r.recv(ms(4), flags, 0, ack);
        assert_eq!(
            o,
            Outcome::Dropped(DropReason::RstBadAck),
            "{flags} ack {ack}"
        );
        assert_eq!(r.c.state, TcpState::SynSent);
    }
    assert!(r.sent().len() <= 1, "only the SYN went out");
    r.assert_booked();
}

#[test]
fn test_syn_sent_timeout_retransmits_syn() {
    let mut r = Rig::syn_sent();
    r.sent();
    let o = r.timer(ms(500));
    assert_eq!(o, Outcome::Retransmitted(Retransmission::Syn));
    let out = r.sent();
    assert_eq!(out[0].flags, Flags::SYN);
    assert_eq!(out[0].seq, ISS);
    // Fixed mode: the same 500 ms again, no backoff.
    assert_eq!(r.c.deadline(Timer::Retransmit), ms(1000));
}

#[test]
fn test_syn_sent_timeout_after_max_retransmissions_fails() {
    let mut r = Rig::syn_sent();
    r.sent();
    for i in 1..=3 {
        assert_eq!(
            r.timer(ms(500 * i)),
            Outcome::Retransmitted(Retransmission::Syn)
        );
    }
    assert_eq!(r.timer(ms(2000)), Outcome::Failed(FailReason::SynTimeout));
    assert_eq!(r.c.state, TcpState::Closed);
    assert_eq!(r.sent().len(), 3);
    r.assert_booked();
}

#[test]
fn test_syn_sent_timeout_backs_off_under_rfc6298() {
    let mut r = Rig::syn_sent();
    r.cfg.mode = RetransmitMode::Rfc6298 {
        min_rto: Dur::from_millis(200),
        max_rto: Dur::from_secs(60),
    };
    r.timer(ms(500));
    assert_eq!(r.c.deadline(Timer::Retransmit), ms(1500));
    r.timer(ms(1500));
    assert_eq!(r.c.deadline(Timer::Retransmit), ms(3500));
}

#[test]
fn test_syn_sent_handshake_after_retransmission_gives_no_rtt_sample() {
    let mut r = Rig::syn_sent();
    r.timer(ms(500));
    r.recv(ms(504), Flags::SYN | Flags::ACK, SERVER_ISS, ISS + 1);
    assert_eq!(r.c.srtt(), None);
}

#[test]
fn test_established_send_segment() {
    let mut r = Rig::established();
    assert!(r.c.send_segment(ms(10), 1024, &mut io!(r)));
    // Stop-and-wait: a second segment waits for the first ACK.
    assert!(!r.c.send_segment(ms(11), 1024, &mut io!(r)));
    let out = r.sent();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].flags, Flags::PSH | Flags::ACK);
    assert_eq!(out[0].seq, ISS + 1);
    assert_eq!(out[0].len, 1024);
    assert_eq!(r.c.deadline(Timer::Retransmit), ms(710));
}

#[test]
fn test_established_ack() {
    let mut r = Rig::with_segment_out();
    let o = r.recv(ms(8), Flags::ACK, SERVER_ISS + 1, ISS + 1 + 1024);
    assert_eq!(
        o,
        Outcome::SegmentAcked {
            latency: SimDuration::from_millis(4)
        }
    );
    assert_eq!(r.c.segments_left, 1);
    assert!(!r.c.awaiting_ack());
    assert_eq!(r.c.deadline(Timer::Retransmit), SimTime::MAX);
}

#[test]
fn test_established_old_ack_is_dropped_as_duplicate() {
    let mut r = Rig::with_segment_out();
    let o = r.recv(ms(8), Flags::ACK, SERVER_ISS + 1, ISS + 1);
    assert_eq!(o, Outcome::Dropped(DropReason::Duplicate));
    assert!(r.c.awaiting_ack());
}

#[test]
fn test_established_repeated_syn_ack_is_acked_again() {
    let mut r = Rig::established();
    let o = r.recv(ms(9), Flags::SYN | Flags::ACK, SERVER_ISS, ISS + 1);
    assert_eq!(o, Outcome::Nothing);
    assert_eq!(r.sent()[0].flags, Flags::ACK);
    assert_eq!(r.c.state, TcpState::Established);
    // A SYN|ACK of another server ISN is not ours to answer.
    let o = r.recv(ms(9), Flags::SYN | Flags::ACK, 7, ISS + 1);
    assert_eq!(o, Outcome::Dropped(DropReason::Unexpected));
    assert!(r.sent().is_empty());
}

#[test]
fn test_established_timeout_retransmits_segment() {
    let mut r = Rig::with_segment_out();
    let o = r.timer(ms(704));
    assert_eq!(o, Outcome::Retransmitted(Retransmission::Data));
    let out = r.sent();
    assert_eq!(out[0].seq, ISS + 1);
    assert_eq!(out[0].len, 1024);
}

#[test]
fn test_established_timeout_after_max_retransmissions_fails() {
    let mut r = Rig::with_segment_out();
    for i in 1..=3 {
        r.timer(ms(700 * i));
    }
    assert_eq!(r.timer(ms(2800)), Outcome::Failed(FailReason::DataTimeout));
    r.assert_booked();
}

#[test]
fn test_established_timeout_with_nothing_outstanding_does_nothing() {
    let mut r = Rig::established();
    assert_eq!(r.timer(ms(800)), Outcome::Nothing);
    assert!(r.sent().is_empty());
}

#[test]
fn test_established_rst() {
    // An RST at the sequence number the client expects next resets it.
    let mut r = Rig::with_segment_out();
    let o = r.recv(ms(9), Flags::RST, SERVER_ISS + 1, 0);
    assert_eq!(o, Outcome::Failed(FailReason::Reset));
    assert_eq!(r.c.state, TcpState::Closed);
    r.assert_booked();
}

#[test]
fn test_established_rst_out_of_window() {
    let mut r = Rig::with_segment_out();
    // RFC 9293 3.10.7.4: outside the window, dropped; the old balancer's
    // `RST seq 0` was one of these.
    for seq in [
        0,
        SERVER_ISS,
        SERVER_ISS + 1 + RECEIVE_WINDOW,
        SERVER_ISS - 1,
    ] {
        let o = r.recv(ms(9), Flags::RST, seq, 0);
        assert_eq!(o, Outcome::Dropped(DropReason::RstOutOfWindow), "seq {seq}");
        assert_eq!(r.c.state, TcpState::Established);
    }
    assert!(r.sent().is_empty());
    // Inside the window but not exact: a challenge ACK (RFC 5961 3.2),
    // and the connection stays.
    let o = r.recv(ms(9), Flags::RST, SERVER_ISS + 100, 0);
    assert_eq!(o, Outcome::Nothing);
    let out = r.sent();
    assert_eq!((out.len(), out[0].flags), (1, Flags::ACK));
    assert_eq!(out[0].ack, SERVER_ISS + 1);
    assert_eq!(r.c.state, TcpState::Established);
    r.assert_booked();
}

#[test]
fn test_established_close() {
    let mut r = Rig::established();
    assert!(r.c.close(ms(10), &mut io!(r)));
    assert_eq!(r.c.state, TcpState::FinWait);
    assert_eq!(r.sent()[0].flags, Flags::FIN | Flags::ACK);
    assert_eq!(r.c.deadline(Timer::Retransmit), ms(710));
    r.assert_booked();
}

#[test]
fn test_established_abort() {
    let mut r = Rig::with_segment_out();
    assert_eq!(
        r.c.abort(ms(9), &mut r.book),
        Outcome::Failed(FailReason::Killed)
    );
    assert_eq!(r.c.state, TcpState::Closed);
    assert_eq!(r.c.deadline(Timer::Retransmit), SimTime::MAX);
    assert_eq!(r.c.deadline(Timer::Wake), SimTime::MAX);
    r.assert_booked();
}

#[test]
fn test_fin_wait_fin_ack() {
    let mut r = Rig::fin_wait();
    let o = r.recv(ms(14), Flags::FIN | Flags::ACK, SERVER_ISS + 1, ISS + 2);
    assert_eq!(
        o,
        Outcome::Completed {
            duration: SimDuration::from_millis(14)
        }
    );
    assert_eq!(r.c.state, TcpState::Closed);
    let out = r.sent();
    assert_eq!(out[0].flags, Flags::ACK);
    assert_eq!(out[0].ack, SERVER_ISS + 2);
    r.assert_booked();
}

#[test]
fn test_fin_wait_timeout_retransmits_fin() {
    let mut r = Rig::fin_wait();
    let o = r.timer(ms(710));
    assert_eq!(o, Outcome::Retransmitted(Retransmission::Fin));
    let out = r.sent();
    assert_eq!(out[0].flags, Flags::FIN | Flags::ACK);
    assert_eq!(out[0].seq, ISS + 1);
}

#[test]
fn test_fin_wait_timeout_after_max_retransmissions_fails() {
    let mut r = Rig::fin_wait();
    for i in 1..=3 {
        r.timer(ms(700 * i));
    }
    assert_eq!(r.timer(ms(2800)), Outcome::Failed(FailReason::FinTimeout));
}

#[test]
fn test_fin_wait_rst() {
    let mut r = Rig::fin_wait();
    let o = r.recv(ms(12), Flags::RST, SERVER_ISS + 1, 0);
    assert_eq!(o, Outcome::Failed(FailReason::Reset));
    let mut r = Rig::fin_wait();
    let o = r.recv(ms(12), Flags::RST, 0, 0);
    assert_eq!(o, Outcome::Dropped(DropReason::RstOutOfWindow));
}

#[test]
fn every_flag_combination_in_every_state_is_used_or_dropped_with_a_reason() {
    // What a client makes of any packet: an outcome that used it, or a
    // named drop; never a panic, and the book stays true.
    type Start = fn() -> Rig;
    let states: [(&str, Start); 5] = [
        ("CLOSED", Rig::new),
        ("SYN-SENT", Rig::syn_sent),
        ("ESTABLISHED", Rig::established),
        ("ESTABLISHED with a segment out", Rig::with_segment_out),
        ("FIN-WAIT", Rig::fin_wait),
    ];
    let numbers = [
        0,
        1,
        ISS,
        ISS + 1,
        ISS + 2,
        ISS + 1025,
        SERVER_ISS,
        SERVER_ISS + 1,
    ];
    let mut used = 0;
    let mut dropped = 0;
    for (name, make) in states {
        for bits in 0..64u8 {
            let flags = Flags::from_bits_truncate(bits);
            for &seq in &numbers {
                for &ack in &numbers {
                    let mut r = make();
                    r.sent();
                    match r.recv(ms(20), flags, seq, ack) {
                        Outcome::Dropped(_) => {
                            dropped += 1;
                            assert!(r.sent().is_empty(), "{name}: {flags} dropped yet answered");
                        }
                        _ => used += 1,
                    }
                    r.assert_booked();
                }
            }
        }
    }
    assert!(used > 0 && dropped > 0, "used {used}, dropped {dropped}");
}

#[test]
fn states_print_rfc_names() {
    assert_eq!(TcpState::SynSent.to_string(), "SYN-SENT");
    assert_eq!(TcpState::FinWait.to_string(), "FIN-WAIT");
    assert_eq!(TcpState::Established.to_string(), "ESTABLISHED");
    assert_eq!(TcpState::Closed.to_string(), "CLOSED");
}
