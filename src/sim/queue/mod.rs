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
//! lane fronts and the heap's head, which a short sorted list of fronts
//! keeps in order. Both cost the same whether a hundred events wait or ten
//! million, and touch memory in order.
//!
//! # Why the order is exact
//!
//! Every event carries its push number. A lane bound to a delay takes
//! only events that delay after the queue's clock, the time of the last
//! pop, which never goes back; so a lane's events come in time order, and
//! every lane is sorted by (time, push number). The heap pops its
//! smallest; the smallest of the fronts is then the smallest of all, and
//! equal times pop in push order. Which delays get
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

/// Lanes. The World uses about eight recurring delays.
pub const LANES: usize = 12;

/// Size of the table of recently seen delays (a power of two).
const SEEN: usize = 64;

/// Size of the table from a delay's hash to its lane (a power of two).
const HINTS: usize = 16;

/// The source of the heap in [`Tops`]: after every lane.
const HEAP: u8 = LANES as u8;

/// One queued event with its ordering key.
#[derive(Clone)]
struct Item<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> Item<E> {
    /// (time, push number) as one comparable number.
    #[inline(always)]
    fn key(&self) -> u128 {
        key(self.time, self.seq)
    }
}

/// The ordering key of an event due at `time` with push number `seq`.
#[inline(always)]
fn key(time: u64, seq: u64) -> u128 {
    (time as u128) << 64 | seq as u128
}

/// The front of every non-empty source (lane or heap), sorted latest
/// first, so the earliest is last. Taking it touches only the end, and so
/// does a source that becomes due first: a lane that empties and fills
/// again (a server serving one segment at a time) comes and goes without
/// moving anything. A source whose new front is still the earliest, as
/// in a burst on one lane, costs one comparison. With a handful of
/// sources, an insertion moves at most a few entries.
#[derive(Clone)]
struct Tops {
    /// `keys[0]` is a sentinel later than every key, so an insertion's
    /// search needs no bounds test; the fronts are `keys[1..=len]`.
    keys: [u128; SOURCES + 1],
    sources: [u8; SOURCES + 1],
    len: usize,
}

/// Lanes and the heap.
const SOURCES: usize = LANES + 1;

impl Default for Tops {
    fn default() -> Self {
        let mut keys = [0; SOURCES + 1];
        keys[0] = u128::MAX;
        Tops {
            keys,
            sources: [0; SOURCES + 1],
            len: 0,
        }
    }
}

impl Tops {
    #[inline(always)]
    fn top(&self) -> Option<(u128, u8)> {
        if self.len == 0 {
            return None;
        }
        Some((self.keys[self.len], self.sources[self.len]))
    }

    /// A source became non-empty with front `key`.
    #[inline(always)]
    fn insert(&mut self, key: u128, source: u8) {
        let mut i = self.len + 1;
        // Keys are distinct (push numbers are), so the order is strict,
        // and every key is below the sentinel.
        while self.keys[i - 1] < key {
            self.keys[i] = self.keys[i - 1];
            self.sources[i] = self.sources[i - 1];
            i -= 1;
        }
        self.keys[i] = key;
        self.sources[i] = source;
        self.len += 1;
    }

    /// The top source's front is now `key` (or it is empty).
    #[inline(always)]
    fn replace_top(&mut self, key: Option<u128>) {
        let source = self.sources[self.len];
        self.len -= 1;
        if let Some(key) = key {
            self.insert(key, source);
        }
    }

    /// The heap's front moved earlier, to `key`.
    #[inline]
    fn decrease(&mut self, source: u8, key: u128) {
        let live = 1..self.len + 1;
        let Some(at) = self.sources[live].iter().position(|&s| s == source) else {
            return;
        };
        let at = at + 1;
        self.keys.copy_within(at + 1..self.len + 1, at);
        self.sources.copy_within(at + 1..self.len + 1, at);
        self.len -= 1;
        self.insert(key, source);
    }
}

