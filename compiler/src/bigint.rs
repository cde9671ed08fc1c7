//! Arbitrary-precision integers with Pharo's semantics: the one big-integer
//! implementation of the project, used by the literal decoder and (through
//! LargePositiveInteger / LargeNegativeInteger) by the runtime.
//!
//! The arithmetic is `dashu-int`'s, whose multiplication (Karatsuba,
//! Toom-3), division (divide and conquer) and radix conversions are
//! subquadratic for large operands: printing `20000 factorial` or a
//! million-digit number, and dividing such numbers, take milliseconds to
//! seconds rather than minutes (see `benches/large_integers.py`). Its
//! semantics are Pharo's: `/` and `%` truncate (`quo:`/`rem:`), shifts
//! floor, and bitwise operations treat negative numbers as infinite two's
//! complement. Floored division (`//`/`\\`) is built on the truncated one.

use std::fmt;

use dashu_int::ops::{BitTest, Gcd, UnsignedAbs};
use dashu_int::{IBig, Sign, UBig};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct BigInt(IBig);

impl BigInt {
    pub fn zero() -> BigInt {
        BigInt::default()
    }

    pub fn from_i64(value: i64) -> BigInt {
        BigInt(IBig::from(value))
    }

    pub fn from_u64(value: u64) -> BigInt {
        BigInt(IBig::from(value))
    }

    pub fn from_i128(value: i128) -> BigInt {
        BigInt(IBig::from(value))
    }

    /// A value from a sign and little-endian 32-bit limbs (trailing zeros
    /// allowed).
    pub fn from_parts(negative: bool, limbs: Vec<u32>) -> BigInt {
        let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
        BigInt::from_magnitude_bytes(negative, &bytes)
    }

    /// The digits (`0-9`, `a-z` or `A-Z`) of a magnitude in `radix`
    /// (2..=36); `None` when one is not a digit of that radix.
    pub fn from_digits(negative: bool, digits: &str, radix: u32) -> Option<BigInt> {
        if digits.is_empty() {
            return Some(BigInt::zero());
        }
        let magnitude = UBig::from_str_radix(digits, radix).ok()?;
        Some(BigInt::signed(negative, magnitude))
    }

    fn signed(negative: bool, magnitude: UBig) -> BigInt {
        let sign = if negative {
            Sign::Negative
        } else {
            Sign::Positive
        };
        BigInt(IBig::from_parts(sign, magnitude))
    }

    fn magnitude(&self) -> UBig {
        self.0.clone().unsigned_abs()
    }

    pub fn is_zero(&self) -> bool {
        self.0 == IBig::ZERO
    }

    pub fn is_negative(&self) -> bool {
        self.0 < IBig::ZERO
    }

    /// `self * factor + addend` on the magnitude (the sign stays).
    pub fn mul_add_small(&mut self, factor: u32, addend: u32) {
        let magnitude = self.magnitude() * UBig::from(factor) + UBig::from(addend);
        *self = BigInt::signed(self.is_negative(), magnitude);
    }

    /// Divides the magnitude by `divisor` (non-zero) in place, the sign
    /// staying (zero is never negative), and answers the remainder.
    pub fn divmod_small(&mut self, divisor: u32) -> u32 {
        let magnitude = self.magnitude();
        let divisor = UBig::from(divisor);
        let rem = u32::try_from(&magnitude % &divisor).expect("below a u32 divisor");
        *self = BigInt::signed(self.is_negative(), magnitude / divisor);
        rem
    }

    pub fn negated(&self) -> BigInt {
        BigInt(-self.0.clone())
    }

    pub fn abs(&self) -> BigInt {
        BigInt(IBig::from(self.magnitude()))
    }

    pub fn add(&self, other: &BigInt) -> BigInt {
        BigInt(&self.0 + &other.0)
    }

    pub fn sub(&self, other: &BigInt) -> BigInt {
        BigInt(&self.0 - &other.0)
    }

    pub fn mul(&self, other: &BigInt) -> BigInt {
        BigInt(&self.0 * &other.0)
    }

    /// `base` raised to `exponent`.
    pub fn pow(base: u32, exponent: u32) -> BigInt {
        BigInt::from_u64(base as u64).raised_to(exponent)
    }

