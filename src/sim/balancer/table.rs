//! The conn table: one entry per flow the balancer watches, found by the
//! client's 4-tuple in O(1), kept in a slab of slots that generations
//! guard, each with one authoritative idle-timer deadline. Every change of
//! an entry's state goes through [`ConnTable::set_state`], which keeps the
//! per-backend counts the algorithms read.
//!
//! Besides the hash index, each client address remembers the slot of its
//! newest flow: a client has one connection at a time, so almost every
//! lookup is one read of a small array instead of a probe of a big table
//! (in a world of a hundred thousand clients, a cache miss saved twice per
//! segment). A lookup the array cannot answer falls back to the index.

use super::marks::{Mark, Marks};
use crate::model::{FourTuple, Packet, SimDuration, SimTime};
use crate::policy::BackendView;
use crate::sim::addressing::client_index;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::fmt;

/// Where a conn-table entry is in the TCP exchange it watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    /// SYN forwarded; the client's ACK not yet seen (half-open).
    SynRecv,
    /// Handshake completed.
    Established,
    /// The client sent FIN.
    FinWait,
    /// The backend answered FIN|ACK; waiting for the client's last ACK.
    Closing,
    /// A SYN cookie was good: the balancer sent the backend a SYN of its
    /// own and waits for its SYN|ACK.
    Proxying,
}

impl EntryState {
    /// Counted as half-open (not yet established).
    pub const fn is_half_open(self) -> bool {
        matches!(self, EntryState::SynRecv | EntryState::Proxying)
    }
}

impl fmt::Display for EntryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryState::SynRecv => "SYN-RECEIVED",
            EntryState::Established => "ESTABLISHED",
            EntryState::FinWait => "FIN-WAIT",
            EntryState::Closing => "CLOSING",
            EntryState::Proxying => "PROXYING",
        })
    }
}

/// One conn-table entry: 64 bytes, aligned to a cache line, so a lookup
/// touches one line (a world of a hundred thousand connections misses the
/// caches on every entry it touches).
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
pub struct Entry {
    /// The flow as the client sends it (client -> VIP).
    pub client: FourTuple,
    /// Index of the backend it was sent to.
    pub backend: u32,
    /// TCP progress seen by the balancer.
    pub state: EntryState,
    /// Last packet in either direction.
    pub last_seen: SimTime,
    /// Due time of the one idle-timer event that counts for this entry.
    pub timer_at: SimTime,
    /// Bumped when the slot is freed, so old timer events miss.
    pub generation: u32,
    /// For a connection opened by a SYN cookie: while proxying, the
    /// cookie; after, the backend's ISN minus the cookie, added to the
    /// client's acknowledgements and taken from the backend's sequence
    /// numbers.
    pub seq_delta: u32,
    /// The sequence number the client expects next: where an RST must be
    /// to be believed.
    pub rcv_nxt: u32,
    /// Where the outstanding request ends in the client's sequence space:
    /// an acknowledgement at or past it answers the request.
    pub request_end: u32,
    /// When the outstanding request first went to the backend (a
    /// retransmission does not restart the clock: the client waited).
    pub request_at: SimTime,
    /// SYNs of this connection the backend has been sent unanswered, for
    /// redispatch.
    pub syn_tries: u8,
    /// Its yes-or-no facts (see [`Mark`]).
    marks: Marks,
}

// An entry that outgrows a cache line costs a second miss per packet in a
// big world; a new field must make room.
const _: () = assert!(std::mem::size_of::<Entry>() == 64);

impl Entry {
    /// Opened by a SYN cookie (the balancer did the client's handshake).
    #[inline]
    pub fn proxied(&self) -> bool {
        self.marks.has(Mark::Proxied)
    }

    /// The client has been answered, so `rcv_nxt` is known.
    #[inline]
    pub fn answered(&self) -> bool {
        self.marks.has(Mark::Answered)
    }

    /// A request went to the backend and its acknowledgement has not come
    /// back.
    #[inline(always)]
    fn awaiting(&self) -> bool {
        self.marks.has(Mark::Awaiting)
    }

    #[inline(always)]
    fn live(&self) -> bool {
        self.marks.has(Mark::Live)
    }
}

/// The idle timeouts in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdleTimeouts {
    /// Idle time before a half-open entry is swept.
    pub half_open: SimDuration,
    /// Idle time before an established entry is swept.
    pub established: SimDuration,
}

