//! Characters and strings: `at:` (63) and `at:put:` (64) of a String,
//! Character `value:` (170) and `asInteger` (171), the VM's String `=`,
//! `asSymbol` and `asNumber`, the Unicode properties of Characters, and
//! UTF-8 encoding and decoding.
//!
//! As in Pharo, a ByteString (or ByteSymbol) holds one byte per
//! character, the characters below 256 (Latin-1), and a WideString (or
//! WideSymbol) one 32-bit code point per character; a ByteString refuses
//! a character past Latin-1 (its Smalltalk code then becomes a
//! WideString, `becomeForward:`).

use super::indexing::{at_put, element, Element};
use super::{entry, failure, int, top, Prim, Primitive, BAD_ARGUMENT, BAD_RECEIVER};
use crate::memory::{self, class_index_of, Space};
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
        match memory::text(&vm.heap, receiver) {
            Some(text) => Prim::Value(vm.intern(&text)),
            None => failure(BAD_RECEIVER),
        }
    }),
    Primitive::named("primitiveCharacterProperty", 1, character_property),
    Primitive::named("primitiveNumberFromString", 0, number_from_string),
    // String>>utf8Encoded: a ByteArray; fails for a code point that is
    // not a Unicode scalar value (the Smalltalk code encodes it anyway).
    Primitive::named("primitiveUtf8Encode", 0, |vm, _, _| {
        let [receiver] = top(vm);
        if let Some(bytes) = memory::bytes(&vm.heap, receiver).filter(|b| b.is_ascii()) {
            let bytes = bytes.to_vec();
            return Prim::Value(vm.allocate_bytes(Space::Young, classes::BYTE_ARRAY, &bytes));
        }
        let Some(points) = code_points(&vm.heap, receiver) else {
            return failure(BAD_RECEIVER);
        };
        let Some(text) = points
            .into_iter()
            .map(char::from_u32)
            .collect::<Option<String>>()
        else {
            return failure(BAD_RECEIVER);
        };
        Prim::Value(vm.allocate_bytes(Space::Young, classes::BYTE_ARRAY, text.as_bytes()))
    }),
    // ByteArray>>utf8Decoded: a ByteString or a WideString; fails for
    // bytes that are not UTF-8 (the Smalltalk code raises the error).
    Primitive::named("primitiveUtf8Decode", 0, |vm, _, _| {
        let [receiver] = top(vm);
        if class_index_of(receiver) != classes::BYTE_ARRAY {
            return failure(BAD_RECEIVER);
        }
        let bytes = memory::bytes(&vm.heap, receiver).unwrap_or_default();
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                let text = text.to_string();
                Prim::Value(vm.new_string(Space::Young, &text))
            }
            Err(_) => failure(BAD_ARGUMENT),
        }
    }),
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

/// Whether two strings have the same characters (a ByteString and a
/// WideString may); None unless both are Strings or Symbols.
#[inline]
pub(crate) fn equal(heap: &memory::Heap, receiver: Oop, other: Oop) -> Option<bool> {
    // Two byte strings, the common case (as interned, compared bytes).
    if let (Some(a), Some(b)) = (memory::bytes(heap, receiver), memory::bytes(heap, other)) {
        return is_string(other).then_some(a == b);
    }
    if !is_string(receiver) || !is_string(other) {
        return None;
    }
    Some(code_points(heap, receiver)? == code_points(heap, other)?)
}

/// The code points of a string, whichever its representation.
fn code_points(heap: &memory::Heap, string: Oop) -> Option<Vec<u32>> {
    if let Some(bytes) = memory::bytes(heap, string) {
        return Some(bytes.iter().map(|&b| b as u32).collect());
    }
    memory::words32(heap, string).map(<[u32]>::to_vec)
}

pub(crate) fn is_string(oop: Oop) -> bool {
    matches!(
        class_index_of(oop),
        classes::BYTE_STRING | classes::BYTE_SYMBOL | classes::WIDE_STRING | classes::WIDE_SYMBOL
    )
}

