//! The event queue: events ordered by due time, equal times first-in
//! first-out, so the World is deterministic. Nothing is ever removed early:
//! timers cancel lazily, by their owner ignoring an event that no longer
//! matches its state.
//!
//! # Lanes
//!
//! Almost every event the World schedules is a fixed delay after now: a
//! packet one link delay ahead, a service time, a gap, a retransmission
//! timeout. Since now never goes back, the events of one delay are pushed
//! in time order, so a plain FIFO per delay is already sorted. The queue
//! keeps up to [`LANES`] such FIFOs ("lanes"), each bound to one delay, and
//! a radix heap for everything else. A push appends to the lane of
//! `time - now`; a pop takes the smallest (time, push number) among the
//! lane fronts and the heap's head. Both cost the same whether a hundred
//! events wait or ten million, and touch memory in order.
//!
//! # Why the order is exact
//!
//! Every event carries its push number. A lane only takes an event not
//! earlier than its last one, so every lane is sorted by (time, push
//! number); the heap pops its smallest; the smallest of the fronts is then
//! the smallest of all, and equal times pop in push order. Which delays get
//! lanes decides speed, never order.
//!
//! # Which delays get a lane
//!
//! A delay with no lane gets one on its second sighting (a small table
//! remembers recently seen delays), if some lane is empty; it keeps the
//! lane until the lane is empty and another delay needs it. One-off delays
//! (a timer re-armed at an arbitrary deadline) go to the heap and hold no
//! lane.

mod radix;
#[cfg(test)]
mod tests;

use crate::model::SimTime;
use radix::RadixHeap;
use std::collections::VecDeque;

/// Lanes. A pop compares every front, so the number stays small; the
/// World uses about seven recurring delays.
pub const LANES: usize = 8;

/// Size of the table of recently seen delays (a power of two).
const SEEN: usize = 64;

/// The key of an empty lane or heap: after every real key.
const EMPTY: u128 = u128::MAX;

/// `best` when the earliest event must be looked for again.
const UNKNOWN: usize = usize::MAX;

/// Size of the table from a delay's hash to its lane (a power of two).
const HINTS: usize = 16;

/// One queued event with its ordering key.
struct Item<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> Item<E> {
    /// (time, push number) as one comparable number.
    #[inline(always)]
    fn key(&self) -> u128 {
        (self.time as u128) << 64 | self.seq as u128
    }
}

/// A priority queue of events ordered by due time, ties first-in first-out.
pub struct EventQueue<E> {
    /// Time of the last popped event.
    now: u64,
    next_seq: u64,
    len: usize,
    /// The key of each lane's front, then of the heap's head (or `EMPTY`),
    /// kept up to date so a pop scans one small array.
    heads: [u128; LANES + 1],
    /// The delay each lane is bound to (`u64::MAX`: none).
    delays: [u64; LANES],
    lanes: [VecDeque<Item<E>>; LANES],
    /// Events that fit no lane.
    heap: RadixHeap<E>,
    /// Recently seen delays without a lane, by a hash of the delay.
    seen: [u64; SEEN],
    /// The lane a delay was last found in, by a hash of the delay.
    hints: [u8; HINTS],
    /// Where the earliest event waits (an index of `heads`), or `UNKNOWN`.
    best: usize,
}

/// A hash of a delay, for the small tables.
#[inline(always)]
fn hash(delay: u64, buckets: usize) -> usize {
    (delay.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize % buckets
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            now: 0,
            next_seq: 0,
            len: 0,
            heads: [EMPTY; LANES + 1],
            delays: [u64::MAX; LANES],
            lanes: std::array::from_fn(|_| VecDeque::new()),
            heap: RadixHeap::default(),
            seen: [u64::MAX; SEEN],
            hints: [0; HINTS],
            best: UNKNOWN,
        }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `event` at `time`. A time before the last popped event's
    /// (which the World never asks for) is treated as that time.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        debug_assert!(time.0 >= self.now, "event pushed into the past");
        let time = time.0.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.len += 1;
        let item = Item { time, seq, event };
        let key = item.key();
        let at = match self.lane_for(time - self.now, time) {
            Some(l) => {
                if self.lanes[l].is_empty() {
                    self.heads[l] = key;
                }
                self.lanes[l].push_back(item);
                l
            }
            None => {
                // The newest push heads the heap only if due strictly
                // earlier than its head.
                self.heads[LANES] = self.heads[LANES].min(key);
                self.heap.push(item);
                LANES
            }
        };
        // The newest push is the earliest only if due strictly earlier.
        if self.best != UNKNOWN && key < self.heads[self.best] {
            self.best = at;
        }
    }

    /// The lane an event `delay` after now, due at `time`, joins.
    #[inline(always)]
    fn lane_for(&mut self, delay: u64, time: u64) -> Option<usize> {
        let hint = &mut self.hints[hash(delay, HINTS)];
        let found = if self.delays[usize::from(*hint)] == delay {
            Some(usize::from(*hint))
        } else {
            let l = self.delays.iter().position(|&d| d == delay);
            if let Some(l) = l {
                *hint = l as u8;
            }
            l
        };
        if let Some(l) = found {
            // A lane stays sorted: never append before its last event.
            return match self.lanes[l].back() {
                Some(tail) if tail.time > time => None,
                _ => Some(l),
            };
        }
        self.bind(delay)
    }

    /// Binds `delay` to an empty lane if it was seen recently.
    #[cold]
    fn bind(&mut self, delay: u64) -> Option<usize> {
        let h = hash(delay, SEEN);
        if self.seen[h] != delay {
            self.seen[h] = delay;
            return None;
        }
        let l = self.heads[..LANES].iter().position(|&k| k == EMPTY)?;
        self.delays[l] = delay;
        Some(l)
    }

    /// Where the earliest event waits (a lane, or `LANES` for the heap)
    /// and its key; looked for once after each pop.
    #[inline(always)]
    fn earliest(&mut self) -> Option<(usize, u128)> {
        if self.best == UNKNOWN {
            let mut best = 0;
            let mut best_key = self.heads[0];
            for (i, &key) in self.heads.iter().enumerate().skip(1) {
                if key < best_key {
                    best_key = key;
                    best = i;
                }
            }
            self.best = best;
        }
        let key = self.heads[self.best];
        (key != EMPTY).then_some((self.best, key))
    }

    /// The earliest event, removed from the queue.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let (from, _) = self.earliest()?;
        self.best = UNKNOWN;
        let item = if from < LANES {
            let lane = &mut self.lanes[from];
            let item = lane.pop_front()?;
            self.heads[from] = lane.front().map_or(EMPTY, Item::key);
            item
        } else {
            let item = self.heap.pop()?;
            self.heads[LANES] = self.heap.head_key().unwrap_or(EMPTY);
            item
        };
        self.len -= 1;
        self.now = item.time;
        Some((SimTime(item.time), item.event))
    }

    /// When the earliest event is due.
    #[inline]
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.earliest().map(|(_, key)| SimTime((key >> 64) as u64))
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No event waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Events waiting in the heap rather than in lanes.
    pub fn heap_len(&self) -> usize {
        self.heap.len()
    }

    /// Bytes the queue holds in its allocations, for memory accounting.
    pub fn capacity_bytes(&self) -> usize {
        let lanes: usize = self.lanes.iter().map(VecDeque::capacity).sum();
        lanes * std::mem::size_of::<Item<E>>() + self.heap.capacity_bytes()
    }
}
