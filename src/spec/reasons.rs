//! Why a packet was dropped and why a connection failed: every loss in the
//! World has one of these names.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a packet never reached anyone who wanted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DropReason {
    /// The link lost it (its loss probability).
    LinkLoss,
    /// A SYN arrived and no backend was healthy and accepting.
    NoHealthyBackend,
    /// A SYN arrived under weighted round robin and every healthy,
    /// accepting backend has weight 0. Weight 0 takes no new connections
    /// (as in HAProxy), so this is a configuration the balancer obeys, not
    /// a health problem.
    NoWeightedBackend,
    /// A SYN arrived for a backend already at its half-open limit.
    HalfOpenLimit,
    /// A non-SYN packet matched no conn-table entry.
    NoConnEntry,
    /// It reached a server that is down.
    ServerDown,
    /// The server's listen backlog of half-open connections was full.
    BacklogFull,
    /// It reached an address with no matching connection (a spoofed
    /// source, a killed client, a connection already closed, an RST for a
    /// connection the server never had).
    NoSocket,
    /// Its flags make no sense together (SYN with FIN, no flag at all...).
    InvalidFlags,
    /// Its source is denied (or not allowed) by the balancer's filter.
    Filtered,
    /// Its source opened new connections faster than the rate limit allows.
    RateLimited,
    /// An ACK for no connection whose SYN cookie did not check out.
    BadCookie,
    /// An RST in SYN-SENT that does not acknowledge the SYN (RFC 9293
    /// 3.10.7.3): it cannot be an answer to this connection.
    RstBadAck,
    /// An RST whose sequence number lies outside the receive window (RFC
    /// 9293 3.10.7.4): a stale or blind reset.
    RstOutOfWindow,
    /// A segment already seen: an old ACK, a repeated SYN on an open
    /// connection, a retransmission of a segment still in service.
    Duplicate,
    /// A segment the connection's state has no use for: a SYN|ACK for
    /// another ISN, an ACK that acknowledges nothing sent.
    Unexpected,
    /// A health probe's answer that came after the probe had timed out.
    StaleProbe,
    /// A SYN found its backend at its connection cap and the balancer's
    /// queue full.
    QueueFull,
    /// A retransmitted SYN of a connection whose first SYN waits in the
    /// balancer's queue.
    AlreadyQueued,
}

impl DropReason {
    /// Every reason, in a stable order (the index of each counter).
    pub const ALL: [DropReason; 19] = [
        DropReason::LinkLoss,
        DropReason::NoHealthyBackend,
        DropReason::NoWeightedBackend,
        DropReason::HalfOpenLimit,
        DropReason::NoConnEntry,
        DropReason::ServerDown,
        DropReason::BacklogFull,
        DropReason::NoSocket,
        DropReason::InvalidFlags,
        DropReason::Filtered,
        DropReason::RateLimited,
        DropReason::BadCookie,
        DropReason::RstBadAck,
        DropReason::RstOutOfWindow,
        DropReason::Duplicate,
        DropReason::Unexpected,
        DropReason::StaleProbe,
        DropReason::QueueFull,
        DropReason::AlreadyQueued,
    ];

    /// Number of reasons.
    pub const COUNT: usize = DropReason::ALL.len();

    /// Position in [`DropReason::ALL`].
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Short name for tables (`half-open-limit`).
    pub const fn name(self) -> &'static str {
        match self {
            DropReason::LinkLoss => "link-loss",
            DropReason::NoHealthyBackend => "no-healthy-backend",
            DropReason::NoWeightedBackend => "no-weighted-backend",
            DropReason::HalfOpenLimit => "half-open-limit",
            DropReason::NoConnEntry => "no-conn-entry",
            DropReason::ServerDown => "server-down",
            DropReason::BacklogFull => "backlog-full",
            DropReason::NoSocket => "no-socket",
            DropReason::InvalidFlags => "invalid-flags",
            DropReason::Filtered => "filtered",
            DropReason::RateLimited => "rate-limited",
            DropReason::BadCookie => "bad-cookie",
            DropReason::RstBadAck => "rst-bad-ack",
            DropReason::RstOutOfWindow => "rst-out-of-window",
            DropReason::Duplicate => "duplicate",
            DropReason::Unexpected => "unexpected",
            DropReason::StaleProbe => "stale-probe",
            DropReason::QueueFull => "queue-full",
            DropReason::AlreadyQueued => "already-queued",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a client connection ended without completing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FailReason {
    /// No SYN|ACK after every SYN retransmission.
    SynTimeout,
    /// A data segment stayed unacknowledged after every retransmission.
    DataTimeout,
    /// No FIN|ACK after every FIN retransmission.
    FinTimeout,
    /// The SYN was answered with an RST that acknowledged it: the server
    /// was at `max_connections`.
    Refused,
    /// An RST at the expected sequence number ended an open connection
    /// (the server forgot it, or the balancer reset it).
    Reset,
    /// The client was killed by a command.
    Killed,
}

impl FailReason {
    /// Every reason, in a stable order (the index of each counter).
    pub const ALL: [FailReason; 6] = [
        FailReason::SynTimeout,
        FailReason::DataTimeout,
        FailReason::FinTimeout,
        FailReason::Refused,
        FailReason::Reset,
        FailReason::Killed,
    ];

    /// Number of reasons.
    pub const COUNT: usize = FailReason::ALL.len();

    /// Position in [`FailReason::ALL`].
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Short name for tables (`syn-timeout`).
    pub const fn name(self) -> &'static str {
        match self {
            FailReason::SynTimeout => "syn-timeout",
            FailReason::DataTimeout => "data-timeout",
            FailReason::FinTimeout => "fin-timeout",
            FailReason::Refused => "refused",
            FailReason::Reset => "reset",
            FailReason::Killed => "killed",
        }
    }
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_match_positions() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        for (i, r) in FailReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }
}
