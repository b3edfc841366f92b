//! The client side of a connection, as a TCP-like state machine:
//! CLOSED -> SYN-SENT -> ESTABLISHED -> FIN-WAIT -> CLOSED, stop-and-wait data
//! with acknowledgement and retransmission, failure with a named reason.
//!
//! The client performs no I/O: packets it sends go into an outbox, its timers
//! are deadlines the World reads, and what happened is returned as an
//! [`Outcome`] for the World to count. Every change of state goes through
//! `set_state`, which keeps the book of how many clients are in each state.

mod book;
#[cfg(test)]
mod tests;

pub use book::ClientStates;

use super::rto::RtoEstimator;
use crate::model::{Endpoint, Flags, FourTuple, Packet, SimDuration, SimTime};
use crate::spec::{DropReason, FailReason, RetransmitMode, TcpSpec};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The receive window a client advertises: an RST is believed only inside
/// it (RFC 9293 3.10.7.4).
pub const RECEIVE_WINDOW: u32 = 65_535;

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

impl TcpState {
    /// Every state, in the order books count them.
    pub const ALL: [TcpState; 4] = [
        TcpState::Closed,
        TcpState::SynSent,
        TcpState::Established,
        TcpState::FinWait,
    ];
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
pub enum Timer {
    /// Retransmit the unacknowledged SYN, segment or FIN.
    Retransmit,
    /// Wake up: start the next connection or send the next segment.
    Wake,
}

impl Timer {
    /// Both timers.
    pub const ALL: [Timer; 2] = [Timer::Retransmit, Timer::Wake];

    /// Position in [`Timer::ALL`].
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// What a client step did that the World counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The packet or timer was used, and there is nothing to count.
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
    /// The packet was of no use to the connection, for this reason.
    Dropped(DropReason),
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

/// What a client step needs from the World: the settings in force, the
/// outbox for the packets it sends, and the book of client states.
pub struct Io<'a> {
    /// Timeouts and retries.
    pub cfg: &'a TcpConfig,
    /// The balancer's virtual address every connection goes to.
    pub vip: Endpoint,
    /// Packets toward the VIP.
    pub out: &'a mut Vec<Packet>,
    /// How many clients are in each state.
    pub book: &'a mut ClientStates,
}

/// One client: its current connection and its counters. 104 bytes, so
/// the World's record of a client (this and its workload) fits two cache
/// lines: in a world of a hundred thousand clients every line is a miss.
#[derive(Clone, Debug)]
pub struct Client {
    /// The client's address and the port of its current connection.
    pub local: Endpoint,
    /// RFC state of the current connection.
    pub state: TcpState,
    /// Counted in the book of client states (attack connections are not).
    pub counted: bool,
    /// The oldest unacknowledged sequence number; in SYN-SENT, the ISN.
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
    /// When the armed timer is due (`SimTime::MAX`: none). A client waits
    /// for one thing at a time, an acknowledgement or its next wake-up,
    /// so one deadline serves both timers.
    deadline: SimTime,
    /// Which timer `deadline` is for.
    armed: Timer,
    /// The earliest queued timer event per timer (kept by the World, which
    /// schedules only when a deadline moves earlier than this).
    pub pending: [SimTime; 2],
}

impl Client {
    /// A closed client at `local` (its connections go to [`Io::vip`]).
    pub fn new(local: Endpoint) -> Client {
        Client {
            local,
            state: TcpState::Closed,
            counted: true,
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
            deadline: SimTime::MAX,
            armed: Timer::Wake,
            pending: [SimTime::MAX; 2],
        }
    }

    /// When `timer` is due (`SimTime::MAX` when disarmed).
    #[inline]
    pub fn deadline(&self, timer: Timer) -> SimTime {
        if self.armed == timer {
            self.deadline
        } else {
            SimTime::MAX
        }
    }

    /// Arms the wake-up timer (the World's workload decides when).
    /// `SimTime::MAX` disarms it.
    pub fn wake_at(&mut self, at: SimTime) {
        if at == SimTime::MAX {
            return self.disarm(Timer::Wake);
        }
        self.arm(Timer::Wake, at);
    }

    /// A segment is unacknowledged.
    pub fn awaiting_ack(&self) -> bool {
        self.out_len > 0
    }

    /// The smoothed round-trip time, once measured.
    pub fn srtt(&self) -> Option<SimDuration> {
        self.rto.srtt()
    }

