//! The fallback of the event queue: a monotone radix heap keyed by due
//! time, whose equal times pop in the order they were pushed. Each event
//! carries its push number, and each bucket remembers its smallest
//! (time, push number), so the queue's head is known without reordering.
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

use super::Item;
use std::collections::VecDeque;

const BUCKETS: usize = 64;

/// Events per block. Long blocks let the prefetcher stream a big bucket as
/// it is redistributed; short ones waste less in a small queue, where every
/// bucket in use holds a part-full block.
pub const BLOCK: usize = 128;

/// A block: a `Vec` allocated with capacity [`BLOCK`] that never grows.
type Block<E> = Vec<Item<E>>;

/// The events of one bucket in push order: the full blocks, then the
/// part-full `tail` that pushes append to. A bucket keeps its tail block
/// when it empties, so sparse buckets do not churn the pool.
struct Bucket<E> {
    full: Vec<Block<E>>,
    /// Capacity [`BLOCK`], or 0 if the bucket was never used.
    tail: Block<E>,
}

impl<E: Clone> Clone for Bucket<E> {
    /// Keeps the tail's capacity: a push tells a full tail by its
    /// capacity, which a plain `Vec::clone` would shrink to its length.
    fn clone(&self) -> Self {
        let mut tail = Vec::with_capacity(self.tail.capacity());
        tail.extend(self.tail.iter().cloned());
        Bucket {
            full: self.full.clone(),
            tail,
        }
    }
}

/// A priority queue of events ordered by due time, ties first-in first-out.
pub struct RadixHeap<E> {
    /// Time of the last popped event; nothing earlier may be pushed.
    last: u64,
    /// Events due exactly at `last`, in push order.
    now: VecDeque<Item<E>>,
    /// `buckets[i]`: events whose time differs from `last` first at bit `i`.
    buckets: [Bucket<E>; BUCKETS],
    /// Smallest (time, push number) key in each bucket (`u128::MAX` when
    /// empty).
    mins: [u128; BUCKETS],
    /// Bit `i` set when `buckets[i]` is not empty.
    occupied: u64,
    /// Empty blocks, ready for any bucket.
    pool: Vec<Block<E>>,
}

impl<E: Clone> Clone for RadixHeap<E> {
    /// The same events in the same order; the pool of empty blocks is not
    /// copied (a clone allocates blocks as it needs them).
    fn clone(&self) -> Self {
        RadixHeap {
            last: self.last,
            now: self.now.clone(),
            buckets: self.buckets.clone(),
            mins: self.mins,
            occupied: self.occupied,
            pool: Vec::new(),
        }
    }
}

impl<E> Default for RadixHeap<E> {
    fn default() -> Self {
        RadixHeap {
            last: 0,
            now: VecDeque::new(),
            buckets: std::array::from_fn(|_| Bucket {
                full: Vec::new(),
                tail: Vec::new(),
            }),
            mins: [u128::MAX; BUCKETS],
            occupied: 0,
            pool: Vec::new(),
        }
    }
}

/// The bucket of an event due at `time` when the last pop was at `last`.
#[inline(always)]
fn bucket(time: u64, last: u64) -> usize {
    debug_assert!(time != last);
    63 - (time ^ last).leading_zeros() as usize
}

impl<E> RadixHeap<E> {
    /// Schedules `item`; its time must not be before the last pop's.
    #[inline]
    pub fn push(&mut self, item: Item<E>) {
        debug_assert!(item.time >= self.last, "event pushed into the past");
        if item.time <= self.last {
            self.now.push_back(item);
        } else {
            self.append(bucket(item.time, self.last), item);
        }
    }

    /// Appends to bucket `i`, taking a block from the pool when needed.
    #[inline(always)]
    fn append(&mut self, i: usize, item: Item<E>) {
        let b = &mut self.buckets[i];
        if b.tail.len() == b.tail.capacity() {
            Self::new_tail(b, &mut self.pool);
        }
        self.mins[i] = self.mins[i].min(item.key());
        b.tail.push(item);
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
    pub fn pop(&mut self) -> Option<Item<E>> {
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
        let item = self.now.pop_front()?;
        Some(item)
    }

    /// Pops the lone event of bucket `i`, the lowest non-empty one (a
    /// shortcut for refilling `now` when times rarely tie).
    #[inline]
    fn pop_single(&mut self, i: usize) -> Option<Item<E>> {
        let item = self.buckets[i].tail.pop()?;
        self.last = item.time;
        self.mins[i] = u128::MAX;
        self.occupied &= !(1 << i);
        Some(item)
    }

    /// Empties bucket `i`, the lowest non-empty one, into lower buckets and
    /// `now`. Its full blocks go back to the pool as soon as they are empty;
    /// it keeps its tail block.
    #[inline(never)]
    fn refill(&mut self, i: usize) {
        let last = (self.mins[i] >> 64) as u64;
        self.last = last;
        self.mins[i] = u128::MAX;
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
        for item in block.drain(..) {
            if item.time == last {
                self.now.push_back(item);
            } else {
                self.append(bucket(item.time, last), item);
            }
        }
    }

    /// The (time, push number) key of the earliest event.
    #[inline]
    pub fn head_key(&self) -> Option<u128> {
        if let Some(item) = self.now.front() {
            Some(item.key())
        } else if self.occupied != 0 {
            Some(self.mins[self.occupied.trailing_zeros() as usize])
        } else {
            None
        }
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
        self.now.capacity() * size_of::<Item<E>>()
            + lists * size_of::<Block<E>>()
            + blocks * BLOCK * size_of::<Item<E>>()
    }
}
