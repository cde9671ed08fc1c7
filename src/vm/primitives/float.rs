//! Float arithmetic and comparison: each operation once, as a plain
//! function on the values, and Pharo's Float primitives made of them
//! (41-59, the same again as SmallFloat64's 541-559, 40, `asFloat` of
//! an integer, 38/39, the IEEE bits as two 32-bit words, and the
//! conversions to and from the 32-bit IEEE encoding). The interpreter's special sends and fused
//! compare-and-jumps call the same functions and keep a result only when
//! it is a SmallFloat64 ([`Immediate`](super::Immediate)); the primitives
//! box the others.

use super::{failure, int, top, Prim, Primitive, BAD_ARGUMENT, BAD_INDEX, BAD_RECEIVER};
use crate::memory::Space;
use crate::vm::Vm;

pub(super) const PRIMITIVES: &[Primitive] = &[
    // asFloat of an integer, small or large.
    Primitive::numbered(40, 0, |vm, _, _| {
        let [receiver] = top(vm);
        match vm.integer_value(receiver) {
            Some(i) => Prim::Value(vm.float(Space::Young, i.to_f64())),
            None => failure(BAD_RECEIVER),
        }
    }),
    // Float>>basicAt: index (38): the IEEE 754 bits as Pharo shows them,
    // word 1 the high 32 bits, word 2 the low ones.
    Primitive::numbered(38, 1, |vm, _, _| {
        let [receiver, index] = top(vm);
        let Some(bits) = vm.universe.float_value(receiver).map(f64::to_bits) else {
            return failure(BAD_RECEIVER);
        };
        match index.as_small_integer() {
            Some(1) => int((bits >> 32) as i64),
            Some(2) => int((bits & 0xFFFF_FFFF) as i64),
            Some(_) => failure(BAD_INDEX),
            None => failure(BAD_ARGUMENT),
        }
    }),
    // Float>>basicAt: index put: aWord (39): changes a BoxedFloat64's bits
    // (a SmallFloat64 is immediate: it fails, as a read-only one does).
    Primitive::numbered(39, 2, |vm, _, _| {
        let [receiver, index, value] = top(vm);
        if crate::memory::class_index_of(receiver) != crate::vm::classes::BOXED_FLOAT
            || crate::memory::is_read_only(receiver)
        {
            return failure(BAD_RECEIVER);
        }
        let Some(word) = value.as_small_integer().and_then(|w| u32::try_from(w).ok()) else {
            return failure(BAD_ARGUMENT);
        };
        let Some(bits) = crate::memory::word(receiver, 0) else {
            return failure(BAD_RECEIVER);
        };
        let bits = match index.as_small_integer() {
            Some(1) => (bits & 0xFFFF_FFFF) | (word as u64) << 32,
            Some(2) => (bits & !0xFFFF_FFFF) | word as u64,
            Some(_) => return failure(BAD_INDEX),
            None => return failure(BAD_ARGUMENT),
        };
        // SAFETY: a BoxedFloat64 is one 64-bit word after its header.
        unsafe { *(receiver.bits() as *mut u64).add(1) = bits };
        Prim::Value(value)
    }),
    // Float class>>fromIEEE32Bit: anInteger — the Float a 32-bit IEEE 754
    // encoding stands for (Float32Array's elements).
    Primitive::named("primitiveFloatFromIEEE32Bit", 1, |vm, _, _| {
        let [_, word] = top(vm);
        match word.as_small_integer().and_then(|w| u32::try_from(w).ok()) {
            Some(w) => Prim::Value(vm.float(Space::Young, f32::from_bits(w) as f64)),
            None => failure(BAD_ARGUMENT),
        }
    }),
    // Float>>asIEEE32BitWord — the nearest 32-bit float's encoding.
    Primitive::named(
        "primitiveFloatAsIEEE32BitWord",
        0,
        |vm, _, _| match receiver(vm) {
            Some(f) => int((f as f32).to_bits() as i64),
            None => failure(BAD_RECEIVER),
        },
    ),
    Primitive::named("primitiveFloatPrintString", 0, |vm, _, _| {
        let [receiver] = top(vm);
        match vm.universe.float_value(receiver) {
            Some(f) => {
                let text = zag_compiler::number::pharo_float_print_string(f);
                Prim::Value(vm.new_string(Space::Young, &text))
            }
            None => failure(BAD_RECEIVER),
        }
    }),
];

/// Float's primitive `n` and SmallFloat64's `n + 500`: the same function.
macro_rules! float_and_small_float {
    ($($number:literal, $args:literal => $function:expr;)*) => {
        &[$(
            Primitive::numbered($number, $args, $function),
            Primitive::numbered($number + 500, $args, $function),
        )*]
    };
}

