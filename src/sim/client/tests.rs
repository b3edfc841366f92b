//! The client state machine, transition by transition: `test_<state>_<event>`.

use super::*;
use crate::model::Ip;
use crate::spec::Dur;

const ISS: u32 = 1000;
const SERVER_ISS: u32 = 50_000;

fn cfg() -> TcpConfig {
    TcpConfig::from(&TcpSpec::default())
}

fn ms(n: u64) -> SimTime {
    SimTime(n * 1_000_000)
}

fn vip() -> Endpoint {
    Endpoint::new(Ip::new(192, 0, 2, 1), 80)
}

/// A packet from the VIP to the client with these flags and numbers.
fn recv(c: &Client, flags: Flags, seq: u32, ack: u32) -> Packet {
    Packet::control(FourTuple::tcp(c.vip, c.local), flags, seq, ack)
}

fn syn_sent() -> (Client, Vec<Packet>) {
    let mut c = Client::new(Endpoint::new(Ip::new(10, 0, 0, 1), 0), vip());
    let mut out = Vec::new();
    c.connect(ms(0), 40000, ISS, 2, &cfg(), &mut out);
    (c, out)
}

fn established() -> Client {
    let (mut c, _) = syn_sent();
    let synack = recv(&c, Flags::SYN | Flags::ACK, SERVER_ISS, ISS + 1);
    c.on_packet(&synack, ms(4), &mut Vec::new());
    c
}

fn with_segment_out() -> Client {
    let mut c = established();
    assert!(c.send_segment(ms(4), 1024, &cfg(), &mut Vec::new()));
    c
}

fn fin_wait() -> Client {
    let mut c = established();
    assert!(c.close(ms(10), &cfg(), &mut Vec::new()));
    c
}

#[test]
fn test_closed_connect() {
    let (c, out) = syn_sent();
    assert_eq!(c.state, TcpState::SynSent);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].flags, Flags::SYN);
    assert_eq!(out[0].seq, ISS);
    assert_eq!(out[0].key.src.port, 40000);
    assert_eq!(out[0].key.dst, vip());
    assert_eq!(c.deadline(TimerKind::Retransmit), ms(500));
}

#[test]
fn test_closed_late_packet_is_ignored() {
    let mut c = Client::new(Endpoint::new(Ip::new(10, 0, 0, 1), 4), vip());
    let mut out = Vec::new();
    let p = recv(&c, Flags::ACK, 1, 1);
    assert_eq!(c.on_packet(&p, ms(1), &mut out), Outcome::Nothing);
    assert!(out.is_empty());
}

#[test]
fn test_syn_sent_syn_ack() {
    let (mut c, _) = syn_sent();
    let mut out = Vec::new();
    let p = recv(&c, Flags::SYN | Flags::ACK, SERVER_ISS, ISS + 1);
    let o = c.on_packet(&p, ms(4), &mut out);
    assert_eq!(
        o,
        Outcome::Established {
            handshake: SimDuration::from_millis(4)
        }
    );
    assert_eq!(c.state, TcpState::Established);
    assert_eq!(out[0].flags, Flags::ACK);
    assert_eq!(out[0].ack, SERVER_ISS + 1);
    assert_eq!(c.deadline(TimerKind::Retransmit), SimTime::MAX);
}

#[test]
fn test_syn_sent_syn_ack_with_wrong_ack_is_ignored() {
    let (mut c, _) = syn_sent();
    let p = recv(&c, Flags::SYN | Flags::ACK, SERVER_ISS, ISS + 7);
    assert_eq!(c.on_packet(&p, ms(4), &mut Vec::new()), Outcome::Nothing);
    assert_eq!(c.state, TcpState::SynSent);
}

#[test]
fn test_syn_sent_rst() {
    let (mut c, _) = syn_sent();
    let p = recv(&c, Flags::RST | Flags::ACK, 0, ISS + 1);
    let o = c.on_packet(&p, ms(4), &mut Vec::new());
    assert_eq!(o, Outcome::Failed(FailReason::Refused));
    assert_eq!(c.state, TcpState::Closed);
    assert_eq!(c.deadline(TimerKind::Retransmit), SimTime::MAX);
}

