//! Memory events to come will touch, asked for while this one runs. In a
//! world of a hundred thousand clients an event's first touch of its
//! client, conn-table entry or server connection is a cache miss that
//! stalls the core, and finding that memory takes misses of its own (the
//! queue's item, then a hint table). So the World looks ahead in the lane
//! the last event came from, which in such a world holds thousands of
//! events in order, and asks in stages: each stage's loads find in the
//! caches what the stage before asked for, events earlier. Asking for the
//! next event's memory only (one event ahead) left the loads that find it
//! to stall, and was 1.16 times slower. A prefetch changes no value the
//! program reads, so results stay exactly the same; on a machine without
//! one it is a no-op.

use super::{Dest, Event, World};
use crate::sim::addressing::client_index;

/// Asks the caches for every line `*value` spans (a 128-byte client
/// not aligned to a line spans three).
#[inline(always)]
pub(in crate::sim) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let p = (value as *const T).cast::<i8>();
        let size = std::mem::size_of::<T>().max(1);
        let first = (p as usize) & !63;
        let lines = ((p as usize + size - 1) - first) / 64 + 1;
        for line in 0..lines {
            // SAFETY: a prefetch is a hint: it never faults and writes
            // nothing, and every address is within a line `*value` spans.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(line * 64)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// How far ahead in a lane the stages of [`World::prefetch_ahead`] look:
/// the lane's own memory first, then the small tables of hints an event's
/// handling reads, then what the hints point to, each stage finding in
/// the caches what the one before asked for.
const LANE_ITEMS_AHEAD: usize = 16;
const HINTS_AHEAD: usize = 8;
const TARGETS_AHEAD: usize = 3;

impl World {
    /// Prefetches, in stages, for the events coming after the next in the
    /// lane the last event came from.
    #[inline]
    pub(super) fn prefetch_ahead(&self) {
        if let Some(e) = self.queue.lane_ahead(LANE_ITEMS_AHEAD) {
            prefetch(e);
        }
        if let Some(e) = self.queue.lane_ahead(HINTS_AHEAD) {
            self.prefetch_hints_for(e);
        }
        if let Some(e) = self.queue.lane_ahead(TARGETS_AHEAD) {
            self.prefetch_for(e);
        }
    }

    /// Prefetches the hints that handling `next` will read to find its
    /// connection.
    #[inline]
    fn prefetch_hints_for(&self, next: &Event) {
        if let Event::Deliver { to, packet } = next {
            match to {
                Dest::Balancer => self.lb.table.prefetch_newest(&packet.key.src.ip),
                Dest::BalancerFrom(_) => self.lb.table.prefetch_newest(&packet.key.dst.ip),
                Dest::Server(_) => {
                    if let Some(h) =
                        client_index(packet.key.src.ip).and_then(|c| self.conn_hints.get(c))
                    {
                        prefetch(h);
                    }
                }
                Dest::Client => {}
            }
        }
    }

    /// Prefetches what handling `next` will read first.
    #[inline]
    fn prefetch_for(&self, next: &Event) {
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
        if let Some(client) = client.and_then(|c| self.clients.get(c)) {
            prefetch(client);
        }
    }
}
