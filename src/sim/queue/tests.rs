//! The queue against a reference heap keyed by (time, push order).

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
fn lane_ahead_looks_behind_the_front_of_the_lane_last_popped() {
    let mut q = EventQueue::default();
    // All at one delay: the first goes to the heap (a delay gets a lane on
    // its second sighting), the rest to one lane.
    for i in 0..20u64 {
        q.push(SimTime(100), i);
    }
    assert_eq!(q.lane_ahead(0), None, "nothing popped yet");
    assert_eq!(q.pop(), Some((SimTime(100), 0)));
    assert_eq!(q.lane_ahead(0), None, "the last pop came from the heap");
    assert_eq!(q.pop(), Some((SimTime(100), 1)));
    assert_eq!(q.lane_ahead(0), Some(&2));
    assert_eq!(q.lane_ahead(5), Some(&7));
    assert_eq!(q.lane_ahead(17), Some(&19));
    assert_eq!(q.lane_ahead(18), None, "past the lane's end");
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