pub(super) const BOTH_CLASSES: &[Primitive] = float_and_small_float! {
    41, 1 => |vm, _, _| arithmetic(vm, |a, b| Some(add(a, b)));
    42, 1 => |vm, _, _| arithmetic(vm, |a, b| Some(subtract(a, b)));
    43, 1 => |vm, _, _| comparison(vm, less);
    44, 1 => |vm, _, _| comparison(vm, greater);
    45, 1 => |vm, _, _| comparison(vm, less_or_equal);
    46, 1 => |vm, _, _| comparison(vm, greater_or_equal);
    47, 1 => |vm, _, _| comparison(vm, equal);
    48, 1 => |vm, _, _| comparison(vm, not_equal);
    49, 1 => |vm, _, _| arithmetic(vm, |a, b| Some(multiply(a, b)));
    50, 1 => |vm, _, _| arithmetic(vm, divide);
    // truncated: exact, any size; fails on NaN and infinities.
    51, 0 => |vm, _, _| match receiver(vm).map(zag_compiler::bigint::BigInt::from_f64_truncated) {
        Some(Some(i)) => Prim::Value(vm.integer(Space::Young, &i)),
        _ => failure(BAD_RECEIVER),
    };
    52, 0 => |vm, _, _| unary(vm, f64::fract);
    // exponent
    53, 0 => |vm, _, _| match receiver(vm) {
        Some(f) if f.is_finite() => int(exponent(f)),
        _ => failure(BAD_RECEIVER),
    };
    // timesTwoPower:
    54, 1 => |vm, _, _| {
        let [float, power] = top(vm);
        match (vm.universe.float_value(float), power.as_small_integer()) {
            (Some(f), Some(n)) => Prim::Value(vm.float(Space::Young, times_two_power(f, n))),
            (None, _) => failure(BAD_RECEIVER),
            (_, None) => failure(BAD_ARGUMENT),
        }
    };
    55, 0 => |vm, _, _| unary(vm, f64::sqrt);
    56, 0 => |vm, _, _| unary(vm, f64::sin);
    57, 0 => |vm, _, _| unary(vm, f64::atan);
    58, 0 => |vm, _, _| unary(vm, f64::ln);
    59, 0 => |vm, _, _| unary(vm, f64::exp);
};

/// The binary exponent of a finite float (`exponent`): of its highest
/// bit, so 1.0 is 0 and 0.5 is -1; below -1022 for subnormals; 0 for
/// zero (as Pharo answers).
fn exponent(f: f64) -> i64 {
    let bits = f.to_bits();
    let biased = ((bits >> 52) & 0x7FF) as i64;
    let mantissa = bits & ((1 << 52) - 1);
    match (biased, mantissa) {
        (0, 0) => 0,
        (0, m) => 63 - m.leading_zeros() as i64 - 1074,
        (e, _) => e - 1023,
    }
}

/// `f` times two to the `n` (`timesTwoPower:`, C's `scalbn`), rounded
/// once: large powers are applied in steps that stay in range, and a
/// result in the subnormal range is reached by one last multiplication.
fn times_two_power(f: f64, n: i64) -> f64 {
    let two_to = |e: i64| f64::from_bits(((0x3FF + e) as u64) << 52);
    let (mut y, mut n) = (f, n.clamp(-4000, 4000));
    if n > 1023 {
        for _ in 0..2 {
            if n > 1023 {
                y *= two_to(1023);
                n -= 1023;
            }
        }
        n = n.min(1023);
    } else if n < -1022 {
        // Down by 2^-969 at a time, so the last step rounds (once) only
        // when the result is subnormal.
        for _ in 0..2 {
            if n < -1022 {
                y *= two_to(-1022) * two_to(53);
                n += 1022 - 53;
            }
        }
        n = n.max(-1022);
    }
    y * two_to(n)
}

/// The receiver's value, when it is a Float.
fn receiver(vm: &Vm) -> Option<f64> {
    let [receiver] = top(vm);
    vm.universe.float_value(receiver)
}

/// The receiver (a Float) and the argument (a Float or, as in Pharo, a
/// SmallInteger), or the failure.
fn operands(vm: &Vm) -> Result<(f64, f64), Prim> {
    let [receiver, argument] = top(vm);
    let a = vm
        .universe
        .float_value(receiver)
        .ok_or_else(|| failure(BAD_RECEIVER))?;
    let b = match (
        vm.universe.float_value(argument),
        argument.as_small_integer(),
    ) {
        (Some(f), _) => f,
        (None, Some(i)) => i as f64,
        _ => return Err(failure(BAD_ARGUMENT)),
    };
    Ok((a, b))
}

