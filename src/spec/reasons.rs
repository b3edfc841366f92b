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
    /// A SYN arrived for a backend already at its half-open limit.
    HalfOpenLimit,
    /// A non-SYN packet matched no conn-table entry.
    NoConnEntry,
    /// It reached a server that is down.
    ServerDown,
    /// The server's listen backlog of half-open connections was full.
    BacklogFull,
    /// It reached a client address with no matching connection (a spoofed
    /// source, a killed client, or a connection already closed).
    NoSocket,
    /// Its flags make no sense together (SYN with FIN, no flag at all...).
    InvalidFlags,
    /// Its source is denied (or not allowed) by the balancer's filter.
    Filtered,
    /// Its source opened new connections faster than the rate limit allows.
    RateLimited,
    /// An ACK for no connection whose SYN cookie did not check out.
    BadCookie,
}

impl DropReason {
    /// Every reason, in a stable order (the index of each counter).
    pub const ALL: [DropReason; 11] = [
        DropReason::LinkLoss,
        DropReason::NoHealthyBackend,
        DropReason::HalfOpenLimit,
        DropReason::NoConnEntry,
        DropReason::ServerDown,
        DropReason::BacklogFull,
        DropReason::NoSocket,
        DropReason::InvalidFlags,
        DropReason::Filtered,
        DropReason::RateLimited,
        DropReason::BadCookie,
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
            DropReason::HalfOpenLimit => "half-open-limit",
            DropReason::NoConnEntry => "no-conn-entry",
            DropReason::ServerDown => "server-down",
            DropReason::BacklogFull => "backlog-full",
            DropReason::NoSocket => "no-socket",
            DropReason::InvalidFlags => "invalid-flags",
            DropReason::Filtered => "filtered",
            DropReason::RateLimited => "rate-limited",
            DropReason::BadCookie => "bad-cookie",
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
    /// The server answered the SYN with RST (it was at `max_connections`).
    Refused,
    /// An RST ended an established connection.
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
