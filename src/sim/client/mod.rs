//! The client side of a connection, as a TCP-like state machine:
//! CLOSED -> SYN-SENT -> ESTABLISHED -> FIN-WAIT -> CLOSED, stop-and-wait data
//! with acknowledgement and retransmission, failure with a named reason.
//!
//! The client performs no I/O: packets it sends go into an outbox, its timers
//! are deadlines the World reads, and what happened is returned as an
//! [`Outcome`] for the World to count.

use super::rto::RtoEstimator;
use crate::model::{Endpoint, Flags, FourTuple, Packet, SimDuration, SimTime};
use crate::spec::{FailReason, RetransmitMode, TcpSpec};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Client TCP settings in force now (changeable by commands).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TcpConfig {
    /// Wait for SYN|ACK before retransmitting the SYN.
    pub syn_timeout: SimDuration,
    /// Wait for an ACK (or FIN|ACK) before retransmitting.
    pub segment_timeout: SimDuration,
    /// Retransmissions before giving up.
    pub max_retransmissions: u32,
    /// Fixed or RFC 6298 timeouts.
    pub mode: RetransmitMode,
}

impl From<&TcpSpec> for TcpConfig {
    fn from(s: &TcpSpec) -> TcpConfig {
        TcpConfig {
            syn_timeout: s.syn_timeout.get(),
            segment_timeout: s.segment_timeout.get(),
            max_retransmissions: s.max_retransmissions,
            mode: s.retransmit,
        }
    }
}

/// RFC 9293 connection states a client passes through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TcpState {
    /// No connection (before the first, between connections, after the last).
    #[default]
    Closed,
    /// SYN sent, waiting for SYN|ACK.
    SynSent,
    /// Handshake done; data flows.
    Established,
    /// FIN sent, waiting for FIN|ACK.
    FinWait,
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TcpState::Closed => "CLOSED",
            TcpState::SynSent => "SYN-SENT",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN-WAIT",
        })
    }
}

/// The client's two timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// Retransmit the unacknowledged SYN, segment or FIN.
    Retransmit = 0,
    /// Wake up: start the next connection or send the next segment.
    Wake = 1,
}

impl TimerKind {
    /// Both kinds, by index.
    pub const ALL: [TimerKind; 2] = [TimerKind::Retransmit, TimerKind::Wake];
}

/// What a client step did that the World counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing worth counting.
    Nothing,
    /// The handshake completed after `handshake` (first SYN to SYN|ACK).
    Established {
        /// Time from the first SYN to the SYN|ACK.
        handshake: SimDuration,
    },
    /// The outstanding segment was acknowledged.
    SegmentAcked {
        /// Time from its first transmission to its ACK.
        latency: SimDuration,
    },
    /// FIN|ACK received and final ACK sent: the connection completed.
    Completed {
        /// Time from the first SYN to completion.
        duration: SimDuration,
    },
    /// A SYN, segment or FIN was sent again.
    Retransmitted(Retransmission),
    /// The connection ended without completing.
    Failed(FailReason),
}

/// Which packet a retransmission resent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retransmission {
    /// The SYN.
    Syn,
    /// A data segment.
    Data,
    /// The FIN.
    Fin,
}

/// One client: its current connection and its counters.
#[derive(Clone, Debug)]
pub struct Client {
    /// The client's address and the port of its current connection.
    pub local: Endpoint,
    /// The balancer's virtual address it connects to.
    pub vip: Endpoint,
    /// RFC state of the current connection.
    pub state: TcpState,
    iss: u32,
    snd_una: u32,
    snd_nxt: u32,
    rcv_nxt: u32,
    /// Payload length of the unacknowledged segment; 0 when none is out.
    out_len: u32,
    /// Segments still to send on this connection.
    pub segments_left: u64,
    retries: u32,
    /// Karn's rule: a retransmitted segment gives no RTT sample.
    retransmitted: bool,
    sent_at: SimTime,
    started_at: SimTime,
    rto: RtoEstimator,
    deadlines: [SimTime; 2],
    /// The earliest queued timer event per kind (kept by the World, which
    /// schedules only when a deadline moves earlier than this).
    pub pending: [SimTime; 2],
    /// SYN retransmissions over the client's life.
    pub syn_retries: u32,
    /// Data and FIN retransmissions over the client's life.
    pub data_retries: u32,
}

impl Client {
    /// A closed client at `local` that will connect to `vip`.
    pub fn new(local: Endpoint, vip: Endpoint) -> Client {
        Client {
            local,
            vip,
            state: TcpState::Closed,
            iss: 0,
            snd_una: 0,
            snd_nxt: 0,
            rcv_nxt: 0,
            out_len: 0,
            segments_left: 0,
            retries: 0,
            retransmitted: false,
            sent_at: SimTime::ZERO,
            started_at: SimTime::ZERO,
            rto: RtoEstimator::default(),
            deadlines: [SimTime::MAX; 2],
            pending: [SimTime::MAX; 2],
            syn_retries: 0,
            data_retries: 0,
        }
    }

