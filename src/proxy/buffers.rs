//! Copy buffers lent to connections only while bytes are in flight.
//!
//! A connection holds a buffer between a read that returned data and the
//! write that empties it; waiting for its next bytes, it holds none. So an
//! idle connection costs no buffer at all, and a busy worker reuses the
//! same few warm buffers instead of allocating and zeroing two per
//! connection (as HAProxy does with its buffer pools).

use std::cell::RefCell;

/// Bytes in one copy buffer: 16 KiB, as HAProxy's default `bufsize`.
pub const SIZE: usize = 16 * 1024;

/// Buffers one worker thread keeps for reuse; beyond this they are freed,
/// so a burst does not pin its peak memory for good.
const KEPT_PER_THREAD: usize = 64;

thread_local! {
    static FREE: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of [`SIZE`] bytes: a kept one when this thread has one.
pub fn take() -> Box<[u8]> {
    FREE.with(|free| free.borrow_mut().pop())
        .unwrap_or_else(|| vec![0; SIZE].into_boxed_slice())
}

/// Gives `buffer` back for reuse on this thread (or frees it).
pub fn give(buffer: Box<[u8]>) {
    // During thread teardown the pool may be gone: then the buffer is
    // simply freed.
    let _ = FREE.try_with(|free| {
        let mut free = free.borrow_mut();
        if free.len() < KEPT_PER_THREAD {
            free.push(buffer);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_is_taken_again_on_the_same_thread() {
        let first = take();
        let address = first.as_ptr();
        give(first);
        let again = take();
        assert_eq!(again.as_ptr(), address, "the kept buffer was not reused");
        assert_eq!(again.len(), SIZE);
        give(again);
    }

    #[test]
    fn the_pool_keeps_at_most_its_bound() {
        let many: Vec<_> = (0..KEPT_PER_THREAD + 10).map(|_| take()).collect();
        for b in many {
            give(b);
        }
        let kept = FREE.with(|free| free.borrow().len());
        assert_eq!(kept, KEPT_PER_THREAD);
    }
}