    fn emit(&self, io: &mut Io, flags: Flags, seq: u32, len: u32) {
        let key = FourTuple::tcp(self.local, io.vip);
        io.out.push(Packet {
            len,
            ..Packet::control(key, flags, seq, self.rcv_nxt)
        });
    }

    fn arm_retransmit(&mut self, now: SimTime, base: SimDuration, cfg: &TcpConfig) {
        self.arm(Timer::Retransmit, now + self.rto.timeout(base, cfg.mode));
    }

    /// Arms `timer`; the other one is never armed at the same time.
    fn arm(&mut self, timer: Timer, at: SimTime) {
        debug_assert!(
            self.armed == timer || self.deadline == SimTime::MAX,
            "{timer:?} armed while {:?} is",
            self.armed
        );
        self.armed = timer;
        self.deadline = at;
    }

    fn disarm(&mut self, timer: Timer) {
        if self.armed == timer {
            self.deadline = SimTime::MAX;
        }
    }

    /// The one way a client changes state: counts it in the book and
    /// traces it.
    fn set_state(&mut self, now: SimTime, to: TcpState, book: &mut ClientStates) {
        let from = self.state;
        self.state = to;
        if self.counted {
            book.moved(from, to);
        }
        tracing::trace!(client = %self.local, at = %now, %from, %to, "client");
    }

    /// Opens a new connection from `port` with initial sequence number `iss`
    /// that will carry `segments` segments: CLOSED -> SYN-SENT.
    pub fn connect(&mut self, now: SimTime, port: u16, iss: u32, segments: u64, io: &mut Io) {
        self.local.port = port;
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
        self.disarm(Timer::Wake);
        self.set_state(now, TcpState::SynSent, io.book);
        self.emit(io, Flags::SYN, iss, 0);
        self.arm_retransmit(now, io.cfg.syn_timeout, io.cfg);
    }

    /// Sends the next segment of `len` payload bytes (ESTABLISHED, nothing
    /// outstanding). Returns false, sending nothing, in any other state.
    pub fn send_segment(&mut self, now: SimTime, len: u32, io: &mut Io) -> bool {
        if self.state != TcpState::Established || self.out_len > 0 || len == 0 {
            return false;
        }
        self.disarm(Timer::Wake);
        let seq = self.snd_nxt;
        self.snd_nxt = seq.wrapping_add(len);
        self.out_len = len;
        self.retries = 0;
        self.retransmitted = false;
        self.sent_at = now;
        self.emit(io, Flags::PSH | Flags::ACK, seq, len);
        self.arm_retransmit(now, io.cfg.segment_timeout, io.cfg);
        true
    }

    /// Starts the close: ESTABLISHED -> FIN-WAIT, sending FIN. Returns false,
    /// sending nothing, in any other state or while a segment is out.
    pub fn close(&mut self, now: SimTime, io: &mut Io) -> bool {
        if self.state != TcpState::Established || self.out_len > 0 {
            return false;
        }
        self.disarm(Timer::Wake);
        let seq = self.snd_nxt;
        self.snd_nxt = seq.wrapping_add(1);
        self.retries = 0;
        self.retransmitted = false;
        self.sent_at = now;
        self.set_state(now, TcpState::FinWait, io.book);
        self.emit(io, Flags::FIN | Flags::ACK, seq, 0);
        self.arm_retransmit(now, io.cfg.segment_timeout, io.cfg);
        true
    }

    /// Drops the connection on the spot, as a crashed host would: no FIN,
    /// no RST, timers disarmed.
    pub fn abort(&mut self, now: SimTime, book: &mut ClientStates) -> Outcome {
        if self.state == TcpState::Closed {
            self.disarm(Timer::Wake);
            return Outcome::Nothing;
        }
        self.fail(now, FailReason::Killed, book)
    }

    fn fail(&mut self, now: SimTime, reason: FailReason, book: &mut ClientStates) -> Outcome {
        self.out_len = 0;
        self.disarm(Timer::Retransmit);
        self.disarm(Timer::Wake);
        self.set_state(now, TcpState::Closed, book);
        Outcome::Failed(reason)
    }

