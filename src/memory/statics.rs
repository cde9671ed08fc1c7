//! Static objects: objects laid out in `static` data, compiled into the
//! binary, never allocated, moved or freed.
//!
//! A static object has the same layout as a heap object (an overflow word
//! when it has 255 slots or more, the header, the slots), with the header's
//! *static* and *immutable* bits set. Its words are a [`Word`]: bits, or a
//! plain pointer to another static object, which the linker relocates, so
//! static objects point at one another with no fix-up at start-up.
//!
//! Static objects are shared by every VM in the process and are never
//! written: they are read-only (a store into one is refused like any store
//! into a read-only object, and `beWritableObject` fails for them), and the
//! collector neither marks nor scans them (they point only at other static
//! objects and immediates). `nil`, `true` and `false` are the static
//! objects below; build.rs generates the image's symbols and literals as
//! one static space (`src/image/mod.rs`).

use crate::object::{Format, Header, Oop};
use crate::vm::classes;

/// One word of a static object.
#[derive(Clone, Copy)]
#[repr(C)]
pub union Word {
    bits: u64,
    pointer: *const Word,
}

// SAFETY: static objects are never written (see the module comment), so
// sharing them between threads is sharing immutable data.
unsafe impl Sync for Word {}

impl Word {
    pub const fn bits(bits: u64) -> Word {
        Word { bits }
    }

    /// A pointer to the static object whose header is at `header`.
    pub const fn object(header: *const Word) -> Word {
        Word { pointer: header }
    }

    /// The header of a static (and read-only) object.
    pub const fn header(class_index: u32, format: Format, slots: u64, hash: u32) -> Word {
        let header = Header::new_static(class_index, format, slots, hash).with_immutable(true);
        Word::bits(header.bits())
    }

    /// The word before the header of an object of 255 slots or more.
    pub const fn overflow(slots: u64) -> Word {
        Word::bits(slots | crate::object::OVERFLOW_MARK)
    }

    pub const fn small_integer(value: i64) -> Word {
        match Oop::small_integer(value) {
            Some(oop) => Word::bits(oop.bits()),
            None => panic!("not a SmallInteger"),
        }
    }

    pub const fn character(code: u32) -> Word {
        Word::bits(Oop::character_from_code(code).bits())
    }

    /// An immediate float (build.rs boxes the others).
    pub const fn small_float(bits: u64) -> Word {
        match Oop::small_float(f64::from_bits(bits)) {
            Some(oop) => Word::bits(oop.bits()),
            None => panic!("not a SmallFloat64"),
        }
    }
}

/// A block of static objects.
#[repr(C, align(8))]
pub struct StaticObjects<const N: usize>(pub [Word; N]);

impl<const N: usize> StaticObjects<N> {
    /// The object whose header is word `index`.
    pub fn oop(&'static self, index: usize) -> Oop {
        object_at(&self.0, index)
    }
}

/// The static object whose header is word `index` of `words`.
pub fn object_at(words: &'static [Word], index: usize) -> Oop {
    Oop::from_pointer(&words[index] as *const Word)
}

/// nil, true and false: the objects every VM and the image share.
pub static SPECIAL_OBJECTS: StaticObjects<6> = StaticObjects([
    Word::header(classes::UNDEFINED_OBJECT, Format::Empty, 0, 1),
    Word::bits(0),
    Word::header(classes::TRUE, Format::Empty, 0, 2),
    Word::bits(0),
    Word::header(classes::FALSE, Format::Empty, 0, 3),
    Word::bits(0),
]);

/// Where nil, true and false are in [`SPECIAL_OBJECTS`].
pub const NIL: usize = 0;
pub const TRUE: usize = 2;
pub const FALSE: usize = 4;

/// Whether `oop` is a static object.
pub fn is_static(oop: Oop) -> bool {
    // SAFETY: a pointer Oop points at a live object.
    oop.is_pointer() && unsafe { super::header(oop).is_static() }
}
