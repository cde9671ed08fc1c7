//! SmallInteger arithmetic, comparison and bit operations: each operation
//! once, as a plain function on the values, and Pharo's primitives 1-17
//! made of them. The interpreter's special sends (`+`, `<`, `\\`...) and
//! fused compare-and-jumps call the same functions, keeping a result only
//! when it is a SmallInteger ([`Immediate`](super::Immediate)); the
//! primitives fail instead, and the Smalltalk fallback handles the rest
//! (a LargeInteger, a Fraction, ZeroDivide).
//!
//! The operands are SmallInteger values. An operation answers the exact
//! integer, or None where it has none (a zero divisor, an inexact
//! quotient, a result beyond 64 bits).

use super::{failure, int, top, Prim, Primitive, BAD_ARGUMENT, GENERIC};
use crate::vm::interpreter::Ip;
use crate::vm::Vm;

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive::numbered(1, 1, |vm, _, _| arithmetic(vm, add, GENERIC)),
    Primitive::numbered(2, 1, |vm, _, _| arithmetic(vm, subtract, GENERIC)),
    Primitive::numbered(3, 1, |vm, _, _| comparison(vm, less)),
    Primitive::numbered(4, 1, |vm, _, _| comparison(vm, greater)),
    Primitive::numbered(5, 1, |vm, _, _| comparison(vm, less_or_equal)),
    Primitive::numbered(6, 1, |vm, _, _| comparison(vm, greater_or_equal)),
    Primitive::numbered(7, 1, |vm, _, _| comparison(vm, equal)),
    Primitive::numbered(8, 1, |vm, _, _| comparison(vm, not_equal)),
    Primitive::numbered(9, 1, |vm, _, _| arithmetic(vm, multiply, GENERIC)),
    Primitive::numbered(10, 1, |vm, _, _| arithmetic(vm, divide, BAD_ARGUMENT)),
    Primitive::numbered(11, 1, |vm, _, _| arithmetic(vm, modulo, BAD_ARGUMENT)),
    Primitive::numbered(12, 1, |vm, _, _| arithmetic(vm, floor_divide, BAD_ARGUMENT)),
    Primitive::numbered(13, 1, |vm, _, _| arithmetic(vm, quo, BAD_ARGUMENT)),
    Primitive::numbered(14, 1, |vm, _, _| {
        arithmetic(vm, |a, b| Some(bit_and(a, b)), GENERIC)
    }),
    Primitive::numbered(15, 1, |vm, _, _| {
        arithmetic(vm, |a, b| Some(bit_or(a, b)), GENERIC)
    }),
    Primitive::numbered(16, 1, |vm, _, _| {
        arithmetic(vm, |a, b| Some(bit_xor(a, b)), GENERIC)
    }),
    Primitive::numbered(17, 1, shift),
];

/// The receiver and the argument, when both are SmallIntegers.
fn operands(vm: &Vm) -> Option<(i64, i64)> {
    let [receiver, argument] = top(vm);
    Some((receiver.as_small_integer()?, argument.as_small_integer()?))
}

/// A primitive answering `op` of the receiver and the argument. It fails
/// with `bad argument` unless both are SmallIntegers, with `undefined`
/// when `op` has no result, and generically when the result is beyond
/// SmallInteger's range (the fallback makes a LargeInteger).
fn arithmetic(vm: &mut Vm, op: fn(i64, i64) -> Option<i64>, undefined: u8) -> Prim {
    match operands(vm) {
        Some((a, b)) => op(a, b).map_or(failure(undefined), int),
        None => failure(BAD_ARGUMENT),
    }
}

fn comparison(vm: &mut Vm, op: fn(i64, i64) -> bool) -> Prim {
    match operands(vm) {
        Some((a, b)) => Prim::Value(vm.universe.boolean(op(a, b))),
        None => failure(BAD_ARGUMENT),
    }
}

