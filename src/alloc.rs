//! The allocator the `lblab` binary and its rate benches declare global:
//! the system's, except that on Linux a block of several megabytes (a big
//! World's clients, conn table and event lanes, touched at random) comes
//! straight from the kernel, advised to use transparent huge pages before
//! anything touches it. Touched at random, 4 KiB pages cost a TLB miss,
//! and often a page walk that misses the caches too, on almost every
//! access; one 2 MiB page covers 512 of them.
//!
//! Advising memory the system allocator hands out is not enough: it
//! serves big blocks from memory it already used, whose pages stay small,
//! and a vector that doubles its way up keeps the small pages it had. So
//! big blocks are mapped fresh, and one that grows is copied into a new
//! mapping (a copy per doubling). The advice changes no byte the program
//! reads; where the kernel declines it, the pages are simply small.

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, with big blocks mapped for transparent huge
/// pages on Linux.
pub struct HugePageAlloc;

/// The size of a transparent huge page on x86-64 and most of aarch64.
const HUGE_PAGE: usize = 2 << 20;

/// Blocks this big are mapped for huge pages: they always hold a whole
/// aligned huge page, and are few, so a system call each costs nothing.
const MAP_FROM: usize = 2 * HUGE_PAGE;

/// A block of `layout` is mapped by [`map`] (else it is the system's).
#[inline]
fn mapped(layout: Layout) -> bool {
    cfg!(target_os = "linux") && layout.size() >= MAP_FROM && layout.align() <= 4096
}

/// Maps `size` bytes of zeroed memory advised for huge pages.
#[cfg(target_os = "linux")]
fn map(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping at an address the kernel picks
    // touches no existing memory.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return std::ptr::null_mut();
    }
    // SAFETY: the advice only sets how the kernel backs the mapping just
    // made; a kernel without huge pages refuses it and nothing changes.
    unsafe { libc::madvise(ptr, size, libc::MADV_HUGEPAGE) };
    ptr.cast()
}

/// Unmaps a block [`map`] made.
#[cfg(target_os = "linux")]
fn unmap(ptr: *mut u8, size: usize) {
    // SAFETY: `ptr` and `size` are a mapping `map` made, which the caller
    // gives up.
    unsafe { libc::munmap(ptr.cast(), size) };
}

#[cfg(not(target_os = "linux"))]
fn map(_: usize) -> *mut u8 {
    unreachable!("blocks are mapped on Linux only")
}

#[cfg(not(target_os = "linux"))]
fn unmap(_: *mut u8, _: usize) {
    unreachable!("blocks are mapped on Linux only")
}

// SAFETY: a block is mapped or the system's by its layout alone, which is
// the same when it is freed or grown as when it was made, so each block
// goes back where it came from; mapped blocks are page-aligned, which
// `mapped` requires to satisfy the alignment asked for.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if mapped(layout) {
            return map(layout.size());
        }
        // SAFETY: the caller's contract for `alloc` is the system's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if mapped(layout) {
            // A fresh mapping is zeroed already.
            return map(layout.size());
        }
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if mapped(layout) {
            return unmap(ptr, layout.size());
        }
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded up to the
        // alignment, does not overflow.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !mapped(layout) && !mapped(new_layout) {
            // SAFETY: `ptr` came from `System` with `layout`.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // SAFETY: a non-zero size (one of the layouts is mapped, and the
        // other's size is the caller's non-zero `new_size` or `layout`).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct, and at least this
            // long; the old one goes back where it came from.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_small_and_big_keep_their_contents_as_they_grow_and_shrink() {
        // Small to small, small to big, big to big, big to small.
        let steps = [
            (64, 4096),
            (4096, MAP_FROM),
            (MAP_FROM, 3 * MAP_FROM),
            (MAP_FROM, 64),
        ];
        for (from, to) in steps {
            let layout = Layout::from_size_align(from, 64).expect("a valid layout");
            let kept = from.min(to);
            // SAFETY: non-zero sizes; every pointer is checked, touched
            // only within its size, and freed with its layout.
            unsafe {
                let p = HugePageAlloc.alloc_zeroed(layout);
                assert!(!p.is_null(), "allocating {from} bytes");
                assert_eq!(p as usize % 64, 0, "aligned at {from} bytes");
                assert_eq!(*p.add(from - 1), 0, "zeroed at {from} bytes");
                p.write(1);
                p.add(kept - 1).write(7);
                let q = HugePageAlloc.realloc(p, layout, to);
                assert!(!q.is_null(), "{from} to {to} bytes");
                assert_eq!((*q, *q.add(kept - 1)), (1, 7), "{from} to {to} bytes");
                HugePageAlloc.dealloc(q, Layout::from_size_align(to, 64).expect("valid"));
            }
        }
    }
}
