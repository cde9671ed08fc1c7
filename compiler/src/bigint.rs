//! Arbitrary-precision integers with Pharo's semantics: the one big-integer
//! implementation of the project, used by the literal decoder and (through
//! LargePositiveInteger / LargeNegativeInteger) by the runtime.
//!
//! The magnitude is little-endian base 2^32 limbs with no trailing zero limb,
//! and zero is never negative, so two equal values are equal structurally
//! (`derive(PartialEq)` is exact). Division comes in Pharo's two flavours:
//! truncated (`quo:`/`rem:`) and floored (`//`/`\\`); bitwise operations
//! treat negative numbers as infinite two's complement, as Pharo does.

use std::cmp::Ordering;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct BigInt {
    pub negative: bool,
    /// Little-endian 32-bit limbs, no trailing zeros; empty for zero.
    pub magnitude: Vec<u32>,
}

impl BigInt {
    pub fn zero() -> BigInt {
        BigInt::default()
    }

    pub fn from_i64(value: i64) -> BigInt {
        BigInt::from_i128(value as i128)
    }

    pub fn from_u64(value: u64) -> BigInt {
        BigInt::from_i128(value as i128)
    }

    pub fn from_i128(value: i128) -> BigInt {
        let m = value.unsigned_abs();
        BigInt::from_parts(
            value < 0,
            vec![
                m as u32,
                (m >> 32) as u32,
                (m >> 64) as u32,
                (m >> 96) as u32,
            ],
        )
    }

    /// A value from a sign and any magnitude (trailing zeros allowed).
    pub fn from_parts(negative: bool, magnitude: Vec<u32>) -> BigInt {
        let mut b = BigInt {
            negative,
            magnitude,
        };
        b.trim();
        b
    }

    pub fn is_zero(&self) -> bool {
        self.magnitude.is_empty()
    }

    fn trim(&mut self) {
        while self.magnitude.last() == Some(&0) {
            self.magnitude.pop();
        }
        if self.magnitude.is_empty() {
            self.negative = false;
        }
    }

    /// `self * factor + addend`, in place, on the magnitude.
    pub fn mul_add_small(&mut self, factor: u32, addend: u32) {
        let mut carry = addend as u64;
        for limb in &mut self.magnitude {
            let v = *limb as u64 * factor as u64 + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.magnitude.push(carry as u32);
        }
        self.trim();
    }

    /// Divides the magnitude by `divisor` (non-zero) in place and answers
    /// the remainder.
    pub fn divmod_small(&mut self, divisor: u32) -> u32 {
        let rem = divmod_small_in_place(&mut self.magnitude, divisor);
        self.trim();
        rem
    }

    pub fn negated(&self) -> BigInt {
        BigInt::from_parts(!self.negative, self.magnitude.clone())
    }

    pub fn abs(&self) -> BigInt {
        BigInt::from_parts(false, self.magnitude.clone())
    }

    pub fn add(&self, other: &BigInt) -> BigInt {
        if self.negative == other.negative {
            return BigInt::from_parts(
                self.negative,
                add_magnitudes(&self.magnitude, &other.magnitude),
            );
        }
        match compare_magnitudes(&self.magnitude, &other.magnitude) {
            Ordering::Equal => BigInt::zero(),
            Ordering::Greater => BigInt::from_parts(
                self.negative,
                sub_magnitudes(&self.magnitude, &other.magnitude),
            ),
            Ordering::Less => BigInt::from_parts(
                other.negative,
                sub_magnitudes(&other.magnitude, &self.magnitude),
            ),
        }
    }

    pub fn sub(&self, other: &BigInt) -> BigInt {
        self.add(&other.negated())
    }

    pub fn mul(&self, other: &BigInt) -> BigInt {
        BigInt::from_parts(
            self.negative != other.negative,
            mul_magnitudes(&self.magnitude, &other.magnitude),
        )
    }

    /// `base` raised to `exponent`.
    pub fn pow(base: u32, exponent: u32) -> BigInt {
        BigInt::from_u64(base as u64).raised_to(exponent)
    }

    /// `self` raised to `exponent`, by squaring.
    pub fn raised_to(&self, mut exponent: u32) -> BigInt {
        let mut result = BigInt::from_u64(1);
        let mut square = self.clone();
        while exponent > 0 {
            if exponent & 1 == 1 {
                result = result.mul(&square);
            }
            exponent >>= 1;
            if exponent > 0 {
                square = square.mul(&square);
            }
        }
        result
    }