/// `bitShift:` (17) refuses shifts left past 63 bits (the fallback shifts
/// a LargeInteger).
fn shift(vm: &mut Vm, _: usize, _: Ip) -> Prim {
    match operands(vm) {
        Some((_, b)) if b > 63 => failure(BAD_ARGUMENT),
        _ => arithmetic(vm, bit_shift, GENERIC),
    }
}

#[inline(always)]
pub fn add(a: i64, b: i64) -> Option<i64> {
    a.checked_add(b)
}

#[inline(always)]
pub fn subtract(a: i64, b: i64) -> Option<i64> {
    a.checked_sub(b)
}

#[inline(always)]
pub fn multiply(a: i64, b: i64) -> Option<i64> {
    a.checked_mul(b)
}

/// `/`: only an exact quotient (otherwise Smalltalk makes a Fraction).
#[inline(always)]
pub fn divide(a: i64, b: i64) -> Option<i64> {
    (b != 0 && a % b == 0).then(|| a / b)
}

/// `\\`: the remainder of the floored division, which takes the
/// divisor's sign.
#[inline(always)]
pub fn modulo(a: i64, b: i64) -> Option<i64> {
    (b != 0).then(|| {
        let r = a % b;
        if r != 0 && (r < 0) != (b < 0) {
            r + b
        } else {
            r
        }
    })
}

/// `//`: the quotient rounded towards negative infinity.
#[inline(always)]
pub fn floor_divide(a: i64, b: i64) -> Option<i64> {
    (b != 0).then(|| {
        let q = a / b;
        if a % b != 0 && (a < 0) != (b < 0) {
            q - 1
        } else {
            q
        }
    })
}

/// `quo:`: the quotient rounded towards zero.
#[inline(always)]
pub fn quo(a: i64, b: i64) -> Option<i64> {
    (b != 0).then(|| a / b)
}

#[inline(always)]
pub fn bit_and(a: i64, b: i64) -> i64 {
    a & b
}

#[inline(always)]
pub fn bit_or(a: i64, b: i64) -> i64 {
    a | b
}

#[inline(always)]
pub fn bit_xor(a: i64, b: i64) -> i64 {
    a ^ b
}

/// `bitShift:`: `a` shifted left by `b` bits (right when `b` is negative);
/// None when the result does not fit 64 bits.
#[inline(always)]
pub fn bit_shift(a: i64, b: i64) -> Option<i64> {
    match b {
        0..=63 => a.checked_shl(b as u32).filter(|v| v >> b == a),
        -63..=-1 => Some(a >> -b),
        _ if b < 0 => Some(if a < 0 { -1 } else { 0 }),
        _ => (a == 0).then_some(0),
    }
}

#[inline(always)]
pub fn less(a: i64, b: i64) -> bool {
    a < b
}

#[inline(always)]
pub fn greater(a: i64, b: i64) -> bool {
    a > b
}

#[inline(always)]
pub fn less_or_equal(a: i64, b: i64) -> bool {
    a <= b
}

#[inline(always)]
pub fn greater_or_equal(a: i64, b: i64) -> bool {
    a >= b
}

#[inline(always)]
pub fn equal(a: i64, b: i64) -> bool {
    a == b
}

