//! Object memory: allocation and checked access to object contents.
//!
//! Objects are allocated by bumping a pointer through large chunks. There is
//! no collector yet: the nursery, the scavenger, the old space and the write
//! barrier are the next step (ARCHITECTURE.md). Every object lives in a chunk
//! owned by the [`Heap`], so its address stays valid as long as the heap does.
//!
//! Accessors check indexes against the object's own size, so a Smalltalk
//! program cannot read or write outside an object.

use crate::object::{Format, Header, Oop};

/// Words per chunk (8 MiB); larger objects get a chunk of their own.
const CHUNK_WORDS: usize = 1 << 20;

#[derive(Default)]
pub struct Heap {
    chunks: Vec<Box<[u64]>>,
    /// Next free word in the last chunk.
    next: usize,
    next_hash: u32,
    allocated_words: usize,
}

impl Heap {
    pub fn new() -> Heap {
        Heap::default()
    }

    /// Words allocated so far (for statistics and tests).
    pub fn allocated_words(&self) -> usize {
        self.allocated_words
    }

    /// Allocates an object of `slots` words (plus header, plus an overflow
    /// word when `slots` is 255 or more), every slot set to `fill`.
    pub fn allocate(&mut self, class_index: u32, format: Format, slots: usize, fill: u64) -> Oop {
        let overflow = slots as u64 >= Header::OVERFLOW_SLOTS;
        let words = slots + 1 + overflow as usize;
        let start = self.reserve(words);
        self.allocated_words += words;
        let chunk = self.chunks.last_mut().expect("reserve made a chunk");
        let mut at = start;
        if overflow {
            chunk[at] = slots as u64;
            at += 1;
        }
        self.next_hash = self.next_hash.wrapping_add(1) & Header::MAX_HASH;
        let hash = self.next_hash.max(1);
        chunk[at] = Header::new(class_index, format, slots as u64, hash).bits();
        chunk[at + 1..at + 1 + slots].fill(fill);
        Oop::from_pointer(&chunk[at] as *const u64)
    }

    /// Finds room for `words` words and answers their index in the last chunk.
    fn reserve(&mut self, words: usize) -> usize {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.len() - self.next >= words);
        if !fits {
            let size = words.max(CHUNK_WORDS);
            self.chunks.push(vec![0u64; size].into_boxed_slice());
            self.next = 0;
        }
        let start = self.next;
        self.next += words;
        start
    }
}

/// Reads the header of a pointer object.
///
/// # Safety
/// `oop` must be a pointer to a live object (heap or static).
pub unsafe fn header(oop: Oop) -> Header {
    let p = oop.bits() as *const Header;
    *p
}

/// The number of slots (words after the header) of a pointer object.
///
/// # Safety
/// `oop` must be a pointer to a live object.
pub unsafe fn slot_count(oop: Oop) -> usize {
    let h = header(oop);
    if h.slots_field() == Header::OVERFLOW_SLOTS {
        *(oop.bits() as *const u64).sub(1) as usize
    } else {
        h.slots_field() as usize
    }
}

/// Slot `index` (0-based), or `None` out of bounds or for immediates.
pub fn slot(oop: Oop, index: usize) -> Option<Oop> {
    if !oop.is_pointer() {
        return None;
    }
    // SAFETY: every pointer Oop the VM creates points at a live object.
    unsafe {
        if index >= slot_count(oop) {
            return None;
        }
        Some(Oop::from_bits(*(oop.bits() as *const u64).add(1 + index)))
    }
}

/// Stores into slot `index`; `false` when out of bounds or for immediates.
pub fn set_slot(oop: Oop, index: usize, value: Oop) -> bool {
    if !oop.is_pointer() {
        return false;
    }
    // SAFETY: as in `slot`; heap chunks are writable memory.
    unsafe {
        if index >= slot_count(oop) {
            return false;
        }
        *(oop.bits() as *mut u64).add(1 + index) = value.bits();
    }
    true
}