    /// When timer `kind` is due (`SimTime::MAX` when disarmed).
    #[inline]
    pub fn deadline(&self, kind: TimerKind) -> SimTime {
        self.deadlines[kind as usize]
    }

    /// Arms the wake-up timer (the World's workload decides when).
    pub fn wake_at(&mut self, at: SimTime) {
        self.deadlines[TimerKind::Wake as usize] = at;
    }

    /// A segment is unacknowledged.
    pub fn awaiting_ack(&self) -> bool {
        self.out_len > 0
    }

    /// The smoothed round-trip time, once measured.
    pub fn srtt(&self) -> Option<SimDuration> {
        self.rto.srtt()
    }

    fn key(&self) -> FourTuple {
        FourTuple::tcp(self.local, self.vip)
    }

    fn emit(&self, out: &mut Vec<Packet>, flags: Flags, seq: u32, len: u32) {
        out.push(Packet {
            len,
            ..Packet::control(self.key(), flags, seq, self.rcv_nxt)
        });
    }

    fn arm_retransmit(&mut self, now: SimTime, base: SimDuration, cfg: &TcpConfig) {
        self.deadlines[TimerKind::Retransmit as usize] = now + self.rto.timeout(base, cfg.mode);
    }

    fn disarm(&mut self, kind: TimerKind) {
        self.deadlines[kind as usize] = SimTime::MAX;
    }

    /// Opens a new connection from `port` with initial sequence number `iss`
    /// that will carry `segments` segments: CLOSED -> SYN-SENT.
    pub fn connect(
        &mut self,
        now: SimTime,
        port: u16,
        iss: u32,
        segments: u64,
        cfg: &TcpConfig,
        out: &mut Vec<Packet>,
    ) {
        self.local.port = port;
        self.iss = iss;
        self.snd_una = iss;
        self.snd_nxt = iss.wrapping_add(1);
        self.rcv_nxt = 0;
        self.out_len = 0;
        self.segments_left = segments;
        self.retries = 0;
        self.retransmitted = false;
        self.sent_at = now;
        self.started_at = now;
        self.rto = RtoEstimator::default();
        self.disarm(TimerKind::Wake);
        self.set_state(TcpState::SynSent);
        self.emit(out, Flags::SYN, iss, 0);
        self.arm_retransmit(now, cfg.syn_timeout, cfg);
    }

    /// Sends the next segment of `len` payload bytes (ESTABLISHED, nothing
    /// outstanding). Returns false, sending nothing, in any other state.
    pub fn send_segment(
        &mut self,
        now: SimTime,
        len: u32,
        cfg: &TcpConfig,
        out: &mut Vec<Packet>,
    ) -> bool {
        if self.state != TcpState::Established || self.out_len > 0 || len == 0 {
            return false;
        }
        self.disarm(TimerKind::Wake);
        let seq = self.snd_nxt;
        self.snd_nxt = seq.wrapping_add(len);
        self.out_len = len;
        self.retries = 0;
        self.retransmitted = false;
        self.sent_at = now;
        self.emit(out, Flags::PSH | Flags::ACK, seq, len);
        self.arm_retransmit(now, cfg.segment_timeout, cfg);
        true
    }

    /// Starts the close: ESTABLISHED -> FIN-WAIT, sending FIN. Returns false,
    /// sending nothing, in any other state or while a segment is out.
    pub fn close(&mut self, now: SimTime, cfg: &TcpConfig, out: &mut Vec<Packet>) -> bool {
        if self.state != TcpState::Established || self.out_len > 0 {
            return false;
        }
        self.disarm(TimerKind::Wake);
        let seq = self.snd_nxt;
        self.snd_nxt = seq.wrapping_add(1);
        self.retries = 0;
        self.retransmitted = false;
        self.sent_at = now;
        self.set_state(TcpState::FinWait);
        self.emit(out, Flags::FIN | Flags::ACK, seq, 0);
        self.arm_retransmit(now, cfg.segment_timeout, cfg);
        true
    }

    /// Drops the connection on the spot, as a crashed host would: no FIN,
    /// no RST, timers disarmed.
    pub fn abort(&mut self) -> Outcome {
        if self.state == TcpState::Closed {
            self.disarm(TimerKind::Wake);
            return Outcome::Nothing;
        }
        self.fail(FailReason::Killed)
    }

    fn fail(&mut self, reason: FailReason) -> Outcome {
        self.out_len = 0;
        self.disarm(TimerKind::Retransmit);
        self.disarm(TimerKind::Wake);
        self.set_state(TcpState::Closed);
        Outcome::Failed(reason)
    }