#[test]
fn test_syn_sent_timeout_retransmits_syn() {
    let (mut c, _) = syn_sent();
    let mut out = Vec::new();
    let o = c.on_retransmit_timer(ms(500), &cfg(), &mut out);
    assert_eq!(o, Outcome::Retransmitted(Retransmission::Syn));
    assert_eq!(out[0].flags, Flags::SYN);
    assert_eq!(out[0].seq, ISS);
    assert_eq!(c.syn_retries, 1);
    // Fixed mode: the same 500 ms again, no backoff.
    assert_eq!(c.deadline(TimerKind::Retransmit), ms(1000));
}

#[test]
fn test_syn_sent_timeout_after_max_retransmissions_fails() {
    let (mut c, _) = syn_sent();
    let mut out = Vec::new();
    for i in 1..=3 {
        let o = c.on_retransmit_timer(ms(500 * i), &cfg(), &mut out);
        assert_eq!(o, Outcome::Retransmitted(Retransmission::Syn));
    }
    let o = c.on_retransmit_timer(ms(2000), &cfg(), &mut out);
    assert_eq!(o, Outcome::Failed(FailReason::SynTimeout));
    assert_eq!(c.state, TcpState::Closed);
    assert_eq!(out.len(), 3);
}

#[test]
fn test_syn_sent_timeout_backs_off_under_rfc6298() {
    let (mut c, _) = syn_sent();
    let rfc = TcpConfig {
        mode: RetransmitMode::Rfc6298 {
            min_rto: Dur::from_millis(200),
            max_rto: Dur::from_secs(60),
        },
        ..cfg()
    };
    c.on_retransmit_timer(ms(500), &rfc, &mut Vec::new());
    assert_eq!(c.deadline(TimerKind::Retransmit), ms(1500));
    c.on_retransmit_timer(ms(1500), &rfc, &mut Vec::new());
    assert_eq!(c.deadline(TimerKind::Retransmit), ms(3500));
}

#[test]
fn test_syn_sent_handshake_after_retransmission_gives_no_rtt_sample() {
    let (mut c, _) = syn_sent();
    c.on_retransmit_timer(ms(500), &cfg(), &mut Vec::new());
    let p = recv(&c, Flags::SYN | Flags::ACK, SERVER_ISS, ISS + 1);
    c.on_packet(&p, ms(504), &mut Vec::new());
    assert_eq!(c.srtt(), None);
}

#[test]
fn test_established_send_segment() {
    let mut c = established();
    let mut out = Vec::new();
    assert!(c.send_segment(ms(10), 1024, &cfg(), &mut out));
    assert_eq!(out[0].flags, Flags::PSH | Flags::ACK);
    assert_eq!(out[0].seq, ISS + 1);
    assert_eq!(out[0].len, 1024);
    assert_eq!(c.deadline(TimerKind::Retransmit), ms(710));
    // Stop-and-wait: a second segment waits for the first ACK.
    assert!(!c.send_segment(ms(11), 1024, &cfg(), &mut out));
}

#[test]
fn test_established_ack() {
    let mut c = with_segment_out();
    let p = recv(&c, Flags::ACK, SERVER_ISS + 1, ISS + 1 + 1024);
    let o = c.on_packet(&p, ms(8), &mut Vec::new());
    assert_eq!(
        o,
        Outcome::SegmentAcked {
            latency: SimDuration::from_millis(4)
        }
    );
    assert_eq!(c.segments_left, 1);
    assert!(!c.awaiting_ack());
    assert_eq!(c.deadline(TimerKind::Retransmit), SimTime::MAX);
}

#[test]
fn test_established_old_ack_is_ignored() {
    let mut c = with_segment_out();
    let p = recv(&c, Flags::ACK, SERVER_ISS + 1, ISS + 1);
    assert_eq!(c.on_packet(&p, ms(8), &mut Vec::new()), Outcome::Nothing);
    assert!(c.awaiting_ack());
}

#[test]
fn test_established_repeated_syn_ack_is_acked_again() {
    let mut c = established();
    let mut out = Vec::new();
    let p = recv(&c, Flags::SYN | Flags::ACK, SERVER_ISS, ISS + 1);
    assert_eq!(c.on_packet(&p, ms(9), &mut out), Outcome::Nothing);
    assert_eq!(out[0].flags, Flags::ACK);
    assert_eq!(c.state, TcpState::Established);
}