/// The bytes of a byte object (String, Symbol, ByteArray, LargeInteger).
pub fn bytes<'a>(oop: Oop) -> Option<&'a [u8]> {
    if !oop.is_pointer() {
        return None;
    }
    // SAFETY: a live byte object has `slots` words of data after its header,
    // of which the format says how many trailing bytes are unused.
    unsafe {
        let Format::Bytes(unused) = header(oop).format() else {
            return None;
        };
        let len = slot_count(oop) * 8 - unused as usize;
        Some(std::slice::from_raw_parts(
            (oop.bits() as *const u8).add(8),
            len,
        ))
    }
}

/// Allocates a byte object holding `data`.
pub fn allocate_bytes(heap: &mut Heap, class_index: u32, data: &[u8]) -> Oop {
    let slots = data.len().div_ceil(8);
    let unused = (slots * 8 - data.len()) as u8;
    let oop = heap.allocate(class_index, Format::Bytes(unused), slots, 0);
    // SAFETY: the object was just allocated with room for `data`.
    unsafe {
        std::ptr::copy_nonoverlapping(data.as_ptr(), (oop.bits() as *mut u8).add(8), data.len());
    }
    oop
}

/// The class index of any value, immediates included.
pub fn class_index_of(oop: Oop) -> u32 {
    if oop.is_small_integer() {
        crate::vm::classes::SMALL_INTEGER
    } else if oop.is_character() {
        crate::vm::classes::CHARACTER
    } else if oop.is_small_float() {
        crate::vm::classes::SMALL_FLOAT
    } else {
        // SAFETY: a pointer Oop points at a live object.
        unsafe { header(oop).class_index() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_objects_are_checked() {
        let mut heap = Heap::new();
        let fill = Oop::small_integer(7).unwrap().bits();
        let o = heap.allocate(42, Format::Indexable, 3, fill);
        assert_eq!(class_index_of(o), 42);
        assert_eq!(unsafe { slot_count(o) }, 3);
        assert_eq!(slot(o, 2), Oop::small_integer(7));
        assert_eq!(slot(o, 3), None);
        assert!(set_slot(o, 0, Oop::character('x')));
        assert_eq!(slot(o, 0), Some(Oop::character('x')));
        assert!(!set_slot(o, 3, Oop::character('x')));
        assert_eq!(slot(Oop::small_integer(1).unwrap(), 0), None);
    }

    #[test]
    fn large_objects_use_the_overflow_word() {
        let mut heap = Heap::new();
        let o = heap.allocate(5, Format::Indexable, 100_000, 0);
        assert_eq!(unsafe { slot_count(o) }, 100_000);
        assert!(set_slot(o, 99_999, Oop::small_integer(1).unwrap()));
        assert!(!set_slot(o, 100_000, Oop::small_integer(1).unwrap()));
        // Chunks hold many small objects, and big ones get their own.
        let big = heap.allocate(5, Format::Indexable, 3 * CHUNK_WORDS, 0);
        assert_eq!(unsafe { slot_count(big) }, 3 * CHUNK_WORDS);
    }

    #[test]
    fn byte_objects_keep_their_exact_length() {
        let mut heap = Heap::new();
        for data in [&b""[..], b"a", b"12345678", b"hello world"] {
            let o = allocate_bytes(&mut heap, 9, data);
            assert_eq!(bytes(o), Some(data));
        }
        let words = heap.allocate(9, Format::Indexable, 1, 0);
        assert_eq!(bytes(words), None);
    }

    #[test]
    fn identity_hashes_are_assigned() {
        let mut heap = Heap::new();
        let a = heap.allocate(1, Format::Empty, 0, 0);
        let b = heap.allocate(1, Format::Empty, 0, 0);
        let (ha, hb) = unsafe { (header(a).hash(), header(b).hash()) };
        assert!(ha != 0 && hb != 0 && ha != hb);
    }
}
