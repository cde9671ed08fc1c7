//! Arbitrary-precision integers, as much as literals need: building a value
//! from digits in any radix, scaling by a power, and printing it back.
//!
//! The magnitude is little-endian base 2^32 limbs with no trailing zero limb,
//! so two equal values are equal structurally (`derive(PartialEq)` is exact).

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
        let mut b = BigInt::from_u64(value.unsigned_abs());
        b.negative = value < 0;
        b
    }

    pub fn from_u64(value: u64) -> BigInt {
        let mut b = BigInt {
            negative: false,
            magnitude: vec![value as u32, (value >> 32) as u32],
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

    /// Divides the magnitude by `divisor` in place and answers the remainder.
    pub fn divmod_small(&mut self, divisor: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.magnitude.iter_mut().rev() {
            let v = (rem << 32) | *limb as u64;
            *limb = (v / divisor as u64) as u32;
            rem = v % divisor as u64;
        }
        self.trim();
        rem as u32
    }

    /// `self * other`.
    pub fn mul(&self, other: &BigInt) -> BigInt {
        let mut out = vec![0u32; self.magnitude.len() + other.magnitude.len()];
        for (i, &a) in self.magnitude.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &b) in other.magnitude.iter().enumerate() {
                let v = out[i + j] as u64 + a as u64 * b as u64 + carry;
                out[i + j] = v as u32;
                carry = v >> 32;
            }
            out[i + other.magnitude.len()] = carry as u32;
        }
        let mut r = BigInt {
            negative: self.negative != other.negative,
            magnitude: out,
        };
        r.trim();
        r
    }

    /// `base` raised to `exponent` (non-negative).
    pub fn pow(base: u32, exponent: u32) -> BigInt {
        let mut r = BigInt::from_u64(1);
        for _ in 0..exponent {
            r.mul_add_small(base, 0);
        }
        r
    }

    /// The value as an `i64` when it fits.
    pub fn to_i64(&self) -> Option<i64> {
        if self.magnitude.len() > 2 {
            return None;
        }
        let m = self.magnitude.first().copied().unwrap_or(0) as u64
            | (self.magnitude.get(1).copied().unwrap_or(0) as u64) << 32;
        if self.negative {
            if m <= i64::MAX as u64 + 1 {
                Some((m as i64).wrapping_neg())
            } else {
                None
            }
        } else {
            i64::try_from(m).ok()
        }
    }

    /// Digits of the magnitude in `radix` (2..=36), most significant first,
    /// upper-case letters, no sign.
    pub fn magnitude_digits(&self, radix: u32) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        let mut work = self.clone();
        let mut digits = Vec::new();
        while !work.is_zero() {
            let d = work.divmod_small(radix);
            digits.push(
                std::char::from_digit(d, radix)
                    .unwrap_or('?')
                    .to_ascii_uppercase(),
            );
        }
        digits.iter().rev().collect()
    }

    /// Approximate value as a float (used only for non-decimal radix floats).
    pub fn to_f64(&self) -> f64 {
        let m = self
            .magnitude
            .iter()
            .rev()
            .fold(0.0f64, |acc, &l| acc * 4294967296.0 + l as f64);
        if self.negative {
            -m
        } else {
            m
        }
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str(&self.magnitude_digits(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(digits: &str, radix: u32) -> BigInt {
        let mut b = BigInt::zero();
        for c in digits.chars() {
            b.mul_add_small(radix, c.to_digit(radix).unwrap());
        }
        b
    }

    #[test]
    fn round_trips_through_digits() {
        let text = "123456789012345678901234567890";
        assert_eq!(parse(text, 10).to_string(), text);
        assert_eq!(
            parse("1FFFFFFFFFFFFFFFF", 16).magnitude_digits(16),
            "1FFFFFFFFFFFFFFFF"
        );
    }

    #[test]
    fn i64_limits() {
        assert_eq!(BigInt::from_i64(i64::MIN).to_i64(), Some(i64::MIN));
        assert_eq!(BigInt::from_i64(i64::MAX).to_i64(), Some(i64::MAX));
        assert_eq!(parse("9223372036854775808", 10).to_i64(), None);
        assert_eq!(
            BigInt::pow(10, 3).mul(&BigInt::from_i64(-7)).to_i64(),
            Some(-7000)
        );
    }
}