#[inline(always)]
pub fn not_equal(a: i64, b: i64) -> bool {
    a != b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Oop;

    const MAX: i64 = Oop::SMALL_INTEGER_MAX;
    const MIN: i64 = Oop::SMALL_INTEGER_MIN;

    /// The SmallInteger a fast path keeps, if any.
    fn small(result: Option<i64>) -> Option<i64> {
        result
            .and_then(Oop::small_integer)
            .map(Oop::small_integer_value)
    }

    #[test]
    fn sums_differences_and_products_overflow_at_the_range_ends() {
        assert_eq!(small(add(MAX - 1, 1)), Some(MAX));
        assert_eq!(small(add(MAX, 1)), None);
        assert_eq!(add(MAX, 1), Some(MAX + 1));
        assert_eq!(small(add(MIN, -1)), None);
        assert_eq!(small(subtract(MIN + 1, 1)), Some(MIN));
        assert_eq!(small(subtract(MIN, 1)), None);
        assert_eq!(small(subtract(MAX, -1)), None);
        assert_eq!(small(multiply(1 << 30, 1 << 29)), Some(1 << 59));
        assert_eq!(small(multiply(1 << 30, 1 << 30)), None);
        assert_eq!(small(multiply(MIN, -1)), None);
        assert_eq!(multiply(MAX, MAX), None);
    }

    #[test]
    fn division_is_exact_or_none() {
        assert_eq!(divide(12, 4), Some(3));
        assert_eq!(divide(-12, 4), Some(-3));
        assert_eq!(divide(7, 2), None);
        assert_eq!(divide(7, 0), None);
        assert_eq!(divide(0, 0), None);
        // The one quotient of SmallIntegers beyond their range.
        assert_eq!(divide(MIN, -1), Some(MAX + 1));
        assert_eq!(small(divide(MIN, -1)), None);
    }

    #[test]
    fn floored_division_and_modulo_follow_the_divisor_sign() {
        for (a, b, quotient, remainder) in [
            (7, 2, 3, 1),
            (-7, 2, -4, 1),
            (7, -2, -4, -1),
            (-7, -2, 3, -1),
            (6, -3, -2, 0),
            (-6, 3, -2, 0),
            (0, 5, 0, 0),
        ] {
            assert_eq!(floor_divide(a, b), Some(quotient), "{a} // {b}");
            assert_eq!(modulo(a, b), Some(remainder), "{a} \\\\ {b}");
            assert_eq!(quotient * b + remainder, a);
        }
        assert_eq!(floor_divide(1, 0), None);
        assert_eq!(modulo(1, 0), None);
        assert_eq!(small(floor_divide(MIN, -1)), None);
        assert_eq!(modulo(MIN, -1), Some(0));
    }

    #[test]
    fn quo_truncates_towards_zero() {
        assert_eq!(quo(7, 2), Some(3));
        assert_eq!(quo(-7, 2), Some(-3));
        assert_eq!(quo(7, -2), Some(-3));
        assert_eq!(quo(7, 0), None);
    }

    #[test]
    fn bit_operations() {
        assert_eq!(bit_and(0b1100, 0b1010), 0b1000);
        assert_eq!(bit_or(0b1100, 0b1010), 0b1110);
        assert_eq!(bit_xor(0b1100, 0b1010), 0b0110);
        assert_eq!(bit_and(-1, MIN), MIN);
        assert_eq!(bit_or(MIN, MAX), -1);
    }

    #[test]
    fn shifts_left_and_right() {
        assert_eq!(bit_shift(1, 4), Some(16));
        assert_eq!(small(bit_shift(1, 59)), Some(1 << 59));
        // Fits 64 bits but not a SmallInteger.
        assert_eq!(bit_shift(1, 60), Some(1 << 60));
        assert_eq!(small(bit_shift(1, 60)), None);
        assert_eq!(bit_shift(1, 63), None);
        assert_eq!(bit_shift(-1, 63), Some(i64::MIN));
        assert_eq!(bit_shift(3, 62), None);
        assert_eq!(bit_shift(5, 64), None);
        assert_eq!(bit_shift(0, 1000), Some(0));
        assert_eq!(bit_shift(16, -4), Some(1));
        assert_eq!(bit_shift(-16, -4), Some(-1));
        assert_eq!(bit_shift(-17, -4), Some(-2));
        assert_eq!(bit_shift(MAX, -63), Some(0));
        assert_eq!(bit_shift(MAX, -64), Some(0));
        assert_eq!(bit_shift(MIN, -1000), Some(-1));
    }

    #[test]
    fn comparisons() {
        assert!(less(MIN, MAX) && !less(MAX, MAX));
        assert!(greater(MAX, MIN) && !greater(MIN, MIN));
        assert!(less_or_equal(MAX, MAX) && !less_or_equal(1, 0));
        assert!(greater_or_equal(MIN, MIN) && !greater_or_equal(0, 1));
        assert!(equal(-3, -3) && !equal(3, -3));
        assert!(not_equal(3, -3) && !not_equal(MIN, MIN));
    }
}
