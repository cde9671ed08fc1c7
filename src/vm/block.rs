//! A block of elements reserved once, at a fixed address, filled from the
//! bottom: the shape of a Process's value stack and frame stack.
//!
//! The block is allocated zeroed, so the operating system maps its pages
//! only as the stack first reaches them, and it never moves or grows, so
//! code may keep its address. `#[repr(C)]`: generated code finds the
//! first element and the length at fixed offsets (`vm::abi`).

use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// Element types whose all-zero bit pattern is a valid value, and that
/// need no dropping (a block never drops its elements).
///
/// # Safety
/// Implement only for types for which zeroed memory is a valid value and
/// that have no drop glue.
pub unsafe trait Zeroable {}

// SAFETY: an Oop is a word; every bit pattern is a valid value.
unsafe impl Zeroable for crate::object::Oop {}

#[repr(C)]
pub struct Block<T: Zeroable> {
    first: NonNull<T>,
    len: usize,
    capacity: usize,
}

impl<T: Zeroable> Block<T> {
    /// Where the address of the first element is (see `vm::abi`).
    pub const FIRST_OFFSET: usize = std::mem::offset_of!(Block<T>, first);
    /// Where the number of live elements is.
    pub const LEN_OFFSET: usize = std::mem::offset_of!(Block<T>, len);

    /// A block of `capacity` zeroed elements, none of them live.
    pub fn new(capacity: usize) -> Block<T> {
        let layout = std::alloc::Layout::array::<T>(capacity.max(1)).expect("a block's size");
        // SAFETY: the layout is not empty; zeroed memory is a valid T.
        let first = unsafe { std::alloc::alloc_zeroed(layout) } as *mut T;
        let first = NonNull::new(first).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        Block {
            first,
            len: 0,
            capacity,
        }
    }

    /// Pushes `value`; false (and nothing pushed) when the block is full.
    #[inline]
    #[must_use]
    pub fn push(&mut self, value: T) -> bool {
        if self.len == self.capacity {
            return false;
        }
        // SAFETY: `len` is below the capacity.
        unsafe { self.first.as_ptr().add(self.len).write(value) };
        self.len += 1;
        true
    }

    #[inline]
    pub fn pop(&mut self) -> Option<T>
    where
        T: Copy,
    {
        self.len = self.len.checked_sub(1)?;
        // SAFETY: the element was live, inside the block.
        Some(unsafe { self.first.as_ptr().add(self.len).read() })
    }

    #[inline]
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Grows to `len` elements holding `value` (at most the capacity), or
    /// shrinks to `len`; false when `len` did not fit.
    pub fn resize(&mut self, len: usize, value: T) -> bool
    where
        T: Copy,
    {
        if len <= self.len {
            self.len = len;
            return true;
        }
        let end = len.min(self.capacity);
        // SAFETY: `len..end` is inside the block.
        unsafe {
            std::slice::from_raw_parts_mut(self.first.as_ptr().add(self.len), end - self.len)
        }
        .fill(value);
        self.len = end;
        end == len
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl<T: Zeroable> Drop for Block<T> {
    fn drop(&mut self) {
        let layout = std::alloc::Layout::array::<T>(self.capacity.max(1)).expect("a block's size");
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.first.as_ptr() as *mut u8, layout) };
    }
}

/// The live elements, bottom first.
impl<T: Zeroable> Deref for Block<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        // SAFETY: the first `len` elements are inside the block and
        // initialized (zeroed at allocation, or written since).
        unsafe { std::slice::from_raw_parts(self.first.as_ptr(), self.len) }
    }
}

impl<T: Zeroable> DerefMut for Block<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`.
        unsafe { std::slice::from_raw_parts_mut(self.first.as_ptr(), self.len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_filled_from_the_bottom_and_never_moves() {
        let mut b: Block<crate::object::Oop> = Block::new(3);
        let at = b.first;
        let n = |i: i64| crate::object::Oop::small_integer(i).unwrap();
        assert!(b.push(n(1)) && b.push(n(2)));
        assert!(b.resize(3, n(7)));
        assert!(!b.push(n(4)));
        assert_eq!(&b[..], &[n(1), n(2), n(7)]);
        assert!(!b.resize(5, n(0)));
        assert_eq!(b.len(), 3);
        b.truncate(1);
        assert_eq!(b.pop(), Some(n(1)));
        assert_eq!(b.pop(), None);
        assert_eq!(b.first, at);
    }
}