#[test]
fn test_established_timeout_retransmits_segment() {
    let mut c = with_segment_out();
    let mut out = Vec::new();
    let o = c.on_retransmit_timer(ms(704), &cfg(), &mut out);
    assert_eq!(o, Outcome::Retransmitted(Retransmission::Data));
    assert_eq!(out[0].seq, ISS + 1);
    assert_eq!(out[0].len, 1024);
    assert_eq!(c.data_retries, 1);
}

#[test]
fn test_established_timeout_after_max_retransmissions_fails() {
    let mut c = with_segment_out();
    for i in 1..=3 {
        c.on_retransmit_timer(ms(700 * i), &cfg(), &mut Vec::new());
    }
    let o = c.on_retransmit_timer(ms(2800), &cfg(), &mut Vec::new());
    assert_eq!(o, Outcome::Failed(FailReason::DataTimeout));
}

#[test]
fn test_established_timeout_with_nothing_outstanding_does_nothing() {
    let mut c = established();
    let mut out = Vec::new();
    assert_eq!(
        c.on_retransmit_timer(ms(800), &cfg(), &mut out),
        Outcome::Nothing
    );
    assert!(out.is_empty());
}

#[test]
fn test_established_rst() {
    let mut c = with_segment_out();
    let p = recv(&c, Flags::RST, 0, 0);
    let o = c.on_packet(&p, ms(9), &mut Vec::new());
    assert_eq!(o, Outcome::Failed(FailReason::Reset));
    assert_eq!(c.state, TcpState::Closed);
}

#[test]
fn test_established_close() {
    let mut c = established();
    let mut out = Vec::new();
    assert!(c.close(ms(10), &cfg(), &mut out));
    assert_eq!(c.state, TcpState::FinWait);
    assert_eq!(out[0].flags, Flags::FIN | Flags::ACK);
    assert_eq!(c.deadline(TimerKind::Retransmit), ms(710));
}

#[test]
fn test_established_abort() {
    let mut c = with_segment_out();
    assert_eq!(c.abort(), Outcome::Failed(FailReason::Killed));
    assert_eq!(c.state, TcpState::Closed);
    assert_eq!(c.deadline(TimerKind::Retransmit), SimTime::MAX);
    assert_eq!(c.deadline(TimerKind::Wake), SimTime::MAX);
}

#[test]
fn test_fin_wait_fin_ack() {
    let mut c = fin_wait();
    let mut out = Vec::new();
    let p = recv(&c, Flags::FIN | Flags::ACK, SERVER_ISS + 1, ISS + 2);
    let o = c.on_packet(&p, ms(14), &mut out);
    assert_eq!(
        o,
        Outcome::Completed {
            duration: SimDuration::from_millis(14)
        }
    );
    assert_eq!(c.state, TcpState::Closed);
    assert_eq!(out[0].flags, Flags::ACK);
    assert_eq!(out[0].ack, SERVER_ISS + 2);
}

#[test]
fn test_fin_wait_timeout_retransmits_fin() {
    let mut c = fin_wait();
    let mut out = Vec::new();
    let o = c.on_retransmit_timer(ms(710), &cfg(), &mut out);
    assert_eq!(o, Outcome::Retransmitted(Retransmission::Fin));
    assert_eq!(out[0].flags, Flags::FIN | Flags::ACK);
    assert_eq!(out[0].seq, ISS + 1);
}

#[test]
fn test_fin_wait_timeout_after_max_retransmissions_fails() {
    let mut c = fin_wait();
    for i in 1..=3 {
        c.on_retransmit_timer(ms(700 * i), &cfg(), &mut Vec::new());
    }
    let o = c.on_retransmit_timer(ms(2800), &cfg(), &mut Vec::new());
    assert_eq!(o, Outcome::Failed(FailReason::FinTimeout));
}

#[test]
fn test_fin_wait_rst() {
    let mut c = fin_wait();
    let p = recv(&c, Flags::RST, 0, 0);
    let o = c.on_packet(&p, ms(12), &mut Vec::new());
    assert_eq!(o, Outcome::Failed(FailReason::Reset));
}

#[test]
fn states_print_rfc_names() {
    assert_eq!(TcpState::SynSent.to_string(), "SYN-SENT");
    assert_eq!(TcpState::FinWait.to_string(), "FIN-WAIT");
    assert_eq!(TcpState::Established.to_string(), "ESTABLISHED");
    assert_eq!(TcpState::Closed.to_string(), "CLOSED");
}