impl IdleTimeouts {
    /// The idle timeout that applies to an entry in `state`.
    pub const fn for_state(self, state: EntryState) -> SimDuration {
        if state.is_half_open() {
            self.half_open
        } else {
            self.established
        }
    }
}

/// What an idle-timer event found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleCheck {
    /// The event no longer counts (entry gone or re-armed).
    Stale,
    /// The entry was idle too long and is gone.
    Expired,
    /// Still active: check again at this time.
    Recheck(SimTime),
}

/// What the table counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Entries created.
    pub created: u64,
    /// Half-open entries swept for idleness.
    pub half_open_expired: u64,
    /// Established entries swept for idleness.
    pub established_expired: u64,
    /// Half-open entries forgotten to make room (early drop).
    pub early_drops: u64,
}

/// The conn table.
#[derive(Clone, Debug, Default)]
pub struct ConnTable {
    index: FxHashMap<FourTuple, u32>,
    entries: Vec<Entry>,
    free: Vec<u32>,
    /// Half-open entries per backend, oldest first, kept only while early
    /// drop is on (entries that moved on are skipped lazily).
    half_open_fifo: Option<Vec<VecDeque<(u32, u32)>>>,
    /// The one client segment each proxying entry keeps, by slot.
    held: FxHashMap<u32, Packet>,
    /// The slot of each client address's newest flow, plus one (0: none).
    newest: Vec<u32>,
    /// Counters.
    pub stats: TableStats,
    /// Half-open entries of every backend: kept here so the World can
    /// average it over time at each event without summing the backends.
    half_open: u64,
}

impl ConnTable {
    /// Entries in the table.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Half-open entries now, of every backend.
    pub fn half_open(&self) -> u64 {
        self.half_open
    }

    /// The table is empty.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The slot of the flow `key` (client -> VIP), if it has an entry.
    #[inline(always)]
    pub fn find(&self, key: &FourTuple) -> Option<u32> {
        if let Some(slot) = client_index(key.src.ip)
            .and_then(|i| self.newest.get(i))
            .and_then(|&s| s.checked_sub(1))
        {
            let e = &self.entries[slot as usize];
            if e.live() && e.client == *key {
                return Some(slot);
            }
        }
        self.index.get(key).copied()
    }

    /// The newest entry of client address `ip`, if it has one: what a
    /// prefetch of the next lookup asks for.
    #[inline]
    pub fn newest_entry(&self, ip: &crate::model::Ip) -> Option<&Entry> {
        let slot = client_index(*ip)
            .and_then(|i| self.newest.get(i))
            .and_then(|&s| s.checked_sub(1))?;
        self.entries.get(slot as usize)
    }

    /// Prefetches client address `ip`'s hint to its newest entry.
    #[inline]
    pub fn prefetch_newest(&self, ip: &crate::model::Ip) {
        if let Some(h) = client_index(*ip).and_then(|i| self.newest.get(i)) {
            crate::sim::world::prefetch(h);
        }
    }

    /// The entry in `slot`.
    #[inline]
    pub fn entry(&self, slot: u32) -> &Entry {
        &self.entries[slot as usize]
    }

    /// The generation of `slot`, which its idle-timer events carry.
    pub fn generation(&self, slot: u32) -> u32 {
        self.entries.get(slot as usize).map_or(0, |e| e.generation)
    }

    /// Notes traffic on `slot` at `now` (the idle clock starts over).
    #[inline]
    pub fn touch(&mut self, slot: u32, now: SimTime) {
        self.entries[slot as usize].last_seen = now;
    }

    /// Notes what the client was sent on `slot`: the sequence number it
    /// expects next.
    #[inline]
    pub fn answered(&mut self, slot: u32, rcv_nxt: u32) {
        let e = &mut self.entries[slot as usize];
        e.marks.set(Mark::Answered, true);
        e.rcv_nxt = rcv_nxt;
    }

    /// A client data segment ending at `end` (in the client's sequence
    /// space) went to the backend at `now`. It starts a request unless one
    /// is outstanding already; a later segment before the answer only moves
    /// the end, so a pipelining client counts once, as HTTP/1.1's one
    /// request in flight would.
    pub fn request_sent(&mut self, slot: u32, end: u32, now: SimTime, views: &mut [BackendView]) {
        let e = &mut self.entries[slot as usize];
        if e.marks.has(Mark::Opening) {
            // The request the connection was counted for from its SYN: the
            // clock of its answer starts now.
            e.marks.set(Mark::Opening, false);
            e.request_end = end;
            e.request_at = now;
            return;
        }
        if e.awaiting() {
            if seq_after(end, e.request_end) {
                e.request_end = end;
            }
            return;
        }
        e.marks.set(Mark::Awaiting, true);
        e.request_end = end;
        e.request_at = now;
        views[e.backend as usize].outstanding += 1;
    }

