//! The event queue: a monotone radix heap keyed by due time, whose equal
//! times pop in the order they were pushed, so the World is deterministic
//! without a sequence number per event. Nothing is ever removed early:
//! timers cancel lazily, by their owner ignoring an event that no longer
//! matches its state.
//!
//! # How it works
//!
//! `last` is the time of the last popped event, and no event is ever due
//! before it (simulated time never runs backwards). An event due at
//! `t != last` lives in bucket `b(t)`, the index of the highest bit in which
//! `t` and `last` differ; events due exactly at `last` wait in the FIFO
//! `now`. A push is an append. When `now` runs dry, the lowest non-empty
//! bucket is emptied: `last` becomes its smallest time (tracked per bucket),
//! and each of its events moves to a strictly lower bucket or to `now`.
//! Buckets above it stay valid, since the new `last` agrees with the old
//! one on every bit above. An event moves at most 64 times in its life, in
//! practice a handful, always by sequential appends; that is what makes the
//! queue flat from a few hundred events to millions, where a binary heap
//! sifts through a cache miss per level.
//!
//! # Why equal times stay first-in first-out
//!
//! Within every bucket, and within `now`, events of equal time sit in push
//! order: equal times always share a bucket (`b(t)` depends only on `t` and
//! `last`); a push appends after everything already there; a bucket is
//! emptied only when every lower bucket and `now` are empty, front to back,
//! into buckets that held none of its times; `now` pops from the front.
//! So the pop order is exactly that of a heap keyed by (time, push order).
//!
//! # Memory
//!
//! A bucket is a list of blocks of [`BLOCK`] events drawn from a shared
//! pool; a block emptied by a redistribution goes back to the pool. Beyond
//! what its events need, the queue holds about one block per bucket in use
//! (at most 64), and in steady state it never calls the allocator.

use crate::model::SimTime;
use std::collections::VecDeque;

const BUCKETS: usize = 64;

/// Events per block. Long blocks let the prefetcher stream a big bucket as
/// it is redistributed; short ones waste less in a small queue, where every
/// bucket in use holds a part-full block.
pub const BLOCK: usize = 128;

/// A block: a `Vec` allocated with capacity [`BLOCK`] that never grows.
type Block<E> = Vec<(u64, E)>;

/// The events of one bucket in push order: the full blocks, then the
/// part-full `tail` that pushes append to. A bucket keeps its tail block
/// when it empties, so sparse buckets do not churn the pool.
struct Bucket<E> {
    full: Vec<Block<E>>,
    /// Capacity [`BLOCK`], or 0 if the bucket was never used.
    tail: Block<E>,
}

/// A priority queue of events ordered by due time, ties first-in first-out.
pub struct EventQueue<E> {
    /// Time of the last popped event; nothing earlier may be pushed.
    last: u64,
    /// Events due exactly at `last`, in push order.
    now: VecDeque<E>,
    /// `buckets[i]`: events whose time differs from `last` first at bit `i`.
    buckets: [Bucket<E>; BUCKETS],
    /// Smallest time in each bucket (`u64::MAX` when empty).
    mins: [u64; BUCKETS],
    /// Bit `i` set when `buckets[i]` is not empty.
    occupied: u64,
    /// Empty blocks, ready for any bucket.
    pool: Vec<Block<E>>,
    len: usize,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            last: 0,
            now: VecDeque::new(),
            buckets: std::array::from_fn(|_| Bucket {
                full: Vec::new(),
                tail: Vec::new(),
            }),
            mins: [u64::MAX; BUCKETS],
            occupied: 0,
            pool: Vec::new(),
            len: 0,
        }
    }
}

/// The bucket of an event due at `time` when the last pop was at `last`.
#[inline(always)]
fn bucket(time: u64, last: u64) -> usize {
    debug_assert!(time != last);
    63 - (time ^ last).leading_zeros() as usize
}

