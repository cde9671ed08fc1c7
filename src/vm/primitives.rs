//! Primitives, by Pharo's numbers. A primitive reads the receiver and the
//! arguments from the stack and either answers a value, continues somewhere
//! else (a block activation), or fails, in which case the method's
//! Smalltalk body runs (with the failure code in its `error:` variable).
//! Primitives check every argument: wrong types and out-of-range indexes
//! fail, they never misbehave.

use super::classes;
use super::interpreter::{Ip, CLOSURE_METHOD, CLOSURE_NUM_ARGS, CLOSURE_UNIT};
use super::Vm;
use crate::memory::{self, class_index_of, Space};
use crate::object::{Format, Oop};

pub enum Prim {
    Value(Oop),
    /// The primitive activated a frame; run from here.
    Continue(Ip),
    /// Failed, with a code of Pharo's primitive error table.
    Fail(u8),
}

pub(crate) fn failure(code: u8) -> Prim {
    Prim::Fail(code)
}

/// Pharo's primitive error table (`Smalltalk primitiveErrorTable`): the
/// `ec` of `<primitive: n error: ec>` is the Symbol for the failure code,
/// or nil for a generic failure (code 1).
pub const ERROR_TABLE: &[&str] = &[
    "bad receiver",
    "bad argument",
    "bad index",
    "bad number of arguments",
    "inappropriate operation",
    "unsupported operation",
    "no modification",
    "insufficient object memory",
];
const GENERIC: u8 = 1;
pub(crate) const BAD_RECEIVER: u8 = 2;
pub(crate) const BAD_ARGUMENT: u8 = 3;
const BAD_INDEX: u8 = 4;
const BAD_NUMBER_OF_ARGUMENTS: u8 = 5;
const UNSUPPORTED: u8 = 7;
/// `#'no modification'`: the receiver is read-only.
const NO_MODIFICATION: u8 = 8;

/// Numbers for the VM's own named primitives (`<primitive: 'name' module:
/// 'ZagPrimitives'>`), above Pharo's numbered range. Other named
/// primitives (plugins) do not exist here: 0, so the method body runs.
pub const fn named(module: &str, name: &str) -> u32 {
    if !const_eq(module, "ZagPrimitives") {
        return 0;
    }
    use named_numbers::*;
    let table: [(&str, u32); 28] = [
        ("primitiveStringEquals", STRING_EQUALS),
        ("primitiveNumberFromString", NUMBER_FROM_STRING),
        ("primitiveExit", EXIT),
        ("primitiveIntern", INTERN),
        ("primitiveStdoutWrite", STDOUT_WRITE),
        ("primitiveArguments", ARGUMENTS),
        ("primitiveGlobalAt", GLOBAL_AT),
        ("primitiveGlobalAtPut", GLOBAL_AT_PUT),
        ("primitiveGlobalIncludes", GLOBAL_INCLUDES),
        ("primitiveMethodAst", METHOD_AST),
        ("primitiveCompiledMethodAt", COMPILED_METHOD_AT),
        ("primitiveSelectors", SELECTORS),
        ("primitiveMethodSource", METHOD_SOURCE),
        ("primitiveMethodNumArgs", METHOD_NUM_ARGS),
        ("primitiveMethodClass", METHOD_CLASS),
        ("primitiveContextSender", CONTEXT_SENDER),
        ("primitiveContextIsDead", CONTEXT_IS_DEAD),
        ("primitiveInstSize", INST_SIZE),
        ("primitiveInstVarNames", INST_VAR_NAMES),
        ("primitiveSubclasses", SUBCLASSES),
        ("primitivePackageName", PACKAGE_NAME),
        ("primitiveFloatPrintString", FLOAT_PRINT_STRING),
        ("primitiveSignal", SIGNAL),
        ("primitiveOuter", OUTER),
        ("primitiveReturn", RETURN),
        ("primitiveRetry", RETRY),
        ("primitiveResume", RESUME),
        ("primitiveUnhandledError", UNHANDLED),
    ];
    let mut i = 0;
    while i < table.len() {
        if const_eq(name, table[i].0) {
            return table[i].1;
        }
        i += 1;
    }
    0
}

