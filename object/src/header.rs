//! The header word every heap (and static) object starts with, laid out as
//! Spur's so VM engineers find their way:
//!
//! | bits | field |
//! |---|---|
//! | 0..22 | class index (into the class table) |
//! | 23 | immutable |
//! | 24..29 | format (see [`Format`]) |
//! | 29 | remembered (in the remembered set) |
//! | 30 | marked (old-space collection) |
//! | 31 | static (part of the image: never moves, never freed) |
//! | 32..54 | identity hash (0: not yet assigned) |
//! | 56..64 | slot count; 255 means the count is in the word before the header |

/// Object formats, with Spur's numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// 0: no fields at all (`Object new`).
    Empty,
    /// 1: named pointer fields only.
    Fixed,
    /// 2: indexed pointer fields only (`Array`).
    Indexable,
    /// 3: named and indexed pointer fields.
    FixedIndexable,
    /// 4: named fields plus weak indexed fields.
    Weak,
    /// 5: ephemeron (key, value, ...).
    Ephemeron,
    /// 9: 64-bit indexed words.
    Words64,
    /// 10-11: 32-bit indexed words; the parameter is the unused
    /// trailing half-words in the last slot (0-1).
    Words32(u8),
    /// 12-15: 16-bit indexed; unused trailing elements (0-3).
    Words16(u8),
    /// 16-23: bytes; unused trailing bytes in the last slot (0-7).
    Bytes(u8),
    /// 24-31: CompiledMethod: pointer literals, then bytes.
    CompiledMethod(u8),
}

impl Format {
    pub const fn code(self) -> u64 {
        match self {
            Format::Empty => 0,
            Format::Fixed => 1,
            Format::Indexable => 2,
            Format::FixedIndexable => 3,
            Format::Weak => 4,
            Format::Ephemeron => 5,
            Format::Words64 => 9,
            Format::Words32(odd) => 10 + (odd as u64 & 1),
            Format::Words16(odd) => 12 + (odd as u64 & 3),
            Format::Bytes(odd) => 16 + (odd as u64 & 7),
            Format::CompiledMethod(odd) => 24 + (odd as u64 & 7),
        }
    }

    pub const fn from_code(code: u64) -> Option<Format> {
        Some(match code {
            0 => Format::Empty,
            1 => Format::Fixed,
            2 => Format::Indexable,
            3 => Format::FixedIndexable,
            4 => Format::Weak,
            5 => Format::Ephemeron,
            9 => Format::Words64,
            10..=11 => Format::Words32((code - 10) as u8),
            12..=15 => Format::Words16((code - 12) as u8),
            16..=23 => Format::Bytes((code - 16) as u8),
            24..=31 => Format::CompiledMethod((code - 24) as u8),
            _ => return None,
        })
    }

