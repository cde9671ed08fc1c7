//! Characters and byte strings: `at:` (63) and `at:put:` (64) of a
//! String, Character `value:` (170) and `asInteger` (171), and the VM's
//! String `=`, `asSymbol` and `asNumber`.

use super::indexing::{at_put, element, Element};
use super::{entry, failure, int, top, Prim, Primitive, BAD_ARGUMENT, BAD_RECEIVER};
use crate::memory::{self, class_index_of};
use crate::object::Oop;
use crate::vm::{classes, Vm};

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive::numbered(63, 1, |vm, _, _| {
        let [receiver, index] = top(vm);
        string_at(vm, receiver, index)
    }),
    Primitive::numbered(64, 2, |vm, _, _| {
        let [receiver, index, value] = top(vm);
        string_at_put(vm, receiver, index, value)
    }),
    Primitive::numbered(170, 1, |vm, _, _| {
        let [_, code] = top(vm);
        match code.as_small_integer() {
            Some(code) if (0..=0x3FFF_FFFF).contains(&code) => {
                Prim::Value(Oop::character_from_code(code as u32))
            }
            _ => failure(BAD_ARGUMENT),
        }
    }),
    Primitive::numbered(171, 0, |vm, _, _| {
        let [receiver] = top(vm);
        match receiver.as_character_code() {
            Some(code) => int(code as i64),
            None => failure(BAD_RECEIVER),
        }
    }),
    EQUALS,
    // String>>asSymbol.
    Primitive::named("primitiveIntern", 0, |vm, _, _| {
        let [receiver] = top(vm);
        match memory::bytes(&vm.heap, receiver) {
            Some(bytes) => {
                let text = String::from_utf8_lossy(bytes).into_owned();
                Prim::Value(vm.intern(&text))
            }
            None => failure(BAD_RECEIVER),
        }
    }),
    Primitive::named("primitiveNumberFromString", 0, number_from_string),
];

/// ByteString = ByteString (Symbols included): same bytes. Fails for
/// anything else, so the Smalltalk method decides.
const EQUALS: Primitive = Primitive::named("primitiveStringEquals", 1, |vm, _, _| {
    let [receiver, other] = top(vm);
    match equal(&vm.heap, receiver, other) {
        Some(equal) => Prim::Value(vm.universe.boolean(equal)),
        None => failure(BAD_ARGUMENT),
    }
});

/// String `=`: the interpreter answers `=` between byte strings inline
/// when the receiver's class has this primitive for it.
pub const STRING_EQUALS: &Primitive = entry(EQUALS);

/// Whether two byte strings have the same characters; None unless
/// `other` is a String or Symbol and `receiver` a byte object.
pub(crate) fn equal(heap: &memory::Heap, receiver: Oop, other: Oop) -> Option<bool> {
    match (memory::bytes(heap, receiver), memory::bytes(heap, other)) {
        (Some(a), Some(b)) if is_string(other) => Some(a == b),
        _ => None,
    }
}

pub(crate) fn is_string(oop: Oop) -> bool {
    matches!(
        class_index_of(oop),
        classes::BYTE_STRING | classes::BYTE_SYMBOL
    )
}

/// `at:` of a byte string: the Character at a 1-based index.
fn string_at(vm: &mut Vm, receiver: Oop, i: Oop) -> Prim {
    match element(vm, receiver, i) {
        Ok(Element::Byte(byte)) => {
            // SAFETY: `element` checked the offset against the byte size.
            let code = unsafe { *(receiver.bits() as *const u8).add(8 + byte) };
            Prim::Value(Oop::character_from_code(code as u32))
        }
        Ok(Element::Slot(_)) => failure(BAD_RECEIVER),
        Err(p) => p,
    }
}

/// `at:put:` of a byte string: only Characters below 256 fit.
fn string_at_put(vm: &mut Vm, receiver: Oop, i: Oop, value: Oop) -> Prim {
    let Some(code) = value.as_character_code().filter(|c| *c < 256) else {
        return failure(BAD_ARGUMENT);
    };
    match at_put(
        vm,
        receiver,
        i,
        Oop::small_integer(code as i64).expect("small"),
    ) {
        Prim::Value(_) => Prim::Value(value),
        other => other,
    }
}

/// String>>asNumber: the number at the start of the string, in Pharo's
/// literal syntax (the compiler's scanner finds its extent), or nil.
fn number_from_string(vm: &mut Vm, _: usize, _: crate::vm::interpreter::Ip) -> Prim {
    let [receiver] = top(vm);
    let Some(bytes) = memory::bytes(&vm.heap, receiver) else {
        return failure(BAD_RECEIVER);
    };
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let token = zag_compiler::lexer::Lexer::new(digits, 0).next_token();
    let literal = match token {
        Ok(t) if t.kind == zag_compiler::lexer::TokenKind::Number => {
            zag_compiler::number::parse_number(&digits[t.start as usize..t.end as usize], negative)
                .ok()
        }
        _ => None,
    };
    match literal.map(|l| vm.literal(&l)) {
        Some(Ok(v)) => Prim::Value(v),
        _ => Prim::Value(vm.universe.nil),
    }
}
