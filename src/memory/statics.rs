//! Static objects: objects laid out in `static` data, compiled into the
//! binary, never allocated, moved or freed.
//!
//! A static object has the same layout as a heap object (an overflow word
//! when it has 255 slots or more, the header, the slots), with the header's
//! *static* and *immutable* bits set. Its slots hold immediates or plain
//! pointers to other static objects, which the linker relocates (the image
//! block is laid out by the assembler, see `build/static_space.rs`), so
//! static objects point at one another with no fix-up at start-up.
//!
//! Static objects are shared by every VM in the process and are never
//! written: they are read-only (a store into one is refused like any store
//! into a read-only object, and `beWritableObject` fails for them), and the
//! collector neither marks nor scans them (they point only at other static
//! objects and immediates). `nil`, `true` and `false` are the static
//! objects below; build.rs generates the image's symbols, literals,
//! CompiledMethods and AST nodes as one block (`src/image/mod.rs`).

use crate::object::{classes, Format, Header, Oop, OVERFLOW_MARK};

/// One word of a static object: bits, or (in the image's block) a pointer
/// the linker relocated. The runtime reads static objects through `Oop`s,
/// never through this type.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Word(u64);

impl Word {
    pub const fn bits(bits: u64) -> Word {
        Word(bits)
    }

    /// The header of a static (and read-only) object.
    pub const fn header(class_index: u32, format: Format, slots: u64, hash: u32) -> Word {
        let header = Header::new_static(class_index, format, slots, hash).with_immutable(true);
        Word::bits(header.bits())
    }
}

/// A block of static objects laid out in Rust.
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

/// Calls `f` with every object of a block of static objects laid out
/// one after the other (as build.rs lays out the image's).
pub fn for_each_object(words: &'static [Word], mut f: impl FnMut(Oop)) {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].0;
        let (header, extent) = if w & OVERFLOW_MARK == OVERFLOW_MARK {
            (i + 1, (w & !OVERFLOW_MARK) as usize + 2)
        } else {
            // Every object has room for at least one slot.
            (i, (Header::from_bits(w).slots_field() as usize).max(1) + 1)
        };
        f(object_at(words, header));
        i += extent;
    }
}

/// Whether `oop` is a static object.
pub fn is_static(oop: Oop) -> bool {
    // SAFETY: a pointer Oop points at a live object.
    oop.is_pointer() && unsafe { super::header(oop).is_static() }
}
