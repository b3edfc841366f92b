//! The checks a new client connection passes before anything else is
//! spent on it, cheapest first: the source filter, the per-source rate
//! limit, the cap on open connections.

use super::shared::{Shared, policy_ip};
use super::stats::Rejection;
use std::net::IpAddr;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};

/// Holds one place under `max_connections` until dropped.
pub struct Admitted<'a> {
    shared: &'a Shared,
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.shared.open.fetch_sub(1, AcqRel);
    }
}

/// Admits a connection from `source`, or says why not.
pub fn admit(shared: &Shared, source: IpAddr) -> Result<Admitted<'_>, Rejection> {
    let (ip, is_v4) = policy_ip(source);
    let filter = shared.filter.load();
    let filtered = if is_v4 {
        !filter.verdict(ip).is_allowed()
    } else {
        !filter.allow().is_empty()
    };
    if filtered {
        return Err(Rejection::Filtered);
    }
    let config = shared.config.load();
    // The cap first: a connection it refuses must not use up one of its
    // source's rate-limit tokens.
    let max = config.max_connections.unwrap_or(u32::MAX);
    let before = shared.open.fetch_add(1, AcqRel);
    if before >= max {
        shared.open.fetch_sub(1, Relaxed);
        return Err(Rejection::TooManyConnections);
    }
    let admitted = Admitted { shared };
    // Without a limit configured, no connection pays for the lock.
    if config.rate_limit.is_some() {
        let mut limiter = shared.limiter.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(limiter) = limiter.as_mut()
            && !limiter.check(ip, shared.now()).is_allow()
        {
            // Dropping `admitted` gives the place back.
            return Err(Rejection::RateLimited);
        }
    }
    Ok(admitted)
}