    /// One more SYN of the entry in `slot` went to its backend unanswered.
    pub fn count_syn(&mut self, slot: u32) {
        let e = &mut self.entries[slot as usize];
        e.syn_tries = e.syn_tries.saturating_add(1);
    }

    /// The backend acknowledged the client's bytes up to `ack` at `now`:
    /// if that covers the outstanding request, it is answered and its
    /// response time returned.
    pub fn request_acked(
        &mut self,
        slot: u32,
        ack: u32,
        now: SimTime,
        views: &mut [BackendView],
    ) -> Option<SimDuration> {
        let e = &mut self.entries[slot as usize];
        if !e.awaiting() || e.marks.has(Mark::Opening) || seq_after(e.request_end, ack) {
            return None;
        }
        e.marks.set(Mark::Awaiting, false);
        views[e.backend as usize].outstanding -= 1;
        Some(now.saturating_since(e.request_at))
    }

    /// Sets the sequence offset of a proxied entry.
    pub fn set_seq_delta(&mut self, slot: u32, delta: u32) {
        self.entries[slot as usize].seq_delta = delta;
    }

    /// Keeps the client's newest segment for a proxying entry.
    pub fn hold(&mut self, slot: u32, p: Packet) {
        self.held.insert(slot, p);
    }

    /// Takes the segment a proxying entry kept, if any.
    pub fn take_held(&mut self, slot: u32) -> Option<Packet> {
        self.held.remove(&slot)
    }

    /// A backend joined the pool.
    pub fn add_backend(&mut self) {
        if let Some(fifo) = &mut self.half_open_fifo {
            fifo.push(VecDeque::new());
        }
    }

