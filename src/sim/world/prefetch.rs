//! Memory the next event will touch, asked for while this one runs. In a
//! world of a hundred thousand clients an event's first touch of its
//! client, conn-table entry or server connection is a cache miss that
//! stalls the core; issued one event ahead, the loads overlap the work of
//! the event before. A prefetch changes no value the program reads, so
//! results stay exactly the same; on a machine without one it is a no-op.

use super::{Dest, Event, World};
use crate::sim::addressing::client_index;

/// Asks the caches for the line holding `*value` (and the next one).
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let p = (value as *const T).cast::<i8>();
        // SAFETY: a prefetch is a hint: it never faults and writes nothing,
        // and `p` comes from a reference, so it points into our memory.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(p);
            if std::mem::size_of::<T>() > 64 {
                _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

impl World {
    /// Prefetches what handling `next` will read first.
    #[inline]
    pub(super) fn prefetch_for(&self, next: &Event) {
        let client = match next {
            Event::ClientTimer { client, .. } => Some(*client as usize),
            Event::Deliver {
                to: Dest::Client,
                packet,
            } => client_index(packet.key.dst.ip),
            Event::Deliver {
                to: Dest::Balancer,
                packet,
            } => {
                if let Some(e) = self.lb.table.newest_entry(&packet.key.src.ip) {
                    prefetch(e);
                }
                None
            }
            Event::Deliver {
                to: Dest::BalancerFrom(_),
                packet,
            } => {
                if let Some(e) = self.lb.table.newest_entry(&packet.key.dst.ip) {
                    prefetch(e);
                }
                None
            }
            Event::Deliver {
                to: Dest::Server(s),
                packet,
            } => {
                let hint = client_index(packet.key.src.ip)
                    .and_then(|c| self.conn_hints.get(c))
                    .and_then(|&h| h.checked_sub(1));
                if let Some(conn) = hint.and_then(|h| self.servers.get(*s as usize)?.peek_conn(h)) {
                    prefetch(conn);
                }
                None
            }
            Event::ServiceDone { server, job, .. } => {
                if let Some(conn) = self
                    .servers
                    .get(*server as usize)
                    .and_then(|s| s.peek_conn(job.slot))
                {
                    prefetch(conn);
                }
                None
            }
            _ => None,
        };
        if let Some(c) = client {
            if let Some(client) = self.clients.get(c) {
                prefetch(client);
            }
            if let Some(meta) = self.meta.get(c) {
                prefetch(meta);
            }
        }
    }
}