/// The numbers of the ZagPrimitives named primitives.
pub mod named_numbers {
    pub const FLOAT_PRINT_STRING: u32 = 10_000;
    pub const SIGNAL: u32 = 10_001;
    pub const OUTER: u32 = 10_002;
    pub const RETURN: u32 = 10_003;
    pub const RETRY: u32 = 10_004;
    pub const RESUME: u32 = 10_005;
    pub const UNHANDLED: u32 = 10_006;
    pub const COMPILED_METHOD_AT: u32 = 10_010;
    pub const SELECTORS: u32 = 10_011;
    pub const METHOD_SOURCE: u32 = 10_012;
    pub const METHOD_NUM_ARGS: u32 = 10_013;
    pub const CONTEXT_SENDER: u32 = 10_014;
    pub const CONTEXT_IS_DEAD: u32 = 10_015;
    pub const METHOD_AST: u32 = 10_016;
    pub const INST_SIZE: u32 = 10_017;
    pub const INST_VAR_NAMES: u32 = 10_018;
    pub const SUBCLASSES: u32 = 10_019;
    pub const PACKAGE_NAME: u32 = 10_030;
    pub const METHOD_CLASS: u32 = 10_031;
    pub const STDOUT_WRITE: u32 = 10_020;
    pub const ARGUMENTS: u32 = 10_021;
    pub const GLOBAL_AT: u32 = 10_022;
    pub const GLOBAL_AT_PUT: u32 = 10_023;
    pub const GLOBAL_INCLUDES: u32 = 10_024;
    pub const INTERN: u32 = 10_025;
    pub const NUMBER_FROM_STRING: u32 = 10_026;
    pub const EXIT: u32 = 10_027;
    pub const STRING_EQUALS: u32 = 10_028;
}
use named_numbers::FLOAT_PRINT_STRING;

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A primitive as the interpreter calls it: the VM, the primitive's
/// number, the argument count and the continuation.
pub type PrimitiveFn = fn(&mut Vm, u32, usize, Ip) -> Prim;

/// The function that runs primitive `number`, resolved once when a method
/// is lowered: the most frequent primitives get their own small function,
/// which skips [`call`]'s dispatch on the number; every other number (and
/// an unexpected argument count) goes through `call`.
pub fn function_for(number: u32) -> PrimitiveFn {
    // `direct!(n, |vm, [receiver, args...]| body)`: the body, given the
    // receiver and `n` arguments from the stack; `call` for another count.
    macro_rules! direct {
        ($count:literal, |$vm:ident, [$($name:ident),+]| $body:expr) => {
            |vm, n, args, ip| {
                if args != $count {
                    return call(vm, n, args, ip);
                }
                let [$($name),+] = top::<{ $count + 1 }>(vm);
                let $vm = vm;
                $body
            }
        };
    }
    match number {
        60 => direct!(1, |vm, [receiver, index]| at(vm, receiver, index)),
        61 => direct!(2, |vm, [receiver, index, value]| at_put(
            vm, receiver, index, value
        )),
        62 => direct!(0, |vm, [receiver]| size(vm, receiver)),
        63 => direct!(1, |vm, [receiver, index]| string_at(vm, receiver, index)),
        64 => direct!(2, |vm, [receiver, index, value]| string_at_put(
            vm, receiver, index, value
        )),
        70 => direct!(0, |vm, [class]| basic_new(vm, class, None)),
        // Block evaluation: value, value:, ... value:value:value:value:.
        201..=205 => |vm, n, args, ip| {
            if args == (n - 201) as usize {
                let closure = vm.process.stack[vm.process.stack.len() - args - 1];
                value(vm, closure, args, ip)
            } else {
                call(vm, n, args, ip)
            }
        },
        named_numbers::STRING_EQUALS => {
            direct!(1, |vm, [receiver, other]| string_equals(
                vm, receiver, other
            ))
        }
        _ => call,
    }
}

/// The receiver and arguments: the top `N` values of the stack.
#[inline(always)]
fn top<const N: usize>(vm: &Vm) -> [Oop; N] {
    let len = vm.process.stack.len();
    std::array::from_fn(|i| vm.process.stack[len - N + i])
}

/// The first four arguments of a primitive (primitives take at most four
/// that they read here), copied once so that the match arms read locals.
fn arguments(vm: &Vm, args: usize) -> [Oop; 4] {
    let mut values = [vm.universe.nil; 4];
    let len = vm.process.stack.len();
    for (i, value) in values.iter_mut().enumerate().take(args) {
        *value = vm.process.stack[len - args + i];
    }
    values
}