    fn set_state(&mut self, state: TcpState) {
        self.state = state;
    }

    /// Handles a packet addressed to this client's current connection.
    pub fn on_packet(&mut self, p: &Packet, now: SimTime, out: &mut Vec<Packet>) -> Outcome {
        let f = p.flags;
        match self.state {
            // Nothing open: a late packet of an old connection.
            TcpState::Closed => Outcome::Nothing,
            // RST in SYN-SENT: the server refused (RFC 9293 3.10.7.3).
            TcpState::SynSent if f.contains(Flags::RST) => self.fail(FailReason::Refused),
            // SYN|ACK acknowledging our SYN: send ACK, now ESTABLISHED.
            TcpState::SynSent
                if f.contains(Flags::SYN | Flags::ACK) && p.ack == self.iss.wrapping_add(1) =>
            {
                self.rcv_nxt = p.seq.wrapping_add(1);
                self.snd_una = p.ack;
                if !self.retransmitted {
                    self.rto.sample(now - self.sent_at);
                }
                self.disarm(TimerKind::Retransmit);
                self.set_state(TcpState::Established);
                self.emit(out, Flags::ACK, self.snd_nxt, 0);
                Outcome::Established {
                    handshake: now - self.started_at,
                }
            }
            // Anything else in SYN-SENT (a stale SYN|ACK) is ignored.
            TcpState::SynSent => Outcome::Nothing,
            // RST on an open connection: reset.
            TcpState::Established | TcpState::FinWait if f.contains(Flags::RST) => {
                self.fail(FailReason::Reset)
            }
            // Our handshake ACK was lost and the server repeated SYN|ACK.
            TcpState::Established if f.contains(Flags::SYN) => {
                self.emit(out, Flags::ACK, self.snd_nxt, 0);
                Outcome::Nothing
            }
            // ACK covering the outstanding segment.
            TcpState::Established
                if f.contains(Flags::ACK) && self.out_len > 0 && p.ack == self.snd_nxt =>
            {
                let latency = now - self.sent_at;
                if !self.retransmitted {
                    self.rto.sample(latency);
                }
                self.snd_una = p.ack;
                self.out_len = 0;
                self.retries = 0;
                self.segments_left = self.segments_left.saturating_sub(1);
                self.disarm(TimerKind::Retransmit);
                Outcome::SegmentAcked { latency }
            }
            // Duplicate or old ACKs change nothing.
            TcpState::Established => Outcome::Nothing,
            // FIN|ACK acknowledging our FIN: final ACK, CLOSED.
            TcpState::FinWait if f.contains(Flags::FIN) && p.ack == self.snd_nxt => {
                self.rcv_nxt = p.seq.wrapping_add(1);
                self.emit(out, Flags::ACK, self.snd_nxt, 0);
                self.disarm(TimerKind::Retransmit);
                self.set_state(TcpState::Closed);
                Outcome::Completed {
                    duration: now - self.started_at,
                }
            }
            TcpState::FinWait => Outcome::Nothing,
        }
    }

    /// Handles the retransmission timer: resend, or give up with a reason
    /// once `max_retransmissions` resends went unanswered.
    pub fn on_retransmit_timer(
        &mut self,
        now: SimTime,
        cfg: &TcpConfig,
        out: &mut Vec<Packet>,
    ) -> Outcome {
        self.disarm(TimerKind::Retransmit);
        let (kind, reason, base) = match self.state {
            TcpState::SynSent => (Retransmission::Syn, FailReason::SynTimeout, cfg.syn_timeout),
            TcpState::Established if self.out_len > 0 => (
                Retransmission::Data,
                FailReason::DataTimeout,
                cfg.segment_timeout,
            ),
            TcpState::FinWait => (
                Retransmission::Fin,
                FailReason::FinTimeout,
                cfg.segment_timeout,
            ),
            // Nothing outstanding: a timer that outlived its segment.
            TcpState::Established | TcpState::Closed => return Outcome::Nothing,
        };
        if self.retries >= cfg.max_retransmissions {
            return self.fail(reason);
        }
        self.retries += 1;
        self.retransmitted = true;
        self.rto.back_off();
        match kind {
            Retransmission::Syn => {
                self.syn_retries += 1;
                self.emit(out, Flags::SYN, self.iss, 0);
            }
            Retransmission::Data => {
                self.data_retries += 1;
                self.emit(out, Flags::PSH | Flags::ACK, self.snd_una, self.out_len);
            }
            Retransmission::Fin => {
                self.data_retries += 1;
                self.emit(
                    out,
                    Flags::FIN | Flags::ACK,
                    self.snd_nxt.wrapping_sub(1),
                    0,
                );
            }
        }
        self.arm_retransmit(now, base, cfg);
        Outcome::Retransmitted(kind)
    }
}

#[cfg(test)]
mod tests;