    /// Truncated division (`quo:` and `rem:`): the quotient rounds toward
    /// zero, the remainder has the sign of `self`. `None` for a zero divisor.
    pub fn quo_rem(&self, divisor: &BigInt) -> Option<(BigInt, BigInt)> {
        if divisor.is_zero() {
            return None;
        }
        let (q, r) = divmod_magnitudes(&self.magnitude, &divisor.magnitude);
        Some((
            BigInt::from_parts(self.negative != divisor.negative, q),
            BigInt::from_parts(self.negative, r),
        ))
    }

    /// Floored division (`//` and `\\`): the quotient rounds toward minus
    /// infinity, the remainder has the sign of the divisor.
    pub fn div_mod(&self, divisor: &BigInt) -> Option<(BigInt, BigInt)> {
        let (q, r) = self.quo_rem(divisor)?;
        if !r.is_zero() && r.negative != divisor.negative {
            Some((q.sub(&BigInt::from_u64(1)), r.add(divisor)))
        } else {
            Some((q, r))
        }
    }

    /// Greatest common divisor, non-negative (`gcd:`).
    pub fn gcd(&self, other: &BigInt) -> BigInt {
        let mut a = self.abs();
        let mut b = other.abs();
        while !b.is_zero() {
            let (_, r) = a.quo_rem(&b).expect("b is not zero");
            a = b;
            b = r;
        }
        a
    }

    /// Number of bits of the magnitude (`highBit` of the absolute value).
    pub fn bit_length(&self) -> u64 {
        match self.magnitude.last() {
            None => 0,
            Some(top) => (self.magnitude.len() as u64 - 1) * 32 + (32 - top.leading_zeros() as u64),
        }
    }

    /// `bitShift:`: left for positive `shift`, right (flooring, as an
    /// arithmetic shift of the two's complement) for negative.
    pub fn shifted(&self, shift: i64) -> BigInt {
        if shift >= 0 {
            return BigInt::from_parts(self.negative, shl_magnitude(&self.magnitude, shift as u64));
        }
        let n = shift.unsigned_abs();
        let shifted = shr_magnitude(&self.magnitude, n);
        if self.negative && lost_bits(&self.magnitude, n) {
            // floor(-m / 2^n) = -(m >> n) - 1 when bits were shifted out.
            BigInt::from_parts(true, add_magnitudes(&shifted, &[1]))
        } else {
            BigInt::from_parts(self.negative, shifted)
        }
    }

    pub fn bit_and(&self, other: &BigInt) -> BigInt {
        bitwise(self, other, |a, b| a & b)
    }

    pub fn bit_or(&self, other: &BigInt) -> BigInt {
        bitwise(self, other, |a, b| a | b)
    }

    pub fn bit_xor(&self, other: &BigInt) -> BigInt {
        bitwise(self, other, |a, b| a ^ b)
    }

    /// The value as an `i64` when it fits.
    pub fn to_i64(&self) -> Option<i64> {
        self.to_i128().and_then(|v| i64::try_from(v).ok())
    }

    pub fn to_i128(&self) -> Option<i128> {
        if self.magnitude.len() > 4 {
            return None;
        }
        let m = self
            .magnitude
            .iter()
            .rev()
            .fold(0u128, |acc, &l| (acc << 32) | l as u128);
        if self.negative {
            if m <= i128::MAX as u128 + 1 {
                Some((m as i128).wrapping_neg())
            } else {
                None
            }
        } else {
            i128::try_from(m).ok()
        }
    }