pub fn call(vm: &mut Vm, number: u32, args: usize, return_ip: Ip) -> Prim {
    let len = vm.process.stack.len();
    let receiver = vm.process.stack[len - args - 1];
    let values = arguments(vm, args);
    let arg = |i: usize| values[i];
    match (number, args) {
        (1..=17, 1) => small_integer(vm, number, receiver, arg(0)),
        (21..=37, 1) => large_integer(vm, number, receiver, arg(0)),
        (40, 0) => match vm.integer_value(receiver) {
            Some(i) => Prim::Value(vm.float(Space::Young, i.to_f64())),
            None => failure(BAD_RECEIVER),
        },
        (41..=50, 1) | (541..=550, 1) => float_binary(vm, number % 500, receiver, arg(0)),
        (51..=59, 0) | (551..=559, 0) => float_unary(vm, number % 500, receiver),
        (named_numbers::SIGNAL..=named_numbers::UNHANDLED, 0..=1) => {
            super::exceptions::primitive(vm, number, args, return_ip)
        }
        (named_numbers::COMPILED_METHOD_AT..=named_numbers::SUBCLASSES, 0..=1)
        | (named_numbers::PACKAGE_NAME, 0)
        | (named_numbers::METHOD_CLASS, 0) => super::reflection::primitive(vm, number, args),
        (named_numbers::STDOUT_WRITE..=named_numbers::GLOBAL_INCLUDES, 0..=2) => {
            system(vm, number, args)
        }
        // String>>asNumber: the number at the start of the string, in
        // Pharo's literal syntax (the compiler's scanner finds its extent).
        (named_numbers::NUMBER_FROM_STRING, 0) => match memory::bytes(&vm.heap, receiver) {
            Some(bytes) => {
                let text = String::from_utf8_lossy(bytes);
                let text = text.trim_start();
                let (negative, digits) = match text.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, text),
                };
                let token = zag_compiler::lexer::Lexer::new(digits, 0).next_token();
                let literal = match token {
                    Ok(t) if t.kind == zag_compiler::lexer::TokenKind::Number => {
                        zag_compiler::number::parse_number(
                            &digits[t.start as usize..t.end as usize],
                            negative,
                        )
                        .ok()
                    }
                    _ => None,
                };
                match literal.map(|l| vm.literal(&l)) {
                    Some(Ok(v)) => Prim::Value(v),
                    _ => Prim::Value(vm.universe.nil),
                }
            }
            None => failure(BAD_RECEIVER),
        },
        (named_numbers::EXIT, 1) => match arg(0).as_small_integer() {
            Some(code) => {
                use std::io::Write;
                let _ = std::io::stdout().flush();
                std::process::exit(code as i32)
            }
            None => failure(BAD_ARGUMENT),
        },
        // ByteString = ByteString (Symbols included): same bytes. Fails for
        // anything else, so the Smalltalk method decides.
        (named_numbers::STRING_EQUALS, 1) => string_equals(vm, receiver, arg(0)),
        (163, 0) => Prim::Value(vm.universe.boolean(memory::is_read_only(receiver))),
        (164, 1) => set_read_only(vm, receiver, arg(0)),
        (105, 4) => replace_from_to(vm, receiver, arg(0), arg(1), arg(2), arg(3)),
        (173, 1) => inst_var_at(vm, receiver, arg(0), None),
        (174, 2) => inst_var_at(vm, receiver, arg(0), Some(arg(1))),
        (148, 0) => shallow_copy(vm, receiver),
        (named_numbers::INTERN, 0) => match memory::bytes(&vm.heap, receiver) {
            Some(bytes) => {
                let text = String::from_utf8_lossy(bytes).into_owned();
                Prim::Value(vm.intern(&text))
            }
            None => failure(BAD_RECEIVER),
        },
        // Time: UTC microseconds since 1901 (Pharo's epoch), milliseconds.
        (240, 0) => {
            let micros = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as i64);
            const UNIX_FROM_1901: i64 = 2_177_452_800_000_000;
            int(micros + UNIX_FROM_1901)
        }
        (135, 0) => int(vm.universe.started.elapsed().as_millis() as i64),
        (FLOAT_PRINT_STRING, 0) => match vm.universe.float_value(receiver) {
            Some(f) => {
                let text = zag_compiler::number::pharo_float_print_string(f);
                Prim::Value(vm.new_string(Space::Young, &text))
            }
            None => failure(BAD_RECEIVER),
        },
        (60, 1) => at(vm, receiver, arg(0)),
        (61, 2) => at_put(vm, receiver, arg(0), arg(1)),
        (63, 1) => string_at(vm, receiver, arg(0)),
        (64, 2) => string_at_put(vm, receiver, arg(0), arg(1)),
        (62, 0) => size(vm, receiver),
        (70, 0) => basic_new(vm, receiver, None),
        (71, 1) => match arg(0).as_small_integer() {
            Some(n) if n >= 0 => basic_new(vm, receiver, Some(n as usize)),
            _ => failure(BAD_ARGUMENT),
        },
        (75, 0) => int(identity_hash(receiver)),
        (110, 1) => Prim::Value(vm.universe.boolean(receiver == arg(0))),
        (170, 1) => match arg(0).as_small_integer() {
            Some(code) if (0..=0x3FFF_FFFF).contains(&code) => {
                Prim::Value(Oop::character_from_code(code as u32))
            }
            _ => failure(BAD_ARGUMENT),
        },
        (171, 0) => match receiver.as_character_code() {
            Some(code) => int(code as i64),
            None => failure(BAD_RECEIVER),
        },
        (111, 0) => Prim::Value(vm.universe.class_object(class_index_of(receiver))),
        (201..=205, n) if n == (number - 201) as usize => value(vm, receiver, args, return_ip),
        (206, 1) => value_with_arguments(vm, receiver, arg(0), return_ip),
        (83, 1..) => perform(vm, args, return_ip),
        (84, 2) => perform_with_arguments(vm, receiver, arg(0), arg(1), return_ip),
        _ => failure(UNSUPPORTED),
    }
}

fn int(v: i64) -> Prim {
    match Oop::small_integer(v) {
        Some(o) => Prim::Value(o),
        // Overflow: the Smalltalk fallback makes a LargeInteger.
        None => failure(GENERIC),
    }
}

