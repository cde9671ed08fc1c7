//! `Oop`: one 64-bit word, either a pointer to a heap (or static) object or
//! an immediate value.
//!
//! | low 3 bits | meaning |
//! |---|---|
//! | `000` | pointer to an object's header word (8-byte aligned, never 0) |
//! | `001` | SmallInteger: value in the upper 61 bits (Pharo's 64-bit range) |
//! | `010` | Character: Unicode code point in the upper bits |
//! | `100` | SmallFloat64: a double whose exponent fits 8 bits (Spur's encoding) |
//!
//! Pointers are untagged so a `static` object can hold a plain pointer to
//! another static object: the linker relocates it, nothing is fixed up at
//! start-up.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Oop(u64);

const TAG_MASK: u64 = 0b111;
const TAG_POINTER: u64 = 0b000;
const TAG_SMALL_INTEGER: u64 = 0b001;
const TAG_CHARACTER: u64 = 0b010;
const TAG_SMALL_FLOAT: u64 = 0b100;
const TAG_BITS: u32 = 3;

/// Spur's SmallFloat64 keeps 8 of the 11 exponent bits: biased exponents
/// 897..=1151 (about 1.2e-38 to 6.8e38), plus both zeros. A SmallFloat64 is
/// the double with this offset taken off its exponent, so that it fits in
/// 61 bits.
pub const SMALL_FLOAT_EXPONENT_OFFSET: u64 = 896;

/// Whether `value` is an immediate SmallFloat64 rather than a boxed one
/// (inlined: the VM asks for every float result).
#[inline]
pub const fn fits_small_float(value: f64) -> bool {
    let bits = value.to_bits();
    let exponent = (bits >> 52) & 0x7FF;
    bits << 1 == 0
        || (exponent > SMALL_FLOAT_EXPONENT_OFFSET && exponent <= SMALL_FLOAT_EXPONENT_OFFSET + 255)
}

impl Oop {
    /// SmallInteger range: 61-bit two's complement, as in 64-bit Pharo
    /// (`SmallInteger maxVal` = 1152921504606846975): the integers the VM
    /// holds as immediates.
    pub const SMALL_INTEGER_MIN: i64 = -(1 << 60);
    pub const SMALL_INTEGER_MAX: i64 = (1 << 60) - 1;

    /// The raw word (for hashing, the GC and the JIT).
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// # Safety
    /// `bits` must be a valid encoding: an immediate, or the address of a
    /// live object's header.
    pub const unsafe fn from_bits(bits: u64) -> Oop {
        Oop(bits)
    }

    pub fn from_pointer<T>(p: *const T) -> Oop {
        debug_assert!(p as u64 & TAG_MASK == 0 && !p.is_null());
        Oop(p as u64)
    }

    pub const fn is_pointer(self) -> bool {
        self.0 & TAG_MASK == TAG_POINTER
    }

    pub const fn is_immediate(self) -> bool {
        !self.is_pointer()
    }

    pub fn as_pointer<T>(self) -> Option<*const T> {
        self.is_pointer().then_some(self.0 as *const T)
    }

    // ----- SmallInteger ------------------------------------------------------

    pub const fn is_small_integer(self) -> bool {
        self.0 & TAG_MASK == TAG_SMALL_INTEGER
    }

    /// The SmallInteger for `value`, or `None` outside the 61-bit range
    /// (the caller makes a LargeInteger).
    pub const fn small_integer(value: i64) -> Option<Oop> {
        if value < Self::SMALL_INTEGER_MIN || value > Self::SMALL_INTEGER_MAX {
            None
        } else {
            Some(Oop(((value as u64) << TAG_BITS) | TAG_SMALL_INTEGER))
        }
    }

    /// The value of a SmallInteger (meaningless for other oops; check first).
    pub const fn small_integer_value(self) -> i64 {
        (self.0 as i64) >> TAG_BITS
    }

    pub fn as_small_integer(self) -> Option<i64> {
        self.is_small_integer().then(|| self.small_integer_value())
    }

    // ----- Character ---------------------------------------------------------

    pub const fn is_character(self) -> bool {
        self.0 & TAG_MASK == TAG_CHARACTER
    }

    /// Pharo characters are code points 0..=0x3FFFFFFF; any `char` fits.
    pub const fn character(c: char) -> Oop {
        Oop(((c as u64) << TAG_BITS) | TAG_CHARACTER)
    }

    /// A Character from a code point (`Character value: n`), also for
    /// values that are not Unicode scalar values (surrogates), as in Pharo.
    pub const fn character_from_code(code: u32) -> Oop {
        Oop(((code as u64) << TAG_BITS) | TAG_CHARACTER)
    }

    pub fn as_character_code(self) -> Option<u32> {
        self.is_character().then_some((self.0 >> TAG_BITS) as u32)
    }

    // ----- SmallFloat64 ------------------------------------------------------