    /// Digits of the magnitude in `radix` (2..=36), most significant first,
    /// upper-case letters, no sign (`printString: radix` without the sign).
    pub fn magnitude_digits(&self, radix: u32) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        // Peel off as many digits per division as fit in a u32.
        let mut chunk = radix;
        let mut digits_per_chunk = 1;
        while let Some(next) = chunk.checked_mul(radix) {
            chunk = next;
            digits_per_chunk += 1;
        }
        let mut work = self.magnitude.clone();
        let mut out = Vec::new();
        while !work.is_empty() {
            let mut rem = divmod_small_in_place(&mut work, chunk);
            while work.last() == Some(&0) {
                work.pop();
            }
            for _ in 0..digits_per_chunk {
                out.push(
                    std::char::from_digit(rem % radix, radix)
                        .unwrap_or('?')
                        .to_ascii_uppercase(),
                );
                rem /= radix;
                if work.is_empty() && rem == 0 {
                    break;
                }
            }
        }
        while out.len() > 1 && out.last() == Some(&'0') {
            out.pop();
        }
        out.iter().rev().collect()
    }

    /// The value in `radix`, with a leading `-` when negative.
    pub fn to_string_radix(&self, radix: u32) -> String {
        let digits = self.magnitude_digits(radix);
        if self.negative {
            format!("-{digits}")
        } else {
            digits
        }
    }

    /// The magnitude as little-endian bytes without trailing zero bytes:
    /// the contents of a Pharo LargePositiveInteger/LargeNegativeInteger.
    pub fn magnitude_bytes(&self) -> Vec<u8> {
        let mut bytes: Vec<u8> = self
            .magnitude
            .iter()
            .flat_map(|l| l.to_le_bytes())
            .collect();
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        bytes
    }

    /// A value from a LargeInteger's little-endian magnitude bytes.
    pub fn from_magnitude_bytes(negative: bool, bytes: &[u8]) -> BigInt {
        let limbs = bytes
            .chunks(4)
            .map(|c| c.iter().rev().fold(0u32, |acc, &b| (acc << 8) | b as u32))
            .collect();
        BigInt::from_parts(negative, limbs)
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
        // Rust's decimal parser rounds correctly; the value is exact text.
        self.to_string().parse().unwrap_or(f64::NAN)
    }
}

impl PartialOrd for BigInt {
    fn partial_cmp(&self, other: &BigInt) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigInt {
    fn cmp(&self, other: &BigInt) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => compare_magnitudes(&self.magnitude, &other.magnitude),
            (true, true) => compare_magnitudes(&other.magnitude, &self.magnitude),
        }
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_radix(10))
    }
}

fn compare_magnitudes(a: &[u32], b: &[u32]) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

fn add_magnitudes(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(long.len() + 1);
    let mut carry = 0u64;
    for (i, &x) in long.iter().enumerate() {
        let s = x as u64 + short.get(i).copied().unwrap_or(0) as u64 + carry;
        out.push(s as u32);
        carry = s >> 32;
    }
    if carry != 0 {
        out.push(carry as u32);
    }
    out
}

/// `a - b` for `a >= b`.
fn sub_magnitudes(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i64;
    for (i, &x) in a.iter().enumerate() {
        let d = x as i64 - b.get(i).copied().unwrap_or(0) as i64 - borrow;
        out.push(d as u32);
        borrow = (d < 0) as i64;
    }
    out
}

fn mul_magnitudes(a: &[u32], b: &[u32]) -> Vec<u32> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0u32; a.len() + b.len()];
    for (i, &x) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (j, &y) in b.iter().enumerate() {
            let v = out[i + j] as u64 + x as u64 * y as u64 + carry;
            out[i + j] = v as u32;
            carry = v >> 32;
        }
        out[i + b.len()] = carry as u32;
    }
    out
}

fn divmod_small_in_place(limbs: &mut [u32], divisor: u32) -> u32 {
    let mut rem = 0u64;
    for limb in limbs.iter_mut().rev() {
        let v = (rem << 32) | *limb as u64;
        *limb = (v / divisor as u64) as u32;
        rem = v % divisor as u64;
    }
    rem as u32
}

fn shl_magnitude(a: &[u32], shift: u64) -> Vec<u32> {
    if a.is_empty() {
        return Vec::new();
    }
    let (limbs, bits) = ((shift / 32) as usize, (shift % 32) as u32);
    let mut out = vec![0u32; limbs];
    out.reserve(a.len() + 1);
    let mut carry = 0u32;
    for &x in a {
        out.push(if bits == 0 { x } else { (x << bits) | carry });
        carry = if bits == 0 { 0 } else { x >> (32 - bits) };
    }
    out.push(carry);
    out
}

fn shr_magnitude(a: &[u32], shift: u64) -> Vec<u32> {
    let limbs = (shift / 32) as usize;
    if limbs >= a.len() {
        return Vec::new();
    }
    let bits = (shift % 32) as u32;
    let src = &a[limbs..];
    (0..src.len())
        .map(|i| {
            let low = src[i] >> bits;
            let high = if bits == 0 {
                0
            } else {
                src.get(i + 1).map_or(0, |h| h << (32 - bits))
            };
            low | high
        })
        .collect()
}

