//! What the proxy counts besides each backend's own counters: accepted
//! connections and every refusal by its reason.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Why a client connection was closed without being proxied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rejection {
    /// Its source is denied, or not on the allow list.
    Filtered,
    /// Its source opened connections faster than the rate limit allows.
    RateLimited,
    /// The proxy already had `max_connections` open.
    TooManyConnections,
    /// No backend was healthy and in rotation.
    NoBackend,
    /// Every backend tried refused the connect or timed out.
    BackendUnreachable,
    /// The client's TLS handshake failed or took too long.
    TlsHandshake,
}

impl Rejection {
    /// Every reason, in the order tables and metrics list them.
    pub const ALL: [Rejection; 6] = [
        Rejection::Filtered,
        Rejection::RateLimited,
        Rejection::TooManyConnections,
        Rejection::NoBackend,
        Rejection::BackendUnreachable,
        Rejection::TlsHandshake,
    ];

    /// The reason's name in logs and metric labels.
    pub const fn name(self) -> &'static str {
        match self {
            Rejection::Filtered => "filtered",
            Rejection::RateLimited => "rate-limited",
            Rejection::TooManyConnections => "too-many-connections",
            Rejection::NoBackend => "no-healthy-backend",
            Rejection::BackendUnreachable => "backend-unreachable",
            Rejection::TlsHandshake => "tls-handshake",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Proxy-wide counters, updated from every connection's task.
#[derive(Debug, Default)]
pub struct Stats {
    /// Client connections accepted by the listener.
    pub accepted: AtomicU64,
    /// Client connections proxied to a backend.
    pub proxied: AtomicU64,
    /// Proxied connections closed for idling past the idle timeout.
    pub idle_closed: AtomicU64,
    /// Connections cut when the drain timeout ran out at shutdown.
    pub cut_at_shutdown: AtomicU64,
    rejected: [AtomicU64; Rejection::ALL.len()],
}

impl Stats {
    /// Counts one refusal.
    pub fn reject(&self, why: Rejection) {
        self.rejected[why.index()].fetch_add(1, Relaxed);
    }

    /// Refusals so far for `why`.
    pub fn rejected(&self, why: Rejection) -> u64 {
        self.rejected[why.index()].load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_counts_on_its_own() {
        let s = Stats::default();
        s.reject(Rejection::RateLimited);
        s.reject(Rejection::RateLimited);
        s.reject(Rejection::TlsHandshake);
        assert_eq!(s.rejected(Rejection::RateLimited), 2);
        assert_eq!(s.rejected(Rejection::TlsHandshake), 1);
        assert_eq!(s.rejected(Rejection::Filtered), 0);
    }
}
