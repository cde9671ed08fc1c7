//! The system: standard output (the Transcript's) and standard error
//! (diagnostics), the command-line
//! arguments, globals (`Smalltalk at:ifAbsent:`, `at:put:`,
//! `includesKey:`), the clocks (240, UTC microseconds; 135,
//! milliseconds) and `exit:`.

use std::io::Write;

use super::{failure, int, top, Prim, Primitive, BAD_ARGUMENT};
use crate::memory::{self, Space};
use crate::object::Format;
use crate::vm::classes;

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive::named("primitiveStdoutWrite", 1, |vm, _, _| {
        // Characters are written in UTF-8.
        let [_, text] = top(vm);
        if !super::strings::is_string(text) {
            return failure(BAD_ARGUMENT);
        }
        let mut out = std::io::stdout().lock();
        let newline = match memory::bytes(&vm.heap, text) {
            Some(bytes) if bytes.is_ascii() => {
                let _ = out.write_all(bytes);
                bytes.contains(&b'\n')
            }
            _ => {
                let utf8 = memory::text(&vm.heap, text).unwrap_or_default();
                let _ = out.write_all(utf8.as_bytes());
                utf8.contains('\n')
            }
        };
        if newline {
            let _ = out.flush();
        }
        Prim::Value(text)
    }),
    // Diagnostics on standard error, in UTF-8 (what the Transcript wrote
    // so far goes first, so that the two read in order).
    Primitive::named("primitiveStderrWrite", 1, |vm, _, _| {
        let [_, text] = top(vm);
        if !super::strings::is_string(text) {
            return failure(BAD_ARGUMENT);
        }
        let _ = std::io::stdout().flush();
        let utf8 = memory::text(&vm.heap, text).unwrap_or_default();
        let _ = std::io::stderr().write_all(utf8.as_bytes());
        Prim::Value(text)
    }),
    // An Array of Strings.
    Primitive::named("primitiveArguments", 0, |vm, _, _| {
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
    }),
    // `at: name ifAbsent: aBlock`: fails when absent, for the block.
    Primitive::named("primitiveGlobalAt", 2, |vm, _, _| {
        let [_, name, _] = top(vm);
        let name = vm.symbol_text(name);
        match vm.universe.global(&name) {
            Some(v) if vm.universe.has_global(&name) => Prim::Value(v),
            _ => failure(BAD_ARGUMENT),
        }
    }),
    Primitive::named("primitiveGlobalAtPut", 2, |vm, _, _| {
        let [_, name, value] = top(vm);
        let name = vm.symbol_text(name);
        vm.set_global(&name, value);
        Prim::Value(value)
    }),
    Primitive::named("primitiveGlobalIncludes", 1, |vm, _, _| {
        let [_, name] = top(vm);
        let name = vm.symbol_text(name);
        Prim::Value(vm.universe.boolean(vm.universe.has_global(&name)))
    }),
    // UTC microseconds since 1901 (Pharo's epoch).
    Primitive::numbered(240, 0, |_, _, _| {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64);
        const UNIX_FROM_1901: i64 = 2_177_452_800_000_000;
        int(micros + UNIX_FROM_1901)
    }),
    // Milliseconds since the VM started.
    Primitive::numbered(135, 0, |vm, _, _| {
        int(vm.universe.started.elapsed().as_millis() as i64)
    }),
    Primitive::named("primitiveExit", 1, |vm, _, _| {
        let [_, code] = top(vm);
        match code.as_small_integer() {
            Some(code) => vm.exit(code as i32),
            None => failure(BAD_ARGUMENT),
        }
    }),
];