    /// Records a new entry for `key` on backend `b` in `state` (which must
    /// be half-open); returns its slot and first idle deadline.
    pub fn insert(
        &mut self,
        key: FourTuple,
        b: usize,
        state: EntryState,
        now: SimTime,
        timeouts: IdleTimeouts,
        views: &mut [BackendView],
    ) -> (u32, SimTime) {
        let timer_at = now + timeouts.half_open;
        let mut entry = Entry {
            client: key,
            backend: b as u32,
            state,
            last_seen: now,
            timer_at,
            generation: 0,
            seq_delta: 0,
            rcv_nxt: 0,
            request_end: 0,
            request_at: now,
            syn_tries: 1,
            marks: Marks::of(&[Mark::Awaiting, Mark::Opening, Mark::Live]),
        };
        entry
            .marks
            .set(Mark::Proxied, state == EntryState::Proxying);
        let slot = match self.free.pop() {
            Some(slot) => {
                let generation = self.entries[slot as usize].generation;
                self.entries[slot as usize] = Entry {
                    generation,
                    ..entry
                };
                slot
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        self.index.insert(key, slot);
        if let Some(i) = client_index(key.src.ip) {
            if i >= self.newest.len() {
                self.newest.resize(i + 1, 0);
            }
            self.newest[i] = slot + 1;
        }
        if let Some(fifo) = &mut self.half_open_fifo {
            let generation = self.entries[slot as usize].generation;
            let queue = &mut fifo[b];
            // Entries that left half-open are dropped from the front as new
            // ones arrive, so the queue holds about one timeout's worth.
            while let Some(&(s, g)) = queue.front() {
                let e = &self.entries[s as usize];
                if e.live() && e.generation == g && e.state.is_half_open() {
                    break;
                }
                queue.pop_front();
            }
            queue.push_back((slot, generation));
        }
        views[b].half_open += 1;
        self.half_open += 1;
        views[b].outstanding += 1;
        self.stats.created += 1;
        tracing::trace!(slot, backend = b, state = %state, "conn-table entry created");
        (slot, timer_at)
    }

    /// Moves the entry in `slot` to `to`, keeping its backend's counts of
    /// half-open and active connections.
    pub fn set_state(
        &mut self,
        slot: u32,
        now: SimTime,
        to: EntryState,
        views: &mut [BackendView],
    ) {
        let e = &mut self.entries[slot as usize];
        let from = e.state;
        e.state = to;
        let v = &mut views[e.backend as usize];
        if from.is_half_open() && !to.is_half_open() {
            v.half_open -= 1;
            self.half_open -= 1;
            v.active += 1;
        }
        tracing::trace!(slot, at = %now, %from, %to, "conn-table entry");
    }

    /// Forgets the entry in `slot` (and its held segment); its idle-timer
    /// events will miss.
    pub fn remove(&mut self, slot: u32, views: &mut [BackendView]) {
        let e = &mut self.entries[slot as usize];
        if !e.live() {
            return;
        }
        e.marks.set(Mark::Live, false);
        e.generation = e.generation.wrapping_add(1);
        e.timer_at = SimTime::MAX;
        let v = &mut views[e.backend as usize];
        if e.state.is_half_open() {
            v.half_open -= 1;
            self.half_open -= 1;
        } else {
            v.active -= 1;
        }
        if e.awaiting() {
            e.marks.set(Mark::Awaiting, false);
            v.outstanding -= 1;
        }
        let key = e.client;
        self.index.remove(&key);
        if let Some(newest) = client_index(key.src.ip).and_then(|i| self.newest.get_mut(i))
            && *newest == slot + 1
        {
            *newest = 0;
        }
        self.held.remove(&slot);
        self.free.push(slot);
    }

    /// Early drop (IPVS's `drop_entry`): at the half-open limit, forget the
    /// backend's oldest half-open entry to make room. True if one went.
    pub fn early_drop(&mut self, b: usize, views: &mut [BackendView]) -> bool {
        let Some(fifo) = &mut self.half_open_fifo else {
            return false;
        };
        while let Some((slot, g)) = fifo[b].pop_front() {
            let e = &self.entries[slot as usize];
            if e.live() && e.generation == g && e.state.is_half_open() && e.backend as usize == b {
                self.remove(slot, views);
                self.stats.early_drops += 1;
                return true;
            }
        }
        false
    }

    /// Turns early drop on (keeping a queue of half-open entries per
    /// backend, oldest first) or off.
    pub fn set_early_drop(&mut self, on: bool, backends: usize) {
        self.half_open_fifo = on.then(|| {
            let mut fifo = vec![VecDeque::new(); backends];
            for (slot, e) in self.entries.iter().enumerate() {
                if e.live() && e.state.is_half_open() {
                    fifo[e.backend as usize].push_back((slot as u32, e.generation));
                }
            }
            fifo
        });
    }

    /// Early drop is on.
    pub fn early_drop_enabled(&self) -> bool {
        self.half_open_fifo.is_some()
    }

    /// Handles an idle-timer event for `slot` due at `now`.
    pub fn on_idle_timer(
        &mut self,
        slot: u32,
        generation: u32,
        now: SimTime,
        timeouts: IdleTimeouts,
        views: &mut [BackendView],
    ) -> IdleCheck {
        let Some(e) = self.entries.get(slot as usize).copied() else {
            return IdleCheck::Stale;
        };
        if !e.live() || e.generation != generation || e.timer_at != now {
            return IdleCheck::Stale;
        }
        let due = e.last_seen + timeouts.for_state(e.state);
        if due <= now {
            if e.state.is_half_open() {
                self.stats.half_open_expired += 1;
            } else {
                self.stats.established_expired += 1;
            }
            self.remove(slot, views);
            IdleCheck::Expired
        } else {
            self.entries[slot as usize].timer_at = due;
            IdleCheck::Recheck(due)
        }
    }

    /// Re-arms every entry's idle timer after a timeout changed, so a
    /// shorter timeout takes effect at once: (slot, generation, due) to
    /// schedule.
    pub fn rearm_idle_timers(
        &mut self,
        now: SimTime,
        timeouts: IdleTimeouts,
    ) -> Vec<(u32, u32, SimTime)> {
        let mut out = Vec::new();
        for (slot, e) in self.entries.iter_mut().enumerate() {
            if !e.live() {
                continue;
            }
            let due = (e.last_seen + timeouts.for_state(e.state)).max(now);
            e.timer_at = due;
            out.push((slot as u32, e.generation, due));
        }
        out
    }

    /// The slots of every live entry on backend `b`, in slot order.
    pub fn slots_of(&self, b: u32) -> Vec<u32> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.live() && e.backend == b)
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// Every live entry, in slot order.
    pub fn live_entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.live())
    }

    /// Bytes the table holds, for memory accounting.
    pub fn bytes(&self) -> usize {
        self.index.capacity() * (std::mem::size_of::<(FourTuple, u32)>() + 1)
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + (self.free.capacity() + self.newest.capacity()) * 4
    }
}

/// `a` comes after `b` in sequence space (RFC 1982 serial arithmetic).
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}