/// Whether `oop` is a Symbol (a selector).
pub(crate) fn is_symbol(oop: Oop) -> bool {
    matches!(
        class_index_of(oop),
        classes::BYTE_SYMBOL | classes::WIDE_SYMBOL
    )
}

/// The text of a String or Symbol.
pub(super) fn text_of(vm: &Vm, object: Oop) -> Option<String> {
    if !is_string(object) {
        return None;
    }
    memory::text(&vm.heap, object)
}

/// `at:` of a string: the Character at a 1-based index.
fn string_at(vm: &mut Vm, receiver: Oop, i: Oop) -> Prim {
    match element(vm, receiver, i) {
        Ok(Element::Byte(byte)) => {
            // SAFETY: `element` checked the offset against the byte size.
            let code = unsafe { *(receiver.bits() as *const u8).add(8 + byte) };
            Prim::Value(Oop::character_from_code(code as u32))
        }
        Ok(Element::Word32(word)) => {
            let code = memory::words32(&vm.heap, receiver).map(|w| w[word]);
            match code.filter(|c| *c <= 0x3FFF_FFFF) {
                Some(code) => Prim::Value(Oop::character_from_code(code)),
                None => failure(BAD_RECEIVER),
            }
        }
        Ok(Element::Slot(_) | Element::Word16(_) | Element::Word64(_)) => failure(BAD_RECEIVER),
        Err(p) => p,
    }
}

/// `at:put:` of a string: a ByteString takes only Characters below 256,
/// a WideString any.
fn string_at_put(vm: &mut Vm, receiver: Oop, i: Oop, value: Oop) -> Prim {
    let Some(code) = value.as_character_code() else {
        return failure(BAD_ARGUMENT);
    };
    if code >= 256 && memory::words32(&vm.heap, receiver).is_none() {
        return failure(BAD_ARGUMENT);
    }
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

/// Character>>primitiveProperty: aSymbol — the Unicode property of the
/// receiver's code point that `aSymbol` names (`#isLetter`, `#isDigit`,
/// `#isUppercase`, `#isLowercase`, `#isAlphaNumeric`), or its case
/// mapping (`#asUppercase`, `#asLowercase`: a Character, itself when the
/// mapping is not one character), as Rust's `char` knows them.
fn character_property(vm: &mut Vm, _: usize, _: crate::vm::interpreter::Ip) -> Prim {
    let [receiver, property] = top(vm);
    let Some(c) = receiver.as_character_code() else {
        return failure(BAD_RECEIVER);
    };
    let c = char::from_u32(c);
    let property = vm.symbol_text(property);
    let test = |p: fn(char) -> bool| Prim::Value(vm.universe.boolean(c.is_some_and(p)));
    let map = |m: fn(char) -> Option<char>| {
        Prim::Value(
            c.and_then(m)
                .map_or(receiver, |m| Oop::character_from_code(m as u32)),
        )
    };
    fn single(mut chars: impl Iterator<Item = char>) -> Option<char> {
        let first = chars.next()?;
        chars.next().is_none().then_some(first)
    }
    match property.as_str() {
        "isLetter" => test(char::is_alphabetic),
        "isDigit" => test(|c| c.is_numeric() && !c.is_alphabetic()),
        "isUppercase" => test(char::is_uppercase),
        "isLowercase" => test(char::is_lowercase),
        "isAlphaNumeric" => test(char::is_alphanumeric),
        "asUppercase" => map(|c| single(c.to_uppercase())),
        "asLowercase" => map(|c| single(c.to_lowercase())),
        _ => failure(BAD_ARGUMENT),
    }
}

/// String>>asNumber: the number at the start of the string, in Pharo's
/// literal syntax (the compiler's scanner finds its extent), or nil.
fn number_from_string(vm: &mut Vm, _: usize, _: crate::vm::interpreter::Ip) -> Prim {
    let [receiver] = top(vm);
    let Some(text) = memory::text(&vm.heap, receiver) else {
        return failure(BAD_RECEIVER);
    };
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