/// SmallInteger arithmetic and comparison (primitives 1 to 17).
fn small_integer(vm: &mut Vm, number: u32, receiver: Oop, arg: Oop) -> Prim {
    let (Some(a), Some(b)) = (receiver.as_small_integer(), arg.as_small_integer()) else {
        return failure(BAD_ARGUMENT);
    };
    let checked = |v: Option<i64>| v.map_or(failure(GENERIC), int);
    match number {
        1 => checked(a.checked_add(b)),
        2 => checked(a.checked_sub(b)),
        3 => Prim::Value(vm.universe.boolean(a < b)),
        4 => Prim::Value(vm.universe.boolean(a > b)),
        5 => Prim::Value(vm.universe.boolean(a <= b)),
        6 => Prim::Value(vm.universe.boolean(a >= b)),
        7 => Prim::Value(vm.universe.boolean(a == b)),
        8 => Prim::Value(vm.universe.boolean(a != b)),
        9 => checked(a.checked_mul(b)),
        // `/` succeeds only when exact; otherwise Smalltalk makes a Fraction.
        10 if b != 0 && a % b == 0 => int(a / b),
        // `\\` and `//` floor: the remainder takes the divisor's sign.
        11 if b != 0 => {
            let r = a % b;
            int(if r != 0 && (r < 0) != (b < 0) {
                r + b
            } else {
                r
            })
        }
        12 if b != 0 => {
            let q = a / b;
            int(if a % b != 0 && (a < 0) != (b < 0) {
                q - 1
            } else {
                q
            })
        }
        13 if b != 0 => int(a / b),
        14 => int(a & b),
        15 => int(a | b),
        16 => int(a ^ b),
        17 => match b {
            0..=63 => checked(a.checked_shl(b as u32).filter(|v| v >> b == a)),
            -63..=-1 => int(a >> -b),
            _ if b < 0 => int(if a < 0 { -1 } else { 0 }),
            _ => failure(BAD_ARGUMENT),
        },
        _ => failure(BAD_ARGUMENT),
    }
}

/// Largest shift `bitShift:` accepts on integers (larger results would
/// be gigabytes).
const MAX_SHIFT: i64 = 1 << 24;

/// Integer arithmetic on any integers, small or large (Pharo's LargeInteger
/// primitives 21-37): exact, with results normalized to SmallInteger when
/// they fit. `/` succeeds only when exact; division by zero fails.
fn large_integer(vm: &mut Vm, number: u32, receiver: Oop, arg: Oop) -> Prim {
    let (Some(a), Some(b)) = (vm.integer_value(receiver), vm.integer_value(arg)) else {
        return failure(BAD_ARGUMENT);
    };
    let value =
        |vm: &mut Vm, v: zag_compiler::bigint::BigInt| Prim::Value(vm.integer(Space::Young, &v));
    let truth = |vm: &mut Vm, t: bool| Prim::Value(vm.universe.boolean(t));
    match number {
        21 => value(vm, a.add(&b)),
        22 => value(vm, a.sub(&b)),
        23 => truth(vm, a < b),
        24 => truth(vm, a > b),
        25 => truth(vm, a <= b),
        26 => truth(vm, a >= b),
        27 => truth(vm, a == b),
        28 => truth(vm, a != b),
        29 => value(vm, a.mul(&b)),
        30 => match a.quo_rem(&b) {
            Some((q, r)) if r.is_zero() => value(vm, q),
            _ => failure(BAD_ARGUMENT),
        },
        31 => match a.div_mod(&b) {
            Some((_, r)) => value(vm, r),
            None => failure(BAD_ARGUMENT),
        },
        32 => match a.div_mod(&b) {
            Some((q, _)) => value(vm, q),
            None => failure(BAD_ARGUMENT),
        },
        33 => match a.quo_rem(&b) {
            Some((q, _)) => value(vm, q),
            None => failure(BAD_ARGUMENT),
        },
        34 => value(vm, a.bit_and(&b)),
        35 => value(vm, a.bit_or(&b)),
        36 => value(vm, a.bit_xor(&b)),
        37 => match b.to_i64() {
            Some(n) if n.abs() <= MAX_SHIFT => value(vm, a.shifted(n)),
            _ => failure(BAD_ARGUMENT),
        },
        _ => failure(BAD_ARGUMENT),
    }
}

/// `shallowCopy` (148): a new object of the same class, format and size
/// with the same contents. Immediates copy to themselves.
fn shallow_copy(vm: &mut Vm, object: Oop) -> Prim {
    if !object.is_pointer() {
        return Prim::Value(object);
    }
    // SAFETY: a pointer Oop is a live object.
    let (header, slots) = unsafe { (memory::header(object), memory::slot_count(object)) };
    if matches!(header.format(), Format::CompiledMethod(_)) || slots > MAX_NEW_SLOTS {
        return failure(BAD_RECEIVER);
    }
    // The original stays on the stack (a root) across the allocation.
    let copy = vm.allocate(header.class_index(), header.format(), slots, 0);
    let object = *vm.process.stack.last().expect("the receiver");
    // SAFETY: both objects have `slots` words after their headers.
    unsafe {
        std::ptr::copy_nonoverlapping(
            (object.bits() as *const u64).add(1),
            (copy.bits() as *mut u64).add(1),
            slots,
        )
    };
    Prim::Value(copy)
}