    pub const fn is_small_float(self) -> bool {
        self.0 & TAG_MASK == TAG_SMALL_FLOAT
    }

    /// The SmallFloat64 for `value`, or `None` when its exponent is out of
    /// the immediate range (infinities, NaNs, denormals, very large or
    /// small magnitudes): those are boxed Floats.
    pub const fn small_float(value: f64) -> Option<Oop> {
        if !fits_small_float(value) {
            return None;
        }
        let rotated = value.to_bits().rotate_left(1); // sign moves to bit 0
                                                      // +0.0 and -0.0 keep exponent field 0, which marks them.
        let encoded = if rotated <= 1 {
            rotated
        } else {
            rotated - (SMALL_FLOAT_EXPONENT_OFFSET << 53)
        };
        Some(Oop((encoded << TAG_BITS) | TAG_SMALL_FLOAT))
    }

    /// The value of a SmallFloat64 (meaningless for other oops; check first).
    pub fn small_float_value(self) -> f64 {
        let encoded = self.0 >> TAG_BITS;
        let rotated = if encoded <= 1 {
            encoded
        } else {
            encoded + (SMALL_FLOAT_EXPONENT_OFFSET << 53)
        };
        f64::from_bits(rotated.rotate_right(1))
    }

    pub fn as_small_float(self) -> Option<f64> {
        self.is_small_float().then(|| self.small_float_value())
    }
}

impl fmt::Debug for Oop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(i) = self.as_small_integer() {
            write!(f, "SmallInteger({i})")
        } else if let Some(c) = self.as_character_code() {
            write!(f, "Character({c:#x})")
        } else if let Some(x) = self.as_small_float() {
            write!(f, "SmallFloat64({x:?})")
        } else {
            write!(f, "Oop({:#x})", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_integers_cover_pharo_range_exactly() {
        for v in [0, 1, -1, 42, Oop::SMALL_INTEGER_MAX, Oop::SMALL_INTEGER_MIN] {
            let o = Oop::small_integer(v).unwrap();
            assert!(o.is_small_integer() && !o.is_pointer() && !o.is_small_float());
            assert_eq!(o.as_small_integer(), Some(v));
        }
        assert_eq!(Oop::SMALL_INTEGER_MAX, 1152921504606846975);
        assert_eq!(Oop::small_integer(Oop::SMALL_INTEGER_MAX + 1), None);
        assert_eq!(Oop::small_integer(Oop::SMALL_INTEGER_MIN - 1), None);
        assert_eq!(Oop::small_integer(i64::MIN), None);
    }

    #[test]
    fn characters() {
        for c in ['a', ' ', '\'', '\u{10FFFF}', 'é'] {
            let o = Oop::character(c);
            assert!(o.is_character());
            assert_eq!(o.as_character_code(), Some(c as u32));
        }
        assert_eq!(
            Oop::character_from_code(0xD800).as_character_code(),
            Some(0xD800)
        );
        assert_eq!(Oop::small_integer(97).unwrap().as_character_code(), None);
    }

    #[test]
    fn small_floats_round_trip_in_range() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            std::f64::consts::PI,
            1e38,
            -2e-38,
            f32::MAX as f64,
            f32::MIN_POSITIVE as f64,
        ] {
            let o = Oop::small_float(v).unwrap_or_else(|| panic!("{v} should be immediate"));
            assert!(o.is_small_float() && !o.is_small_integer());
            assert_eq!(o.small_float_value().to_bits(), v.to_bits(), "{v}");
        }
    }

    #[test]
    fn floats_outside_the_exponent_range_are_boxed() {
        for v in [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e300,
            1e-300,
            f64::MIN_POSITIVE,
            5e-324,
            1e39,
        ] {
            assert_eq!(Oop::small_float(v), None, "{v}");
        }
        // The exact edges of the range: biased exponents 897 and 1151.
        let lowest = f64::from_bits(897 << 52);
        let highest = f64::from_bits((1151 << 52) | ((1 << 52) - 1));
        assert_eq!(
            Oop::small_float(lowest).unwrap().small_float_value(),
            lowest
        );
        assert_eq!(
            Oop::small_float(highest).unwrap().small_float_value(),
            highest
        );
        assert_eq!(Oop::small_float(f64::from_bits(896 << 52)), None);
        assert_eq!(Oop::small_float(f64::from_bits(1152 << 52)), None);
    }

    #[test]
    fn immediates_and_pointers_are_distinct() {
        static WORDS: [u64; 2] = [0, 0];
        let p = Oop::from_pointer(&WORDS as *const _);
        assert!(p.is_pointer() && !p.is_immediate());
        assert_eq!(
            p.as_pointer::<u64>(),
            Some(&WORDS as *const _ as *const u64)
        );
        assert_eq!(Oop::small_integer(1).unwrap().as_pointer::<u64>(), None);
    }
}