    /// Whether the GC must scan the fields (as opposed to raw data).
    pub const fn has_pointers(self) -> bool {
        matches!(
            self,
            Format::Empty
                | Format::Fixed
                | Format::Indexable
                | Format::FixedIndexable
                | Format::Weak
                | Format::Ephemeron
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Header(u64);

const CLASS_INDEX_BITS: u32 = 22;
const CLASS_INDEX_MASK: u64 = (1 << CLASS_INDEX_BITS) - 1;
const IMMUTABLE_BIT: u64 = 1 << 23;
const FORMAT_SHIFT: u32 = 24;
const FORMAT_MASK: u64 = 0x1F;
const REMEMBERED_BIT: u64 = 1 << 29;
const MARKED_BIT: u64 = 1 << 30;
const STATIC_BIT: u64 = 1 << 31;
const HASH_SHIFT: u32 = 32;
/// The top byte of the word before the header of an object of
/// [`Header::OVERFLOW_SLOTS`] slots or more, which holds the real count.
pub const OVERFLOW_MARK: u64 = 0xFF << 56;
const HASH_MASK: u64 = (1 << 22) - 1;
const SLOTS_SHIFT: u32 = 56;

impl Header {
    /// Largest class index (22 bits, as in Spur).
    pub const MAX_CLASS_INDEX: u32 = CLASS_INDEX_MASK as u32;
    /// Slot counts from this value up are stored in an overflow word.
    pub const OVERFLOW_SLOTS: u64 = 255;
    pub const MAX_HASH: u32 = HASH_MASK as u32;
    /// The immutable bit and the format's place, for code that tests
    /// headers itself (the JIT).
    pub const IMMUTABLE_BIT: u64 = IMMUTABLE_BIT;
    pub const FORMAT_SHIFT: u32 = FORMAT_SHIFT;
    pub const FORMAT_MASK: u64 = FORMAT_MASK;

    /// A header; `slots` above 254 must be given as
    /// [`Header::OVERFLOW_SLOTS`] with the real count in the preceding word.
    pub const fn new(class_index: u32, format: Format, slots: u64, hash: u32) -> Header {
        let slots = if slots >= Self::OVERFLOW_SLOTS {
            Self::OVERFLOW_SLOTS
        } else {
            slots
        };
        Header(
            (class_index as u64 & CLASS_INDEX_MASK)
                | (format.code() << FORMAT_SHIFT)
                | ((hash as u64 & HASH_MASK) << HASH_SHIFT)
                | (slots << SLOTS_SHIFT),
        )
    }

    /// The header of an object baked into the image by build.rs.
    pub const fn new_static(class_index: u32, format: Format, slots: u64, hash: u32) -> Header {
        Header(Self::new(class_index, format, slots, hash).0 | STATIC_BIT)
    }

    pub const fn bits(self) -> u64 {
        self.0
    }

    pub const fn from_bits(bits: u64) -> Header {
        Header(bits)
    }

    pub const fn class_index(self) -> u32 {
        (self.0 & CLASS_INDEX_MASK) as u32
    }

    pub const fn format(self) -> Format {
        match Format::from_code((self.0 >> FORMAT_SHIFT) & FORMAT_MASK) {
            Some(f) => f,
            None => Format::Empty,
        }
    }

    /// Whether the slots hold object pointers (the formats the GC scans,
    /// [`Format::has_pointers`]), read without building the Format.
    #[inline]
    pub const fn has_pointer_slots(self) -> bool {
        const LAST_POINTER_FORMAT: u64 = Format::Ephemeron.code();
        (self.0 >> FORMAT_SHIFT) & FORMAT_MASK <= LAST_POINTER_FORMAT
    }

    /// Whether the object is only indexed slots (an Array's format), read
    /// without building the Format.
    #[inline]
    pub const fn is_indexable_only(self) -> bool {
        self.has_format(Format::Indexable)
    }

    /// Whether the object has `format`, one of the formats of a single code
    /// (not bytes or words, whose codes carry a count), read without
    /// building the Format.
    #[inline]
    pub const fn has_format(self, format: Format) -> bool {
        (self.0 >> FORMAT_SHIFT) & FORMAT_MASK == format.code()
    }

    /// For an object of 32-bit words, the number of unused half-words in
    /// its last slot (`Format::Words32`).
    #[inline]
    pub const fn unused_half_words(self) -> Option<u8> {
        let code = (self.0 >> FORMAT_SHIFT) & FORMAT_MASK;
        if code >= 10 && code <= 11 {
            Some((code - 10) as u8)
        } else {
            None
        }
    }

    /// For a byte object, the number of unused bytes in its last word
    /// (`Format::Bytes`), decoded without building the Format.
    #[inline]
    pub const fn unused_bytes(self) -> Option<u8> {
        let code = (self.0 >> FORMAT_SHIFT) & FORMAT_MASK;
        if code >= 16 && code <= 23 {
            Some((code - 16) as u8)
        } else {
            None
        }
    }

    /// The slot count field; [`Header::OVERFLOW_SLOTS`] means "see the
    /// overflow word".
    pub const fn slots_field(self) -> u64 {
        self.0 >> SLOTS_SHIFT
    }

    pub const fn hash(self) -> u32 {
        ((self.0 >> HASH_SHIFT) & HASH_MASK) as u32
    }

    pub const fn with_hash(self, hash: u32) -> Header {
        Header((self.0 & !(HASH_MASK << HASH_SHIFT)) | ((hash as u64 & HASH_MASK) << HASH_SHIFT))
    }

    /// The header with another class index (`primitiveChangeClassTo:`).
    pub const fn with_class_index(self, class_index: u32) -> Header {
        Header((self.0 & !CLASS_INDEX_MASK) | (class_index as u64 & CLASS_INDEX_MASK))
    }

    /// The header with another format (a fired ephemeron becomes an
    /// ordinary object of named fields).
    pub const fn with_format(self, format: Format) -> Header {
        Header((self.0 & !(FORMAT_MASK << FORMAT_SHIFT)) | (format.code() << FORMAT_SHIFT))
    }

    /// The header with `bit` set or cleared.
    const fn with_bit(self, bit: u64, on: bool) -> Header {
        Header(if on { self.0 | bit } else { self.0 & !bit })
    }

    pub const fn is_static(self) -> bool {
        self.0 & STATIC_BIT != 0
    }

    pub const fn is_immutable(self) -> bool {
        self.0 & IMMUTABLE_BIT != 0
    }

    pub const fn with_immutable(self, on: bool) -> Header {
        self.with_bit(IMMUTABLE_BIT, on)
    }

    pub const fn is_remembered(self) -> bool {
        self.0 & REMEMBERED_BIT != 0
    }

    pub const fn with_remembered(self, on: bool) -> Header {
        self.with_bit(REMEMBERED_BIT, on)
    }

    pub const fn is_marked(self) -> bool {
        self.0 & MARKED_BIT != 0
    }

    pub const fn with_marked(self, on: bool) -> Header {
        self.with_bit(MARKED_BIT, on)
    }
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Header")
            .field("class_index", &self.class_index())
            .field("format", &self.format())
            .field("slots", &self.slots_field())
            .field("hash", &self.hash())
            .field("static", &self.is_static())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_independently() {
        let h = Header::new(
            Header::MAX_CLASS_INDEX,
            Format::FixedIndexable,
            7,
            Header::MAX_HASH,
        );
        assert_eq!(h.class_index(), Header::MAX_CLASS_INDEX);
        assert_eq!(h.format(), Format::FixedIndexable);
        assert_eq!(h.slots_field(), 7);
        assert_eq!(h.hash(), Header::MAX_HASH);
        assert!(!h.is_static() && !h.is_immutable() && !h.is_remembered() && !h.is_marked());
        let h = h
            .with_remembered(true)
            .with_marked(true)
            .with_immutable(true)
            .with_hash(5);
        assert!(h.is_remembered() && h.is_marked() && h.is_immutable());
        assert_eq!(
            (h.hash(), h.class_index(), h.slots_field()),
            (5, Header::MAX_CLASS_INDEX, 7)
        );
        assert!(Header::new_static(3, Format::Fixed, 2, 0).is_static());
    }

    #[test]
    fn large_slot_counts_use_the_overflow_word() {
        assert_eq!(Header::new(1, Format::Indexable, 254, 0).slots_field(), 254);
        assert_eq!(
            Header::new(1, Format::Indexable, 255, 0).slots_field(),
            Header::OVERFLOW_SLOTS
        );
        assert_eq!(
            Header::new(1, Format::Indexable, 1 << 40, 0).slots_field(),
            Header::OVERFLOW_SLOTS
        );
    }

    #[test]
    fn format_codes_are_spurs() {
        let all = [
            (Format::Empty, 0),
            (Format::Fixed, 1),
            (Format::Indexable, 2),
            (Format::FixedIndexable, 3),
            (Format::Weak, 4),
            (Format::Ephemeron, 5),
            (Format::Words64, 9),
            (Format::Words32(1), 11),
            (Format::Words16(3), 15),
            (Format::Bytes(0), 16),
            (Format::Bytes(7), 23),
            (Format::CompiledMethod(2), 26),
        ];
        for (format, code) in all {
            assert_eq!(format.code(), code);
            assert_eq!(Format::from_code(code), Some(format));
            assert_eq!(Header::new(0, format, 0, 0).format(), format);
        }
        assert_eq!(Format::from_code(6), None);
        assert!(Format::Weak.has_pointers() && !Format::Bytes(0).has_pointers());
    }
}
