//! The value stack: one block of slots reserved when the VM starts, so a
//! push is a bounds test and a store, never a reallocation.
//!
//! The block (a [`Block`]) is allocated zeroed, so the operating system
//! maps its pages only as the stack first reaches them. Activations check that their
//! frame fits below [`MAX_STACK_SLOTS`]; the block has [`HEADROOM`] more
//! slots for what is pushed outside a frame's bounds (arguments pushed by
//! Rust or by `perform:`, which check for room themselves). A push beyond
//! the block is dropped and recorded, and the next activation reports a
//! stack overflow, so no Smalltalk program can write past the block.
//!
//! The record is the stack's *alarm*, a byte every activation and loop
//! back-edge tests (the interpreter's and machine code's): any bit set
//! sends it the slow way, which looks at the bits. The VM also raises
//! [`LOW_SPACE`] there, so that the next activation signals OutOfMemory,
//! and an operating-system signal raises [`INTERRUPTED`] (see
//! `vm::interrupts`), from whichever thread it is delivered to: the byte
//! is atomic.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU8, Ordering};

use super::block::Block;
use super::interpreter::MAX_STACK_SLOTS;
use crate::object::Oop;

/// Slots beyond [`MAX_STACK_SLOTS`].
pub const HEADROOM: usize = 1 << 16;

/// Alarm bit: a push found the block full.
pub const OVERFLOWED: u8 = 1;
/// Alarm bit: the heap is past its limit; the next activation signals
/// OutOfMemory.
pub const LOW_SPACE: u8 = 2;
/// Alarm bit: the process received a signal (SIGINT, SIGTERM, SIGHUP);
/// the next activation or back-edge ends the program.
pub const INTERRUPTED: u8 = 4;
/// Alarm bit: a timed signal (a Delay) is due; the next activation or
/// back-edge fires it (see `vm::scheduler`).
pub const TIMER: u8 = 8;

/// Reasons for the next activation to stop (the bits above); 0 when there
/// is none. Machine code reads it as a plain byte (`vm::abi`).
#[repr(transparent)]
#[derive(Default)]
pub struct Alarm(AtomicU8);

impl Alarm {
    /// Whether no bit is set (the fast path's one test).
    #[inline]
    pub fn is_quiet(&self) -> bool {
        self.0.load(Ordering::Relaxed) == 0
    }

    #[inline]
    pub fn has(&self, bit: u8) -> bool {
        self.0.load(Ordering::Relaxed) & bit != 0
    }

    pub fn raise(&self, bit: u8) {
        self.0.fetch_or(bit, Ordering::Relaxed);
    }

    pub fn clear(&self, bit: u8) {
        self.0.fetch_and(!bit, Ordering::Relaxed);
    }
}

#[repr(C)]
pub struct Stack {
    slots: Block<Oop>,
    pub alarm: Alarm,
}

impl Stack {
    /// Where the block of slots is (see `vm::abi`).
    pub const SLOTS_OFFSET: usize = std::mem::offset_of!(Stack, slots);

    pub fn new() -> Stack {
        Stack {
            slots: Block::new(MAX_STACK_SLOTS + HEADROOM),
            alarm: Alarm::default(),
        }
    }

    #[inline]
    pub fn push(&mut self, value: Oop) {
        if !self.slots.push(value) {
            self.alarm.raise(OVERFLOWED);
        }
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Oop> {
        self.slots.pop()
    }

    #[inline]
    pub fn truncate(&mut self, len: usize) {
        self.slots.truncate(len);
    }

    /// Grows to `len` slots holding `value` (or shrinks to `len`).
    pub fn resize(&mut self, len: usize, value: Oop) {
        if !self.slots.resize(len, value) {
            self.alarm.raise(OVERFLOWED);
        }
    }

    pub fn extend_from_slice(&mut self, values: &[Oop]) {
        for &v in values {
            self.push(v);
        }
    }

    /// Removes the slot at `index`, moving the ones above it down.
    pub fn remove(&mut self, index: usize) -> Oop {
        let value = self[index];
        let len = self.len();
        self.slots.copy_within(index + 1..len, index);
        self.slots.truncate(len - 1);
        value
    }

    /// Whether `n` more slots fit below [`MAX_STACK_SLOTS`].
    pub fn has_room_for(&self, n: usize) -> bool {
        self.len().saturating_add(n) <= MAX_STACK_SLOTS
    }

    /// Whether a push found the block full.
    pub fn overflowed(&self) -> bool {
        self.alarm.has(OVERFLOWED)
    }

    /// Whether `n` more slots fit in the whole block, [`HEADROOM`]
    /// included (the reserve for handling a stack overflow).
    pub fn has_room_in_reserve_for(&self, n: usize) -> bool {
        self.len().saturating_add(n) <= self.slots.capacity()
    }
}

impl Default for Stack {
    fn default() -> Stack {
        Stack::new()
    }
}

/// The live slots, bottom first.
impl Deref for Stack {
    type Target = [Oop];

    #[inline]
    fn deref(&self) -> &[Oop] {
        &self.slots
    }
}

impl DerefMut for Stack {
    #[inline]
    fn deref_mut(&mut self) -> &mut [Oop] {
        &mut self.slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_pops_and_reshapes() {
        let mut s = Stack::new();
        let n = |i: i64| Oop::small_integer(i).unwrap();
        s.extend_from_slice(&[n(1), n(2), n(3), n(4)]);
        assert_eq!(s.len(), 4);
        assert_eq!(s.remove(1), n(2));
        assert_eq!(&s[..], &[n(1), n(3), n(4)]);
        s.resize(5, n(0));
        assert_eq!(&s[..], &[n(1), n(3), n(4), n(0), n(0)]);
        s.truncate(2);
        assert_eq!(s.pop(), Some(n(3)));
        assert_eq!(s.pop(), Some(n(1)));
        assert_eq!(s.pop(), None);
        assert!(!s.overflowed());
    }

    #[test]
    fn a_push_past_the_block_is_dropped_and_recorded() {
        let mut s = Stack::new();
        let nil = Oop::small_integer(0).unwrap();
        s.resize(MAX_STACK_SLOTS + HEADROOM, nil);
        assert!(!s.overflowed() && !s.has_room_for(1));
        s.push(nil);
        assert!(s.overflowed());
        assert_eq!(s.len(), MAX_STACK_SLOTS + HEADROOM);
        s.resize(MAX_STACK_SLOTS + HEADROOM + 10, nil);
        assert_eq!(s.len(), MAX_STACK_SLOTS + HEADROOM);
    }
}