/// A priority queue of events ordered by due time, ties first-in first-out.
#[derive(Clone)]
pub struct EventQueue<E> {
    /// Time of the last popped event.
    now: u64,
    next_seq: u64,
    /// Events in the heap (the lanes know their own lengths).
    heap_len: usize,
    /// The delay each lane is bound to (`u64::MAX`: none).
    delays: [u64; LANES],
    lanes: [VecDeque<Item<E>>; LANES],
    /// Events that fit no lane.
    heap: RadixHeap<E>,
    /// The fronts of the non-empty lanes and of the heap.
    tops: Tops,
    /// The source of the last pop (a lane, or [`HEAP`]).
    last: u8,
    /// Recently seen delays without a lane, by a hash of the delay.
    seen: [u64; SEEN],
    /// The lane a delay was last found in, by a hash of the delay.
    hints: [u8; HINTS],
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
            heap_len: 0,
            delays: [u64::MAX; LANES],
            lanes: std::array::from_fn(|_| VecDeque::new()),
            heap: RadixHeap::default(),
            tops: Tops::default(),
            last: HEAP,
            seen: [u64::MAX; SEEN],
            hints: [0; HINTS],
        }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `event` at `time`. A time before the last popped event's
    /// (which the World never asks for) is treated as that time.
    #[inline(always)]
    pub fn push(&mut self, time: SimTime, event: E) {
        self.push_with(time, || event);
    }

    /// Schedules the event `make` builds at `time`, building it where it
    /// is stored. An event built first and then moved was read back in
    /// other widths than it had just been written in, and the CPU waited
    /// for those stores: about a third of the profile samples of sending a
    /// packet fell on that copy.
    #[inline(always)]
    pub fn push_with(&mut self, time: SimTime, make: impl FnOnce() -> E) {
        debug_assert!(time.0 >= self.now, "event pushed into the past");
        let time = time.0.max(self.now);
        // The common case, kept inline: the lane the delay's hint names
        // is bound to it.
        let delay = time - self.now;
        let l = usize::from(self.hints[hash(delay, HINTS)]);
        if self.delays[l] == delay {
            let seq = self.take_seq();
            self.append(l, time, seq, make);
        } else {
            self.push_elsewhere(time, make());
        }
    }

    /// The next push number, for an event now joining the queue.
    #[inline(always)]
    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Appends to lane `l`, bound to `time`'s delay; a lane that was empty
    /// (a server serving one segment at a time empties and refills its
    /// lane) joins the fronts.
    #[inline(always)]
    fn append(&mut self, l: usize, time: u64, seq: u64, make: impl FnOnce() -> E) {
        let lane = &mut self.lanes[l];
        debug_assert!(lane.back().is_none_or(|last| last.time <= time));
        if lane.is_empty() {
            self.tops.insert(key(time, seq), l as u8);
        }
        lane.push_back(Item {
            time,
            seq,
            event: make(),
        });
    }

    /// Places an event the inline path of [`push_with`](Self::push_with)
    /// could not: its delay's hint missed, the delay has no lane yet, or
    /// it goes to the heap.
    #[inline(never)]
    fn push_elsewhere(&mut self, time: u64, event: E) {
        let seq = self.take_seq();
        match self.lane_for(time - self.now) {
            Some(l) => self.append(l, time, seq, || event),
            None => {
                let item = Item { time, seq, event };
                let key = item.key();
                match self.heap.head_key() {
                    None => self.tops.insert(key, HEAP),
                    // The newest push heads the heap only if due strictly
                    // earlier than its head.
                    Some(head) if key < head => self.tops.decrease(HEAP, key),
                    Some(_) => {}
                }
                self.heap_len += 1;
                self.heap.push(item);
            }
        }
    }

    /// The lane an event `delay` after now joins.
    #[inline(always)]
    fn lane_for(&mut self, delay: u64) -> Option<usize> {
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
        found.or_else(|| self.bind(delay))
    }

    /// Binds `delay` to an empty lane if it was seen recently.
    #[cold]
    fn bind(&mut self, delay: u64) -> Option<usize> {
        let h = hash(delay, SEEN);
        if self.seen[h] != delay {
            self.seen[h] = delay;
            return None;
        }
        let l = self.lanes.iter().position(VecDeque::is_empty)?;
        self.delays[l] = delay;
        Some(l)
    }

    /// The earliest event, removed from the queue.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_until(SimTime::MAX)
    }

    /// The earliest event, removed from the queue, if it is due at or
    /// before `until`: a peek and a pop in one look at the fronts.
    #[inline]
    pub fn pop_until(&mut self, until: SimTime) -> Option<(SimTime, E)> {
        let (key, source) = self.tops.top()?;
        if (key >> 64) as u64 > until.0 {
            return None;
        }
        self.last = source;
        let (item, next) = if source == HEAP {
            let item = self.heap.pop()?;
            self.heap_len -= 1;
            (item, self.heap.head_key())
        } else {
            let lane = &mut self.lanes[usize::from(source)];
            let item = lane.pop_front()?;
            (item, lane.front().map(Item::key))
        };
        self.tops.replace_top(next);
        self.now = item.time;
        Some((SimTime(item.time), item.event))
    }

    /// The event `k` places behind the front of the lane the last pop
    /// came from: in a lane that carries most events, what comes a few
    /// events from now, for the World to fetch memory for early.
    #[inline]
    pub fn lane_ahead(&self, k: usize) -> Option<&E> {
        let lane = self.lanes.get(usize::from(self.last))?;
        lane.get(k).map(|item| &item.event)
    }

    /// When the earliest event is due.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.tops.top().map(|(key, _)| SimTime((key >> 64) as u64))
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.lanes.iter().map(VecDeque::len).sum::<usize>() + self.heap_len
    }

    /// No event waiting.
    pub fn is_empty(&self) -> bool {
        self.tops.len == 0
    }

    /// Bytes the queue holds in its allocations, for memory accounting.
    pub fn capacity_bytes(&self) -> usize {
        let lanes: usize = self.lanes.iter().map(VecDeque::capacity).sum();
        lanes * std::mem::size_of::<Item<E>>() + self.heap.capacity_bytes()
    }
}