/// A heap object that refuses stores (an immediate fails the primitive
/// for being an immediate instead, as in Pharo).
fn is_read_only_object(o: Oop) -> bool {
    o.is_pointer() && memory::is_read_only(o)
}

/// `setIsReadOnlyObject:` (164): answers whether the receiver was
/// read-only. Immediates stay read-only, and so do the image's static
/// objects, which every VM in the process shares.
fn set_read_only(vm: &mut Vm, receiver: Oop, flag: Oop) -> Prim {
    let on = if flag == vm.universe.true_object {
        true
    } else if flag == vm.universe.false_object {
        false
    } else {
        return failure(BAD_ARGUMENT);
    };
    let was = memory::is_read_only(receiver);
    if was != on {
        if !receiver.is_pointer() || memory::statics::is_static(receiver) {
            return failure(NO_MODIFICATION);
        }
        // SAFETY: a pointer Oop to a live object that is not static.
        unsafe { memory::set_read_only(receiver, on) };
    }
    Prim::Value(vm.universe.boolean(was))
}

/// ByteString = ByteString (Symbols included): same bytes. Fails for
/// anything else, so the Smalltalk method decides.
fn string_equals(vm: &Vm, receiver: Oop, other: Oop) -> Prim {
    match strings_equal(&vm.heap, receiver, other) {
        Some(equal) => Prim::Value(vm.universe.boolean(equal)),
        None => failure(BAD_ARGUMENT),
    }
}

/// Whether two byte strings have the same characters; None unless
/// `other` is a String or Symbol and `receiver` a byte object.
pub(crate) fn strings_equal(heap: &memory::Heap, receiver: Oop, other: Oop) -> Option<bool> {
    match (memory::bytes(heap, receiver), memory::bytes(heap, other)) {
        (Some(a), Some(b)) if is_string(other) => Some(a == b),
        _ => None,
    }
}

/// `basicSize`/`size` (62): the number of indexable elements.
fn size(vm: &Vm, receiver: Oop) -> Prim {
    match indexable_size(vm, receiver) {
        Some(n) => int(n as i64),
        None => failure(BAD_RECEIVER),
    }
}

fn is_string(oop: Oop) -> bool {
    matches!(
        class_index_of(oop),
        classes::BYTE_STRING | classes::BYTE_SYMBOL
    )
}

/// `replaceFrom: start to: stop with: replacement startingAt: repStart`
/// (105) between objects of the same kind (both bytes, or both pointers),
/// every index checked.
fn replace_from_to(
    vm: &mut Vm,
    receiver: Oop,
    start: Oop,
    stop: Oop,
    replacement: Oop,
    rep_start: Oop,
) -> Prim {
    if is_read_only_object(receiver) {
        return failure(NO_MODIFICATION);
    }
    let (Some(start), Some(stop), Some(rep_start)) = (
        start.as_small_integer(),
        stop.as_small_integer(),
        rep_start.as_small_integer(),
    ) else {
        return failure(BAD_ARGUMENT);
    };
    let (Some(size), Some(rep_size)) = (
        indexable_size(vm, receiver),
        indexable_size(vm, replacement),
    ) else {
        return failure(BAD_RECEIVER);
    };
    let count = stop - start + 1;
    if count == 0 && start >= 1 {
        return Prim::Value(receiver);
    }
    let in_range = start >= 1
        && count > 0
        && stop as usize <= size
        && rep_start >= 1
        && (rep_start + count - 1) as usize <= rep_size;
    if !in_range {
        return failure(BAD_INDEX);
    }
    let (start, rep_start, count) = (
        (start - 1) as usize,
        (rep_start - 1) as usize,
        count as usize,
    );
    match (
        memory::bytes(&vm.heap, receiver).is_some(),
        memory::bytes(&vm.heap, replacement),
    ) {
        (true, Some(source)) => {
            let source = source[rep_start..rep_start + count].to_vec();
            // SAFETY: the range was checked against the receiver's byte size.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    source.as_ptr(),
                    (receiver.bits() as *mut u8).add(8 + start),
                    count,
                )
            };
            Prim::Value(receiver)
        }
        (false, None) => {
            let (dst_fixed, src_fixed) =
                (fixed_fields(vm, receiver), fixed_fields(vm, replacement));
            let values: Vec<Oop> = (0..count)
                .filter_map(|i| memory::slot(replacement, src_fixed + rep_start + i))
                .collect();
            for (i, v) in values.into_iter().enumerate() {
                vm.store(receiver, dst_fixed + start + i, v);
            }
            Prim::Value(receiver)
        }
        _ => failure(BAD_ARGUMENT),
    }
}