/// Whether shifting `a` right by `shift` bits drops any one bit.
fn lost_bits(a: &[u32], shift: u64) -> bool {
    let limbs = ((shift / 32) as usize).min(a.len());
    let bits = (shift % 32) as u32;
    a[..limbs].iter().any(|&l| l != 0)
        || (bits > 0 && limbs < a.len() && a[limbs] & ((1u32 << bits) - 1) != 0)
}

/// Knuth's algorithm D (TAOCP 4.3.1): quotient and remainder of magnitudes.
fn divmod_magnitudes(a: &[u32], b: &[u32]) -> (Vec<u32>, Vec<u32>) {
    if compare_magnitudes(a, b) == Ordering::Less {
        return (Vec::new(), a.to_vec());
    }
    if b.len() == 1 {
        let mut q = a.to_vec();
        let r = divmod_small_in_place(&mut q, b[0]);
        return (q, vec![r]);
    }
    // Normalize so the divisor's top limb has its high bit set.
    let s = b[b.len() - 1].leading_zeros() as u64;
    let v = shl_magnitude(b, s);
    let v = &v[..b.len()];
    let mut u = shl_magnitude(a, s);
    u.truncate(a.len() + 1);
    let n = v.len();
    let m = u.len() - n - 1;
    let mut q = vec![0u32; m + 1];
    const BASE: u64 = 1 << 32;
    for j in (0..=m).rev() {
        let numerator = ((u[j + n] as u64) << 32) | u[j + n - 1] as u64;
        let mut qhat = numerator / v[n - 1] as u64;
        let mut rhat = numerator % v[n - 1] as u64;
        while qhat >= BASE || qhat * v[n - 2] as u64 > ((rhat << 32) | u[j + n - 2] as u64) {
            qhat -= 1;
            rhat += v[n - 1] as u64;
            if rhat >= BASE {
                break;
            }
        }
        // u[j..=j+n] -= qhat * v
        let mut borrow = 0i64;
        let mut carry = 0u64;
        for i in 0..n {
            let p = qhat * v[i] as u64 + carry;
            carry = p >> 32;
            let t = u[i + j] as i64 - borrow - (p & 0xFFFF_FFFF) as i64;
            u[i + j] = t as u32;
            borrow = (t < 0) as i64;
        }
        let t = u[j + n] as i64 - borrow - carry as i64;
        u[j + n] = t as u32;
        q[j] = qhat as u32;
        if t < 0 {
            // qhat was one too large: add the divisor back.
            q[j] = q[j].wrapping_sub(1);
            let mut carry = 0u64;
            for i in 0..n {
                let s = u[i + j] as u64 + v[i] as u64 + carry;
                u[i + j] = s as u32;
                carry = s >> 32;
            }
            u[j + n] = u[j + n].wrapping_add(carry as u32);
        }
    }
    u.truncate(n);
    let r = shr_magnitude(&u, s);
    (q, r)
}

/// A bitwise operation on two's complement representations.
fn bitwise(a: &BigInt, b: &BigInt, op: fn(u32, u32) -> u32) -> BigInt {
    let len = a.magnitude.len().max(b.magnitude.len()) + 1;
    let (x, y) = (twos_complement(a, len), twos_complement(b, len));
    let limbs: Vec<u32> = x.iter().zip(&y).map(|(&p, &q)| op(p, q)).collect();
    let negative = limbs[len - 1] & 0x8000_0000 != 0;
    if negative {
        // -m = !(m - 1), so m = !r + 1.
        let inverted: Vec<u32> = limbs.iter().map(|l| !l).collect();
        BigInt::from_parts(true, add_magnitudes(&inverted, &[1]))
    } else {
        BigInt::from_parts(false, limbs)
    }
}

fn twos_complement(v: &BigInt, len: usize) -> Vec<u32> {
    let mut limbs = v.magnitude.clone();
    limbs.resize(len, 0);
    if v.negative {
        let minus_one = sub_magnitudes(&limbs, &[1]);
        minus_one.into_iter().map(|l| !l).collect()
    } else {
        limbs
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
            assert!(compare_magnitudes(&r.magnitude, &b.magnitude) == Ordering::Less);
            assert!(r.is_zero() || r.negative == a.negative);
            let (q, r) = a.div_mod(&b).unwrap();
            assert_eq!(q.mul(&b).add(&r), a);
            assert!(r.is_zero() || r.negative == b.negative);
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
