//! Integer arithmetic on integers of any size, small or large (Pharo's
//! LargeInteger primitives 21-37), on the shared BigInt: exact, with
//! results normalized to SmallInteger when they fit. `/` succeeds only
//! when exact; division by zero fails.

use super::{failure, top, Prim, Primitive, BAD_ARGUMENT, BAD_RECEIVER, INSUFFICIENT_MEMORY};
use crate::memory::Space;
use crate::vm::Vm;
use zag_compiler::bigint::BigInt;

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive::numbered(21, 1, |vm, _, _| arithmetic(vm, |a, b| Some(a.add(b)))),
    Primitive::numbered(22, 1, |vm, _, _| arithmetic(vm, |a, b| Some(a.sub(b)))),
    Primitive::numbered(23, 1, |vm, _, _| comparison(vm, |a, b| a < b)),
    Primitive::numbered(24, 1, |vm, _, _| comparison(vm, |a, b| a > b)),
    Primitive::numbered(25, 1, |vm, _, _| comparison(vm, |a, b| a <= b)),
    Primitive::numbered(26, 1, |vm, _, _| comparison(vm, |a, b| a >= b)),
    Primitive::numbered(27, 1, |vm, _, _| comparison(vm, |a, b| a == b)),
    Primitive::numbered(28, 1, |vm, _, _| comparison(vm, |a, b| a != b)),
    Primitive::numbered(29, 1, |vm, _, _| product(vm)),
    Primitive::numbered(30, 1, |vm, _, _| {
        arithmetic(vm, |a, b| match a.quo_rem(b) {
            Some((q, r)) if r.is_zero() => Some(q),
            _ => None,
        })
    }),
    Primitive::numbered(31, 1, |vm, _, _| {
        arithmetic(vm, |a, b| a.div_mod(b).map(|(_, r)| r))
    }),
    Primitive::numbered(32, 1, |vm, _, _| {
        arithmetic(vm, |a, b| a.div_mod(b).map(|(q, _)| q))
    }),
    Primitive::numbered(33, 1, |vm, _, _| {
        arithmetic(vm, |a, b| a.quo_rem(b).map(|(q, _)| q))
    }),
    Primitive::numbered(34, 1, |vm, _, _| arithmetic(vm, |a, b| Some(a.bit_and(b)))),
    Primitive::numbered(35, 1, |vm, _, _| arithmetic(vm, |a, b| Some(a.bit_or(b)))),
    Primitive::numbered(36, 1, |vm, _, _| arithmetic(vm, |a, b| Some(a.bit_xor(b)))),
    Primitive::numbered(37, 1, |vm, _, _| {
        arithmetic(vm, |a, b| match b.to_i64() {
            // Zero shifted, or any right shift, however far, is small.
            _ if a.is_zero() => Some(BigInt::zero()),
            Some(n) if n <= MAX_SHIFT => Some(a.shifted(n)),
            None if b.is_negative() => Some(a.shifted(i64::MIN)),
            _ => None,
        })
    }),
    // `printString: base` of any integer: the digits (upper-case letters
    // beyond 9) with a leading `-` when negative, converted in
    // subquadratic time.
    Primitive::named("primitiveIntegerPrintString", 1, |vm, _, _| {
        let [receiver, base] = top(vm);
        let Some(value) = vm.integer_value(receiver) else {
            return failure(BAD_RECEIVER);
        };
        match base.as_small_integer() {
            Some(radix @ 2..=36) => {
                let text = value.to_string_radix(radix as u32);
                Prim::Value(vm.new_string(Space::Young, &text))
            }
            _ => failure(BAD_ARGUMENT),
        }
    }),
];

/// Largest left shift `bitShift:` accepts on integers (larger results
/// would be gigabytes: `Integer>>bitShift:` signals OutOfMemory).
const MAX_SHIFT: i64 = 1 << 24;

/// `*` of two integers, after making sure the product fits below the
/// heap limit (a squaring loop would otherwise compute a product of
/// gigabytes outside the heap first).
fn product(vm: &mut Vm) -> Prim {
    let Some((a, b)) = operands(vm) else {
        return failure(BAD_ARGUMENT);
    };
    let slots = ((a.bit_length() + b.bit_length()) / 64 + 1) as usize;
    if !vm.make_room(slots) {
        return failure(INSUFFICIENT_MEMORY);
    }
    Prim::Value(vm.integer(Space::Young, &a.mul(&b)))
}

/// The receiver and the argument, when both are integers.
fn operands(vm: &Vm) -> Option<(BigInt, BigInt)> {
    let [receiver, argument] = top(vm);
    Some((vm.integer_value(receiver)?, vm.integer_value(argument)?))
}

/// A primitive answering `op` of the receiver and the argument; fails
/// with `bad argument` unless both are integers and `op` has a result.
fn arithmetic(vm: &mut Vm, op: fn(&BigInt, &BigInt) -> Option<BigInt>) -> Prim {
    match operands(vm).and_then(|(a, b)| op(&a, &b)) {
        Some(v) => Prim::Value(vm.integer(Space::Young, &v)),
        None => failure(BAD_ARGUMENT),
    }
}

fn comparison(vm: &mut Vm, op: fn(&BigInt, &BigInt) -> bool) -> Prim {
    match operands(vm) {
        Some((a, b)) => Prim::Value(vm.universe.boolean(op(&a, &b))),
        None => failure(BAD_ARGUMENT),
    }
}