    /// Handles a packet addressed to this client's current connection.
    #[inline(always)]
    pub fn on_packet(&mut self, p: &Packet, now: SimTime, io: &mut Io) -> Outcome {
        let f = p.flags;
        // In SYN-SENT nothing is acknowledged yet, so `snd_una` is the ISN.
        let acks_syn = f.contains(Flags::ACK) && p.ack == self.snd_una.wrapping_add(1);
        match self.state {
            // Nothing open: a late packet of an old connection.
            TcpState::Closed => Outcome::Dropped(DropReason::NoSocket),
            // RST in SYN-SENT is believed only if it acknowledges our SYN
            // (RFC 9293 3.10.7.3): the server refused.
            TcpState::SynSent if f.contains(Flags::RST) => {
                if acks_syn {
                    self.fail(now, FailReason::Refused, io.book)
                } else {
                    Outcome::Dropped(DropReason::RstBadAck)
                }
            }
            // SYN|ACK acknowledging our SYN: send ACK, now ESTABLISHED.
            TcpState::SynSent if f.contains(Flags::SYN) && acks_syn => {
                self.rcv_nxt = p.seq.wrapping_add(1);
                self.snd_una = p.ack;
                if !self.retransmitted {
                    self.rto.sample(now - self.sent_at);
                }
                self.disarm(Timer::Retransmit);
                self.set_state(now, TcpState::Established, io.book);
                self.emit(io, Flags::ACK, self.snd_nxt, 0);
                Outcome::Established {
                    handshake: now - self.started_at,
                }
            }
            // Anything else in SYN-SENT (a SYN|ACK for another ISN).
            TcpState::SynSent => Outcome::Dropped(DropReason::Unexpected),
            // RST on an open connection: checked by its sequence number.
            TcpState::Established | TcpState::FinWait if f.contains(Flags::RST) => {
                self.on_rst(p, now, io)
            }
            // Our handshake ACK was lost and the server repeated SYN|ACK.
            TcpState::Established if f.contains(Flags::SYN) => {
                if p.seq.wrapping_add(1) != self.rcv_nxt {
                    return Outcome::Dropped(DropReason::Unexpected);
                }
                self.emit(io, Flags::ACK, self.snd_nxt, 0);
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
                self.disarm(Timer::Retransmit);
                Outcome::SegmentAcked { latency }
            }
            // Duplicate or old ACKs change nothing.
            TcpState::Established => Outcome::Dropped(DropReason::Duplicate),
            // FIN|ACK acknowledging our FIN: final ACK, CLOSED.
            TcpState::FinWait if f.contains(Flags::FIN) && p.ack == self.snd_nxt => {
                self.rcv_nxt = p.seq.wrapping_add(1);
                self.emit(io, Flags::ACK, self.snd_nxt, 0);
                self.disarm(Timer::Retransmit);
                self.set_state(now, TcpState::Closed, io.book);
                Outcome::Completed {
                    duration: now - self.started_at,
                }
            }
            // A late ACK of the last segment, or a FIN for another one.
            TcpState::FinWait => Outcome::Dropped(DropReason::Duplicate),
        }
    }

    /// An RST on an open connection (RFC 9293 3.10.7.4, RFC 5961 3.2): at
    /// the sequence number we expect it resets the connection; elsewhere in
    /// the window it gets a challenge ACK, so a real peer can resend; out of
    /// the window it is dropped.
    fn on_rst(&mut self, p: &Packet, now: SimTime, io: &mut Io) -> Outcome {
        let offset = p.seq.wrapping_sub(self.rcv_nxt);
        if offset == 0 {
            self.fail(now, FailReason::Reset, io.book)
        } else if offset < RECEIVE_WINDOW {
            self.emit(io, Flags::ACK, self.snd_nxt, 0);
            Outcome::Nothing
        } else {
            Outcome::Dropped(DropReason::RstOutOfWindow)
        }
    }

    /// Handles the retransmission timer: resend, or give up with a reason
    /// once `max_retransmissions` resends went unanswered.
    pub fn on_retransmit_timer(&mut self, now: SimTime, io: &mut Io) -> Outcome {
        self.disarm(Timer::Retransmit);
        let cfg = io.cfg;
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
            return self.fail(now, reason, io.book);
        }
        self.retries += 1;
        self.retransmitted = true;
        self.rto.back_off();
        match kind {
            Retransmission::Syn => self.emit(io, Flags::SYN, self.snd_una, 0),
            Retransmission::Data => {
                self.emit(io, Flags::PSH | Flags::ACK, self.snd_una, self.out_len)
            }
            Retransmission::Fin => {
                let fin = self.snd_nxt.wrapping_sub(1);
                self.emit(io, Flags::FIN | Flags::ACK, fin, 0)
            }
        }
        self.arm_retransmit(now, base, cfg);
        Outcome::Retransmitted(kind)
    }
}