impl<E> EventQueue<E> {
    /// Schedules `event` at `time`. A time before the last popped event's
    /// (which the World never asks for) is treated as that time.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        debug_assert!(time.0 >= self.last, "event pushed into the past");
        let time = time.0.max(self.last);
        self.len += 1;
        if time == self.last {
            self.now.push_back(event);
        } else {
            self.append(bucket(time, self.last), time, event);
        }
    }

    /// Appends to bucket `i`, taking a block from the pool when needed.
    #[inline(always)]
    fn append(&mut self, i: usize, time: u64, event: E) {
        let b = &mut self.buckets[i];
        if b.tail.len() == b.tail.capacity() {
            Self::new_tail(b, &mut self.pool);
        }
        b.tail.push((time, event));
        self.mins[i] = self.mins[i].min(time);
        self.occupied |= 1 << i;
    }

    /// Gives bucket `b` an empty tail block, filing the full one.
    #[cold]
    fn new_tail(b: &mut Bucket<E>, pool: &mut Vec<Block<E>>) {
        let fresh = pool.pop().unwrap_or_else(|| Vec::with_capacity(BLOCK));
        let old = std::mem::replace(&mut b.tail, fresh);
        if old.capacity() != 0 {
            b.full.push(old);
        }
    }

    /// The earliest event, removed from the queue.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.now.is_empty() {
            if self.occupied == 0 {
                return None;
            }
            let i = self.occupied.trailing_zeros() as usize;
            let b = &self.buckets[i];
            if b.full.is_empty() && b.tail.len() == 1 {
                return self.pop_single(i);
            }
            self.refill(i);
        }
        let event = self.now.pop_front()?;
        self.len -= 1;
        Some((SimTime(self.last), event))
    }

    /// Pops the lone event of bucket `i`, the lowest non-empty one (a
    /// shortcut for refilling `now` when times rarely tie).
    #[inline]
    fn pop_single(&mut self, i: usize) -> Option<(SimTime, E)> {
        let (time, event) = self.buckets[i].tail.pop()?;
        self.last = time;
        self.mins[i] = u64::MAX;
        self.occupied &= !(1 << i);
        self.len -= 1;
        Some((SimTime(time), event))
    }

    /// Empties bucket `i`, the lowest non-empty one, into lower buckets and
    /// `now`. Its full blocks go back to the pool as soon as they are empty;
    /// it keeps its tail block.
    #[inline(never)]
    fn refill(&mut self, i: usize) {
        let last = self.mins[i];
        self.last = last;
        self.mins[i] = u64::MAX;
        self.occupied &= !(1 << i);
        let mut full = std::mem::take(&mut self.buckets[i].full);
        let mut tail = std::mem::take(&mut self.buckets[i].tail);
        for mut block in full.drain(..) {
            self.scatter(&mut block, last);
            self.pool.push(block);
        }
        self.scatter(&mut tail, last);
        let b = &mut self.buckets[i];
        b.full = full;
        b.tail = tail;
    }

    /// Moves the events of `block` to `now` or lower buckets, relative to
    /// the new `last`.
    #[inline(always)]
    fn scatter(&mut self, block: &mut Block<E>, last: u64) {
        for (time, event) in block.drain(..) {
            if time == last {
                self.now.push_back(event);
            } else {
                self.append(bucket(time, last), time, event);
            }
        }
    }

    /// When the earliest event is due.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.now.is_empty() {
            Some(SimTime(self.last))
        } else if self.occupied != 0 {
            Some(SimTime(self.mins[self.occupied.trailing_zeros() as usize]))
        } else {
            None
        }
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No event waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the queue holds in its allocations, for memory accounting.
    pub fn capacity_bytes(&self) -> usize {
        use std::mem::size_of;
        let lists = self
            .buckets
            .iter()
            .map(|b| b.full.capacity())
            .sum::<usize>()
            + self.pool.capacity();
        let blocks = self
            .buckets
            .iter()
            .map(|b| b.full.len() + usize::from(b.tail.capacity() != 0))
            .sum::<usize>()
            + self.pool.len();
        self.now.capacity() * size_of::<E>()
            + lists * size_of::<Block<E>>()
            + blocks * BLOCK * size_of::<(u64, E)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn pops_in_time_order() {
        let mut q = EventQueue::default();
        q.push(SimTime(30), 'c');
        q.push(SimTime(10), 'a');
        q.push(SimTime(20), 'b');
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ['a', 'b', 'c']);
    }

    #[test]
    fn equal_times_keep_insertion_order() {
        let mut q = EventQueue::default();
        for i in 0..300 {
            q.push(SimTime(5), i);
        }
        q.push(SimTime(1), -1);
        assert_eq!(q.pop(), Some((SimTime(1), -1)));
        for i in 0..300 {
            assert_eq!(q.pop(), Some((SimTime(5), i)));
        }
        assert!(q.is_empty());
    }

    #[test]
    fn equal_times_pushed_from_different_instants_stay_in_push_order() {
        // Events due at one far time, pushed as the clock moves towards it,
        // change buckets several times before they pop.
        let mut q = EventQueue::default();
        let far = SimTime(1 << 40);
        for i in 0..40u64 {
            q.push(far, i);
            q.push(SimTime(i * 1_000 + 1), u64::MAX);
            assert_eq!(q.pop().map(|(_, e)| e), Some(u64::MAX));
        }
        // Pushed at the instant being drained: after what is already due.
        q.push(SimTime(40_000), u64::MAX - 1);
        assert_eq!(q.pop().map(|(_, e)| e), Some(u64::MAX - 1));
        for i in 0..40 {
            assert_eq!(q.pop(), Some((far, i)));
        }
        assert_eq!(q.pop(), None);
    }

    /// A reference queue: a binary heap keyed by (time, push order).
    #[derive(Default)]
    struct Reference {
        heap: BinaryHeap<Reverse<(u64, u64, u64)>>,
        seq: u64,
    }

    impl Reference {
        fn push(&mut self, time: u64, id: u64) {
            self.heap.push(Reverse((time, self.seq, id)));
            self.seq += 1;
        }
        fn pop(&mut self) -> Option<(u64, u64)> {
            self.heap.pop().map(|Reverse((t, _, id))| (t, id))
        }
    }

    #[test]
    fn matches_a_time_then_push_order_heap_on_random_schedules() {
        for seed in 1..=40u64 {
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut next = move || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let (mut q, mut r) = (EventQueue::default(), Reference::default());
            let mut now = 0u64;
            for id in 0..5_000u64 {
                let w = next();
                // Many ties: a few fixed delays, bursts at the same instant,
                // and now and then a far one.
                let delay = match w % 8 {
                    0 | 1 => 0,
                    2 | 3 => 1_000_000,
                    4 => 100_000,
                    5 => 500_000_000,
                    6 => w >> 40,
                    _ => 1 << (w % 45),
                };
                q.push(SimTime(now + delay), id);
                r.push(now + delay, id);
                if next() % 3 != 0 {
                    let (got, want) = (q.pop(), r.pop());
                    assert_eq!(got.map(|(t, e)| (t.0, e)), want, "seed {seed}, push {id}");
                    if let Some((t, _)) = want {
                        now = t;
                    }
                }
                assert_eq!(q.len(), r.heap.len(), "seed {seed}");
                assert_eq!(
                    q.peek_time().map(|t| t.0),
                    r.heap.peek().map(|Reverse((t, _, _))| *t),
                    "seed {seed}"
                );
            }
            while let Some(want) = r.pop() {
                assert_eq!(q.pop().map(|(t, e)| (t.0, e)), Some(want), "seed {seed}");
            }
            assert!(q.is_empty(), "seed {seed}");
        }
    }
}