/// The system primitives: standard output, command-line arguments, globals.
fn system(vm: &mut Vm, number: u32, args: usize) -> Prim {
    use std::io::Write;
    let values = arguments(vm, args);
    let arg = |i: usize| values[i];
    match (number, args) {
        (named_numbers::STDOUT_WRITE, 1) => match memory::bytes(&vm.heap, arg(0)) {
            Some(bytes) => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(bytes);
                if bytes.contains(&b'\n') {
                    let _ = out.flush();
                }
                Prim::Value(arg(0))
            }
            None => failure(BAD_ARGUMENT),
        },
        (named_numbers::ARGUMENTS, 0) => {
            let strings: Vec<String> = vm.universe.arguments.clone();
            // Each String is made while the Array is on the stack (a root).
            let array = vm.allocate(
                classes::ARRAY,
                Format::Indexable,
                strings.len(),
                vm.universe.nil.bits(),
            );
            vm.process.stack.push(array);
            for (i, s) in strings.iter().enumerate() {
                let string = vm.new_string(Space::Young, s);
                let array = *vm.process.stack.last().expect("pushed");
                vm.store(array, i, string);
            }
            Prim::Value(vm.process.stack.pop().expect("pushed"))
        }
        (named_numbers::GLOBAL_AT, 1..=2) => {
            let name = vm.symbol_text(arg(0));
            match vm.universe.global(&name) {
                Some(v) if vm.universe.has_global(&name) => Prim::Value(v),
                _ => failure(BAD_ARGUMENT),
            }
        }
        (named_numbers::GLOBAL_AT_PUT, 2) => {
            let (name, value) = (vm.symbol_text(arg(0)), arg(1));
            vm.set_global(&name, value);
            Prim::Value(value)
        }
        (named_numbers::GLOBAL_INCLUDES, 1) => {
            let name = vm.symbol_text(arg(0));
            Prim::Value(vm.universe.boolean(vm.universe.has_global(&name)))
        }
        _ => failure(BAD_ARGUMENT),
    }
}

/// Float arithmetic and comparison (41-50; SmallFloat64's 541-550): the
/// argument may be a Float or a SmallInteger, as in Pharo.
fn float_binary(vm: &mut Vm, number: u32, receiver: Oop, arg: Oop) -> Prim {
    let Some(a) = vm.universe.float_value(receiver) else {
        return failure(BAD_RECEIVER);
    };
    let b = match (vm.universe.float_value(arg), arg.as_small_integer()) {
        (Some(f), _) => f,
        (None, Some(i)) => i as f64,
        _ => return failure(BAD_ARGUMENT),
    };
    let float = |vm: &mut Vm, f: f64| Prim::Value(vm.float(Space::Young, f));
    match number {
        41 => float(vm, a + b),
        42 => float(vm, a - b),
        43 => Prim::Value(vm.universe.boolean(a < b)),
        44 => Prim::Value(vm.universe.boolean(a > b)),
        45 => Prim::Value(vm.universe.boolean(a <= b)),
        46 => Prim::Value(vm.universe.boolean(a >= b)),
        47 => Prim::Value(vm.universe.boolean(a == b)),
        48 => Prim::Value(vm.universe.boolean(a != b)),
        49 => float(vm, a * b),
        // Division by zero fails: the Smalltalk side signals ZeroDivide.
        50 if b != 0.0 => float(vm, a / b),
        _ => failure(BAD_ARGUMENT),
    }
}

/// Unary Float primitives (51-59; SmallFloat64's 551-559).
fn float_unary(vm: &mut Vm, number: u32, receiver: Oop) -> Prim {
    let Some(f) = vm.universe.float_value(receiver) else {
        return failure(BAD_RECEIVER);
    };
    let float = |vm: &mut Vm, f: f64| Prim::Value(vm.float(Space::Young, f));
    match number {
        // truncated: exact, any size; fails on NaN and infinities.
        51 => match zag_compiler::bigint::BigInt::from_f64_truncated(f) {
            Some(i) => Prim::Value(vm.integer(Space::Young, &i)),
            None => failure(BAD_RECEIVER),
        },
        52 => float(vm, f.fract()),
        53 => match f {
            0.0 => int(0),
            f if f.is_finite() => int(f.abs().log2().floor() as i64),
            _ => failure(BAD_RECEIVER),
        },
        55 => float(vm, f.sqrt()),
        56 => float(vm, f.sin()),
        57 => float(vm, f.atan()),
        58 => float(vm, f.ln()),
        59 => float(vm, f.exp()),
        _ => failure(BAD_RECEIVER),
    }
}

/// Named instance variables of the receiver's class.
fn fixed_fields(vm: &Vm, oop: Oop) -> usize {
    vm.universe
        .classes
        .get(class_index_of(oop))
        .map_or(0, |c| c.inst_vars.len())
}

/// Where the indexed elements of an object are.
enum Indexed {
    /// Pointer slots `first..first + count` (after the named ones).
    Slots { first: usize, count: usize },
    /// `len` bytes.
    Bytes(usize),
}

impl Indexed {
    fn len(&self) -> usize {
        match *self {
            Indexed::Slots { count, .. } => count,
            Indexed::Bytes(len) => len,
        }
    }
}

/// The indexed part of `oop`, None when it has none. An object of
/// indexed slots only (an Array, the common case) is recognised from its
/// header alone; only objects with named slots too need their class.
fn indexed(vm: &Vm, oop: Oop) -> Option<Indexed> {
    if !oop.is_pointer() {
        return None;
    }
    // SAFETY: a pointer Oop is a live object.
    let (header, slots) = unsafe { (memory::header(oop), memory::slot_count(oop)) };
    if header.is_indexable_only() {
        return Some(Indexed::Slots {
            first: 0,
            count: slots,
        });
    }
    if let Some(unused) = header.unused_bytes() {
        return Some(Indexed::Bytes(slots * 8 - unused as usize));
    }
    match header.format() {
        Format::FixedIndexable | Format::Weak => {
            let first = fixed_fields(vm, oop);
            Some(Indexed::Slots {
                first,
                count: slots - first,
            })
        }
        _ => None,
    }
}