    /// `self` raised to `exponent`.
    pub fn raised_to(&self, exponent: u32) -> BigInt {
        BigInt(self.0.pow(exponent as usize))
    }

    /// Truncated division (`quo:` and `rem:`): the quotient rounds toward
    /// zero, the remainder has the sign of `self`. `None` for a zero divisor.
    pub fn quo_rem(&self, divisor: &BigInt) -> Option<(BigInt, BigInt)> {
        if divisor.is_zero() {
            return None;
        }
        Some((BigInt(&self.0 / &divisor.0), BigInt(&self.0 % &divisor.0)))
    }

    /// Floored division (`//` and `\\`): the quotient rounds toward minus
    /// infinity, the remainder has the sign of the divisor.
    pub fn div_mod(&self, divisor: &BigInt) -> Option<(BigInt, BigInt)> {
        let (q, r) = self.quo_rem(divisor)?;
        if !r.is_zero() && r.is_negative() != divisor.is_negative() {
            Some((q.sub(&BigInt::from_u64(1)), r.add(divisor)))
        } else {
            Some((q, r))
        }
    }

    /// Greatest common divisor, non-negative (`gcd:`).
    pub fn gcd(&self, other: &BigInt) -> BigInt {
        if self.is_zero() {
            return other.abs();
        }
        if other.is_zero() {
            return self.abs();
        }
        BigInt(IBig::from(self.magnitude().gcd(&other.magnitude())))
    }

    /// Number of bits of the magnitude (`highBit` of the absolute value).
    pub fn bit_length(&self) -> u64 {
        self.magnitude().bit_len() as u64
    }

    /// `bitShift:`: left for positive `shift`, right (flooring, as an
    /// arithmetic shift of the two's complement) for negative.
    pub fn shifted(&self, shift: i64) -> BigInt {
        if shift >= 0 {
            return BigInt(&self.0 << shift as usize);
        }
        let n = shift.unsigned_abs();
        if n >= self.bit_length() {
            // Everything shifted out: 0, or -1 for a negative number.
            return BigInt::from_i64(if self.is_negative() { -1 } else { 0 });
        }
        BigInt(&self.0 >> n as usize)
    }

    pub fn bit_and(&self, other: &BigInt) -> BigInt {
        BigInt(&self.0 & &other.0)
    }

    pub fn bit_or(&self, other: &BigInt) -> BigInt {
        BigInt(&self.0 | &other.0)
    }

    pub fn bit_xor(&self, other: &BigInt) -> BigInt {
        BigInt(&self.0 ^ &other.0)
    }

    /// The value as an `i64` when it fits.
    pub fn to_i64(&self) -> Option<i64> {
        i64::try_from(&self.0).ok()
    }

    pub fn to_i128(&self) -> Option<i128> {
        i128::try_from(&self.0).ok()
    }

    /// Digits of the magnitude in `radix` (2..=36), most significant first,
    /// upper-case letters, no sign (`printString: radix` without the sign).
    pub fn magnitude_digits(&self, radix: u32) -> String {
        let mut digits = self.magnitude().in_radix(radix as u8).to_string();
        digits.make_ascii_uppercase();
        digits
    }

    /// The value in `radix`, with a leading `-` when negative.
    pub fn to_string_radix(&self, radix: u32) -> String {
        let digits = self.magnitude_digits(radix);
        if self.is_negative() {
            format!("-{digits}")
        } else {
            digits
        }
    }

    /// The magnitude as little-endian bytes without trailing zero bytes:
    /// the contents of a Pharo LargePositiveInteger/LargeNegativeInteger.
    pub fn magnitude_bytes(&self) -> Vec<u8> {
        let mut bytes = self.magnitude().to_le_bytes().into_vec();
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        bytes
    }

    /// A value from a LargeInteger's little-endian magnitude bytes.
    pub fn from_magnitude_bytes(negative: bool, bytes: &[u8]) -> BigInt {
        BigInt::signed(negative, UBig::from_le_bytes(bytes))
    }

