//! Sticky sessions by source address (document 001): a source goes back
//! to the backend it last used, for as long as the session lasts and that
//! backend can take it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Past this many remembered sources, expired ones are swept on insert,
/// so the table cannot grow without bound under many sources.
const SWEEP_ABOVE: usize = 65_536;

/// Each recent source's backend (by address, which survives reloads) and
/// when its session ends.
#[derive(Debug, Default)]
pub struct Sticky {
    sessions: Mutex<HashMap<IpAddr, (SocketAddr, Instant)>>,
}

impl Sticky {
    /// The backend `source` is stuck to at `now`, if its session is live.
    pub fn get(&self, source: IpAddr, now: Instant) -> Option<SocketAddr> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .get(&source)
            .filter(|(_, until)| *until > now)
            .map(|(backend, _)| *backend)
    }

    /// Sticks `source` to `backend` for `ttl` from `now`.
    pub fn set(&self, source: IpAddr, backend: SocketAddr, now: Instant, ttl: Duration) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if sessions.len() >= SWEEP_ABOVE {
            sessions.retain(|_, (_, until)| *until > now);
        }
        sessions.insert(source, (backend, now + ttl));
    }

    /// Sources remembered now (expired ones included until swept).
    pub fn len(&self) -> usize {
        self.sessions.lock().map_or(0, |s| s.len())
    }

    /// No source is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_holds_until_it_expires() {
        let s = Sticky::default();
        let src: IpAddr = "10.0.0.1".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:9002".parse().unwrap();
        let t0 = Instant::now();
        s.set(src, b, t0, Duration::from_secs(5));
        assert_eq!(s.get(src, t0 + Duration::from_secs(4)), Some(b));
        assert_eq!(s.get(src, t0 + Duration::from_secs(5)), None);
        assert_eq!(s.get("10.0.0.2".parse().unwrap(), t0), None);
    }
}