/// A primitive answering `op` of the receiver and the argument (boxed if
/// it is not a SmallFloat64); fails with `bad argument` when `op` has no
/// result.
fn arithmetic(vm: &mut Vm, op: fn(f64, f64) -> Option<f64>) -> Prim {
    match operands(vm) {
        Ok((a, b)) => match op(a, b) {
            Some(f) => Prim::Value(vm.float(Space::Young, f)),
            None => failure(BAD_ARGUMENT),
        },
        Err(failed) => failed,
    }
}

fn comparison(vm: &mut Vm, op: fn(f64, f64) -> bool) -> Prim {
    match operands(vm) {
        Ok((a, b)) => Prim::Value(vm.universe.boolean(op(a, b))),
        Err(failed) => failed,
    }
}

/// A function of the receiver, a Float.
fn unary(vm: &mut Vm, op: fn(f64) -> f64) -> Prim {
    match receiver(vm) {
        Some(f) => Prim::Value(vm.float(Space::Young, op(f))),
        None => failure(BAD_RECEIVER),
    }
}

#[inline(always)]
pub fn add(a: f64, b: f64) -> f64 {
    a + b
}

#[inline(always)]
pub fn subtract(a: f64, b: f64) -> f64 {
    a - b
}

#[inline(always)]
pub fn multiply(a: f64, b: f64) -> f64 {
    a * b
}

/// `/`: None for a zero divisor (Smalltalk signals ZeroDivide).
#[inline(always)]
pub fn divide(a: f64, b: f64) -> Option<f64> {
    (b != 0.0).then(|| a / b)
}

#[inline(always)]
pub fn less(a: f64, b: f64) -> bool {
    a < b
}

#[inline(always)]
pub fn greater(a: f64, b: f64) -> bool {
    a > b
}

#[inline(always)]
pub fn less_or_equal(a: f64, b: f64) -> bool {
    a <= b
}

#[inline(always)]
pub fn greater_or_equal(a: f64, b: f64) -> bool {
    a >= b
}

#[inline(always)]
pub fn equal(a: f64, b: f64) -> bool {
    a == b
}

#[inline(always)]
pub fn not_equal(a: f64, b: f64) -> bool {
    a != b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{classes, Oop};
    use crate::vm::primitives::{numbered, Immediate};

    #[test]
    fn results_are_immediate_when_they_fit_a_small_float() {
        let vm = Vm::new();
        let u = &vm.universe;
        assert_eq!(add(1.5, 2.25).immediate(u), Oop::small_float(3.75));
        assert_eq!(subtract(0.5, 0.5).immediate(u), Oop::small_float(0.0));
        assert_eq!(multiply(1e30, 1e30).immediate(u), None);
        assert_eq!(multiply(1e-30, 1e-30).immediate(u), None);
        assert_eq!(add(f64::MAX, f64::MAX).immediate(u), None);
        assert_eq!(divide(1.0, 4.0).immediate(u), Oop::small_float(0.25));
        assert_eq!(divide(1.0, 0.0), None);
        assert_eq!(divide(1.0, -0.0), None);
        assert!(divide(0.0, f64::NAN).is_some_and(f64::is_nan));
    }

    #[test]
    fn comparisons_follow_ieee() {
        assert!(less(1.0, 2.0) && !less(2.0, 2.0));
        assert!(greater(2.0, 1.0) && !greater(f64::NAN, 1.0));
        assert!(less_or_equal(2.0, 2.0) && !less_or_equal(f64::NAN, f64::NAN));
        assert!(greater_or_equal(2.0, 2.0) && !greater_or_equal(1.0, 2.0));
        assert!(equal(0.0, -0.0) && !equal(f64::NAN, f64::NAN));
        assert!(not_equal(f64::NAN, f64::NAN) && !not_equal(1.0, 1.0));
    }

    /// The primitive boxes what does not fit a SmallFloat64, and takes a
    /// SmallInteger argument.
    #[test]
    fn the_primitives_box_large_results() {
        let mut vm = Vm::new();
        let multiply = numbered(549, 1).expect("SmallFloat64>>*").function;
        let big = Oop::small_float(1e30).expect("immediate");
        vm.process.stack.push(big);
        vm.process.stack.push(big);
        let Prim::Value(product) = multiply(&mut vm, 1, std::ptr::null()) else {
            panic!("the primitive failed")
        };
        assert_eq!(crate::memory::class_index_of(product), classes::BOXED_FLOAT);
        assert_eq!(vm.universe.float_value(product), Some(1e30 * 1e30));
        vm.process.stack.truncate(0);
        vm.process.stack.push(product);
        vm.process.stack.push(Oop::small_integer(4).expect("small"));
        let Prim::Value(quotient) =
            (numbered(50, 1).expect("Float>>/").function)(&mut vm, 1, std::ptr::null())
        else {
            panic!("the primitive failed")
        };
        assert_eq!(vm.universe.float_value(quotient), Some(1e30 * 1e30 / 4.0));
    }
}