    /// The integer part of a float, exactly (`truncated`); `None` for NaN
    /// and infinities.
    pub fn from_f64_truncated(value: f64) -> Option<BigInt> {
        if !value.is_finite() {
            return None;
        }
        let t = value.trunc();
        if t.abs() < 9.0e18 {
            return Some(BigInt::from_i64(t as i64));
        }
        // |t| >= 2^63: an integer mantissa shifted left by the exponent.
        let bits = t.to_bits();
        let exponent = ((bits >> 52) & 0x7FF) as i64 - 1075;
        let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
        let magnitude = BigInt::from_u64(mantissa).shifted(exponent);
        Some(if t < 0.0 {
            magnitude.negated()
        } else {
            magnitude
        })
    }

    /// The nearest float, ties to even (`asFloat`); infinite beyond range.
    pub fn to_f64(&self) -> f64 {
        if self.bit_length() > 1100 {
            // Far beyond f64::MAX (2^1024): no need to print it.
            return if self.is_negative() {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
        }
        // Rust's decimal parser rounds correctly; the value is exact text.
        self.to_string().parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_radix(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(digits: &str, radix: u32) -> BigInt {
        let (negative, digits) = match digits.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, digits),
        };
        let mut b = BigInt::zero();
        for c in digits.chars() {
            b.mul_add_small(radix, c.to_digit(radix).unwrap());
        }
        if negative {
            b.negated()
        } else {
            b
        }
    }

    fn big(v: i128) -> BigInt {
        BigInt::from_i128(v)
    }

    /// A fixed-seed generator of i128 values of varied sizes.
    struct Values(u64);

    impl Values {
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// Values up to about 2^bits in magnitude, either sign.
        fn next(&mut self, bits: u32) -> i128 {
            let raw = ((self.next_u64() as u128) << 64 | self.next_u64() as u128)
                >> (128 - bits.clamp(1, 126));
            let v = raw as i128;
            if self.next_u64() & 1 == 0 {
                v
            } else {
                -v
            }
        }
    }

    #[test]
    fn round_trips_through_digits() {
        let text = "123456789012345678901234567890";
        assert_eq!(parse(text, 10).to_string(), text);
        assert_eq!(
            parse("1FFFFFFFFFFFFFFFF", 16).magnitude_digits(16),
            "1FFFFFFFFFFFFFFFF"
        );
        assert_eq!(parse("-ZZ", 36).to_string_radix(36), "-ZZ");
        assert_eq!(BigInt::zero().to_string(), "0");
        assert_eq!(
            big(1 << 40).to_string_radix(2),
            format!("1{}", "0".repeat(40))
        );
    }

    #[test]
    fn i64_and_i128_limits() {
        assert_eq!(BigInt::from_i64(i64::MIN).to_i64(), Some(i64::MIN));
        assert_eq!(BigInt::from_i64(i64::MAX).to_i64(), Some(i64::MAX));
        assert_eq!(parse("9223372036854775808", 10).to_i64(), None);
        assert_eq!(big(i128::MIN).to_i128(), Some(i128::MIN));
        assert_eq!(big(i128::MIN).sub(&big(1)).to_i128(), None);
        assert_eq!(
            BigInt::pow(10, 3).mul(&BigInt::from_i64(-7)).to_i64(),
            Some(-7000)
        );
    }

    #[test]
    fn arithmetic_agrees_with_i128() {
        let mut values = Values(0x2545_F491_4F6C_DD1D);
        for round in 0..20_000 {
            let bits = 1 + (round % 62) as u32;
            let (a, b) = (values.next(bits), values.next(1 + (round % 5) as u32 * 15));
            let (x, y) = (big(a), big(b));
            assert_eq!(x.add(&y), big(a + b), "{a} + {b}");
            assert_eq!(x.sub(&y), big(a - b), "{a} - {b}");
            assert_eq!(x.mul(&y), big(a * b), "{a} * {b}");
            assert_eq!(x.cmp(&y), a.cmp(&b));
            if b != 0 {
                assert_eq!(
                    x.quo_rem(&y),
                    Some((big(a / b), big(a % b))),
                    "{a} quo/rem {b}"
                );
                // Floored division: the remainder takes the divisor's sign.
                let (q, r) = (a / b, a % b);
                let (q, r) = if r != 0 && (r < 0) != (b < 0) {
                    (q - 1, r + b)
                } else {
                    (q, r)
                };
                assert_eq!(x.div_mod(&y), Some((big(q), big(r))), "{a} // \\\\ {b}");
            }
            assert_eq!(x.bit_and(&y), big(a & b), "{a} bitAnd: {b}");
            assert_eq!(x.bit_or(&y), big(a | b), "{a} bitOr: {b}");
            assert_eq!(x.bit_xor(&y), big(a ^ b), "{a} bitXor: {b}");
            let shift = (values.next_u64() % 60) as i64;
            assert_eq!(x.shifted(-shift), big(a >> shift), "{a} bitShift: -{shift}");
            if bits + (shift as u32) < 126 {
                assert_eq!(x.shifted(shift), big(a << shift), "{a} bitShift: {shift}");
            }
        }
    }

    #[test]
    fn division_of_large_values_multiplies_back() {
        let mut values = Values(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2_000 {
            let limbs =
                |v: &mut Values, n: u64| (0..n).map(|_| v.next_u64() as u32).collect::<Vec<u32>>();
            let (na, nb) = (1 + values.next_u64() % 12, 1 + values.next_u64() % 6);
            let a = BigInt::from_parts(values.next_u64() & 1 == 0, limbs(&mut values, na));
            let b = BigInt::from_parts(values.next_u64() & 1 == 0, limbs(&mut values, nb));
            if b.is_zero() {
                continue;
            }
            let (q, r) = a.quo_rem(&b).unwrap();
            assert_eq!(q.mul(&b).add(&r), a);
            assert!(r.abs() < b.abs());
            assert!(r.is_zero() || r.is_negative() == a.is_negative());
            let (q, r) = a.div_mod(&b).unwrap();
            assert_eq!(q.mul(&b).add(&r), a);
            assert!(r.is_zero() || r.is_negative() == b.is_negative());
        }
        // Algorithm D's rare add-back step: a classic case.
        let a = parse("340282366920938463463374607431768211455", 10); // 2^128 - 1
        let b = parse("18446744073709551617", 10); // 2^64 + 1
        assert_eq!(
            a.quo_rem(&b),
            Some((parse("18446744073709551615", 10), BigInt::zero()))
        );
        assert_eq!(big(5).quo_rem(&BigInt::zero()), None);
    }

    #[test]
    fn factorial_and_powers() {
        let mut f = BigInt::from_u64(1);
        for i in 1..=100 {
            f = f.mul(&BigInt::from_u64(i));
        }
        let text = f.to_string();
        assert_eq!(text.len(), 158, "100 factorial printString size");
        assert!(text.starts_with("93326215443944152681699238856266700490715968264381621468592963895217599993229915608941463976156518286253697920827223758251185210916864"));
        assert_eq!(
            BigInt::pow(2, 100).to_string(),
            "1267650600228229401496703205376"
        );
        assert_eq!(big(-3).raised_to(3), big(-27));
        assert_eq!(BigInt::pow(2, 100).bit_length(), 101);
        assert_eq!(big(-1).shifted(-10), big(-1));
        assert_eq!(big(-5).shifted(-1), big(-3));
    }

    #[test]
    fn gcd() {
        assert_eq!(big(12).gcd(&big(-18)), big(6));
        assert_eq!(big(0).gcd(&big(-7)), big(7));
        assert_eq!(
            BigInt::pow(2, 80).gcd(&BigInt::pow(6, 20)),
            BigInt::pow(2, 20)
        );
    }

    #[test]
    fn large_integer_bytes() {
        let v = parse("1FFFFFFFFFFFFFFFF", 16);
        assert_eq!(
            v.magnitude_bytes(),
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        );
        assert_eq!(BigInt::from_magnitude_bytes(false, &v.magnitude_bytes()), v);
        assert_eq!(
            BigInt::from_magnitude_bytes(true, &[0, 0, 0]),
            BigInt::zero()
        );
    }

    #[test]
    fn conversion_to_float_is_correctly_rounded() {
        assert_eq!(BigInt::pow(2, 64).to_f64(), 18446744073709551616.0);
        // 2^53 + 1 is a tie between 2^53 and 2^53 + 2: rounds to even.
        assert_eq!(big((1 << 53) + 1).to_f64(), 9007199254740992.0);
        assert_eq!(big(-((1 << 53) + 3)).to_f64(), -9007199254740996.0);
        assert_eq!(BigInt::pow(10, 400).to_f64(), f64::INFINITY);
    }
}