fn indexable_size(vm: &Vm, oop: Oop) -> Option<usize> {
    indexed(vm, oop).map(|i| i.len())
}

/// Element `index` (1-based) of an indexable object.
enum Element {
    /// Its absolute slot.
    Slot(usize),
    /// Its byte offset.
    Byte(usize),
}

/// Where element `index` (1-based, checked against the size) is.
fn element(vm: &Vm, receiver: Oop, index: Oop) -> Result<Element, Prim> {
    let indexed = indexed(vm, receiver).ok_or_else(|| failure(BAD_RECEIVER))?;
    let i = match index.as_small_integer() {
        Some(i) if i >= 1 && (i as usize) <= indexed.len() => i as usize - 1,
        Some(_) => return Err(failure(BAD_INDEX)),
        None => return Err(failure(BAD_ARGUMENT)),
    };
    Ok(match indexed {
        Indexed::Slots { first, .. } => Element::Slot(first + i),
        Indexed::Bytes(_) => Element::Byte(i),
    })
}

fn at(vm: &mut Vm, receiver: Oop, i: Oop) -> Prim {
    match element(vm, receiver, i) {
        Ok(Element::Slot(slot)) => {
            memory::slot(receiver, slot).map_or(failure(BAD_INDEX), Prim::Value)
        }
        Ok(Element::Byte(byte)) => {
            // SAFETY: `element` checked the offset against the byte size.
            int(unsafe { *(receiver.bits() as *const u8).add(8 + byte) } as i64)
        }
        Err(p) => p,
    }
}

fn at_put(vm: &mut Vm, receiver: Oop, i: Oop, value: Oop) -> Prim {
    if is_read_only_object(receiver) {
        return failure(NO_MODIFICATION);
    }
    match element(vm, receiver, i) {
        Ok(Element::Slot(slot)) => {
            if vm.store(receiver, slot, value) {
                Prim::Value(value)
            } else {
                failure(BAD_INDEX)
            }
        }
        Ok(Element::Byte(byte)) => {
            let Some(b) = value.as_small_integer().filter(|b| (0..=255).contains(b)) else {
                return failure(BAD_ARGUMENT);
            };
            // SAFETY: `element` checked the offset against the byte size.
            unsafe { *(receiver.bits() as *mut u8).add(8 + byte) = b as u8 };
            Prim::Value(value)
        }
        Err(p) => p,
    }
}

/// `instVarAt:` (173) and `instVarAt:put:` (174): slot `i` (1-based) of
/// a pointer object, its named fields first, then its indexed ones.
fn inst_var_at(vm: &mut Vm, receiver: Oop, i: Oop, value: Option<Oop>) -> Prim {
    let Some(i) = i.as_small_integer() else {
        return failure(BAD_ARGUMENT);
    };
    if i < 1 || memory::bytes(&vm.heap, receiver).is_some() {
        return failure(BAD_INDEX);
    }
    let slot = (i - 1) as usize;
    match value {
        None => memory::slot(receiver, slot).map_or(failure(BAD_INDEX), Prim::Value),
        Some(_) if is_read_only_object(receiver) => failure(NO_MODIFICATION),
        Some(v) if vm.store(receiver, slot, v) => Prim::Value(v),
        Some(_) => failure(BAD_INDEX),
    }
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

/// `basicNew` (no size) and `basicNew:` on a class object.
fn basic_new(vm: &mut Vm, class_object: Oop, size: Option<usize>) -> Prim {
    let Some(index) = vm.universe.classes.index_of_object(class_object) else {
        return failure(BAD_RECEIVER);
    };
    let class = vm
        .universe
        .classes
        .get(index)
        .expect("indexed class exists");
    let fixed = class.inst_vars.len();
    use zag_compiler::tonel::Layout;
    let nil = vm.universe.nil.bits();
    // Pointer slots start nil, bytes zero.
    let (format, slots, fill) = match (class.layout, size) {
        (Layout::Fixed, None) if fixed == 0 => (Format::Empty, 0, nil),
        (Layout::Fixed, None) => (Format::Fixed, fixed, nil),
        (Layout::Variable, n) if fixed == 0 => (Format::Indexable, n.unwrap_or(0), nil),
        (Layout::Variable, n) => (Format::FixedIndexable, fixed + n.unwrap_or(0), nil),
        (Layout::Bytes, n) => {
            let (format, slots) = memory::byte_shape(n.unwrap_or(0));
            (format, slots, 0)
        }
        _ => return failure(BAD_RECEIVER),
    };
    if slots > MAX_NEW_SLOTS {
        return failure(BAD_ARGUMENT);
    }
    Prim::Value(vm.allocate(index, format, slots, fill))
}

/// Bound on one allocation (128 Mi slots, 1 GiB): larger is a failure the
/// Smalltalk side reports, not an abort.
const MAX_NEW_SLOTS: usize = 1 << 27;

fn identity_hash(oop: Oop) -> i64 {
    if oop.is_pointer() {
        // SAFETY: a pointer Oop is a live object.
        unsafe { memory::header(oop).hash() as i64 }
    } else {
        (oop.bits() >> 3) as i64 & 0x3F_FFFF
    }
}

/// `perform: selector with: ...` (83): sends the selector with the
/// arguments that follow it. Fails when the count does not match.
fn perform(vm: &mut Vm, args: usize, return_ip: Ip) -> Prim {
    let at = vm.process.stack.len() - args;
    let selector = vm.process.stack[at];
    if class_index_of(selector) != classes::BYTE_SYMBOL {
        return failure(BAD_ARGUMENT);
    }
    let text = vm.symbol_text(selector);
    if selector_arity(&text) != args - 1 {
        return failure(BAD_NUMBER_OF_ARGUMENTS);
    }
    vm.process.stack.remove(at);
    Prim::Continue(vm.send_selector(selector, args - 1, return_ip, None, None))
}

/// `perform: selector withArguments: anArray` (84).
fn perform_with_arguments(
    vm: &mut Vm,
    receiver: Oop,
    selector: Oop,
    arguments: Oop,
    return_ip: Ip,
) -> Prim {
    if class_index_of(selector) != classes::BYTE_SYMBOL
        || class_index_of(arguments) != classes::ARRAY
    {
        return failure(BAD_ARGUMENT);
    }
    let count = memory::slot_count(arguments);
    if selector_arity(&vm.symbol_text(selector)) != count {
        return failure(BAD_NUMBER_OF_ARGUMENTS);
    }
    if !vm.process.stack.has_room_for(count) {
        return failure(GENERIC);
    }
    let len = vm.process.stack.len();
    vm.process.stack.truncate(len - 3);
    vm.process.stack.push(receiver);
    for i in 0..count {
        let v = memory::slot(arguments, i).expect("in bounds");
        vm.process.stack.push(v);
    }
    Prim::Continue(vm.send_selector(selector, count, return_ip, None, None))
}

/// BlockClosure>>valueWithArguments: anArray. Fails, leaving the stack
/// as it was, unless anArray is an Array of the block's arity.
fn value_with_arguments(vm: &mut Vm, closure: Oop, arguments: Oop, return_ip: Ip) -> Prim {
    if class_index_of(closure) != classes::BLOCK_CLOSURE {
        return failure(BAD_RECEIVER);
    }
    if class_index_of(arguments) != classes::ARRAY {
        return failure(BAD_ARGUMENT);
    }
    let count = memory::slot_count(arguments);
    let arity = memory::slot(closure, CLOSURE_NUM_ARGS).and_then(Oop::as_small_integer);
    if arity != Some(count as i64) {
        return failure(BAD_NUMBER_OF_ARGUMENTS);
    }
    if !vm.process.stack.has_room_for(count) {
        return failure(GENERIC);
    }
    vm.process.stack.pop();
    for i in 0..count {
        let v = memory::slot(arguments, i).expect("in bounds");
        vm.process.stack.push(v);
    }
    let answer = value(vm, closure, count, return_ip);
    if let Prim::Fail(_) = answer {
        let len = vm.process.stack.len();
        vm.process.stack.truncate(len - count);
        vm.process.stack.push(arguments);
    }
    answer
}

/// The number of arguments a selector takes.
fn selector_arity(selector: &str) -> usize {
    match selector.bytes().next() {
        Some(b) if crate::vm::is_binary_selector_char(b) => 1,
        _ => selector.bytes().filter(|&b| b == b':').count(),
    }
}

/// `value`, `value:`... (201-205): activates the closure's code. Every
/// field is checked: Smalltalk code can assign a closure's variables.
fn value(vm: &mut Vm, closure: Oop, args: usize, return_ip: Ip) -> Prim {
    if class_index_of(closure) != classes::BLOCK_CLOSURE {
        return failure(BAD_RECEIVER);
    }
    let field = |i| memory::slot(closure, i).and_then(Oop::as_small_integer);
    let (Some(method), Some(unit), Some(num_args)) = (
        field(CLOSURE_METHOD),
        field(CLOSURE_UNIT),
        field(CLOSURE_NUM_ARGS),
    ) else {
        return failure(BAD_RECEIVER);
    };
    let code = usize::try_from(method)
        .ok()
        .and_then(|m| vm.universe.methods.get(m))
        .and_then(|m| {
            usize::try_from(unit)
                .ok()
                .filter(|u| *u > 0)
                .and_then(|u| m.units.get(u))
        });
    match code {
        Some(u) if u.num_args as i64 == num_args => {}
        Some(_) | None => return failure(BAD_RECEIVER),
    }
    if num_args as usize != args {
        return failure(BAD_NUMBER_OF_ARGUMENTS);
    }
    Prim::Continue(vm.activate(method as u32, unit as u16, args, return_ip, Some(closure)))
}
