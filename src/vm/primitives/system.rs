//! The system: standard output (the Transcript's) and standard error
//! (diagnostics), the command-line arguments, the environment variables,
//! globals (`Smalltalk at:ifAbsent:`, `at:put:`, `includesKey:`,
//! `keys`, `removeKey:`), garbage collection (130, 131), the clocks (240, UTC microseconds; 135, milliseconds), the local time
//! zone's offset and `exit:`.

use std::io::Write;

use super::{failure, int, string_array, top, Prim, Primitive, BAD_ARGUMENT};
use crate::memory::{self, Space};
use crate::vm::Vm;

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
        let utf8 = memory::text(&vm.heap, text).unwrap_or_default();
        let _ = write_stderr(utf8.as_bytes());
        Prim::Value(text)
    }),
    // An Array of Strings.
    Primitive::named("primitiveArguments", 0, |vm, _, _| {
        let strings = vm.universe.arguments.clone();
        Prim::Value(string_array(vm, &strings))
    }),
    // The value of an environment variable, or nil.
    Primitive::named("primitiveEnvironmentAt", 1, |vm, _, _| {
        let [_, name] = top(vm);
        if !super::strings::is_string(name) {
            return failure(BAD_ARGUMENT);
        }
        let name = vm.symbol_text(name);
        if name.is_empty() || name.contains(['=', '\0']) {
            return Prim::Value(vm.universe.nil);
        }
        match std::env::var_os(&name) {
            Some(value) => Prim::Value(vm.new_string(Space::Young, &value.to_string_lossy())),
            None => Prim::Value(vm.universe.nil),
        }
    }),
    // The environment as an Array of `name=value` Strings.
    Primitive::named("primitiveEnvironment", 0, |vm, _, _| {
        let pairs: Vec<String> = std::env::vars_os()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect();
        Prim::Value(string_array(vm, &pairs))
    }),
    // The local time zone's offset from UTC, in seconds, at a time given
    // in seconds since 1970 (UTC): the C library's, which follows `TZ`.
    Primitive::named("primitiveLocalOffset", 1, |vm, _, _| {
        let [_, seconds] = top(vm);
        match seconds.as_small_integer() {
            Some(seconds) => int(local_offset(seconds)),
            None => failure(BAD_ARGUMENT),
        }
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
    // `Smalltalk keys`: the names of the globals that have a value, as
    // Symbols, sorted.
    Primitive::named("primitiveGlobalNames", 0, |vm, _, _| {
        let mut names: Vec<String> = vm
            .universe
            .globals
            .keys()
            .filter(|name| vm.universe.has_global(name))
            .cloned()
            .collect();
        names.sort();
        let symbols: Vec<_> = names.iter().map(|n| vm.intern(n)).collect();
        Prim::Value(vm.new_array(Space::Young, &symbols))
    }),
    // `Smalltalk removeKey:`: the global no longer has a value (code that
    // names it reads nil, as Pharo's Undeclared); answers the old value.
    Primitive::named("primitiveGlobalRemove", 1, |vm, _, _| {
        let [_, name] = top(vm);
        let name = vm.symbol_text(name);
        if !vm.universe.has_global(&name) {
            return failure(BAD_ARGUMENT);
        }
        let binding = vm.global_binding(&name);
        let old = memory::slot(binding, 1).unwrap_or(vm.universe.nil);
        vm.store(binding, 1, vm.universe.nil);
        vm.universe.defined_globals.remove(&name);
        Prim::Value(old)
    }),
    Primitive::named("primitiveGlobalIncludes", 1, |vm, _, _| {
        let [_, name] = top(vm);
        let name = vm.symbol_text(name);
        Prim::Value(vm.universe.boolean(vm.universe.has_global(&name)))
    }),
    // `Smalltalk garbageCollect`: a full collection; answers the bytes
    // free below the heap limit.
    Primitive::numbered(130, 0, |vm, _, _| {
        vm.collect_garbage();
        vm.collect_old_space();
        int(free_bytes(vm))
    }),
    // `Smalltalk garbageCollectMost`: a scavenge of the young objects.
    Primitive::numbered(131, 0, |vm, _, _| {
        vm.collect_garbage();
        int(free_bytes(vm))
    }),
    // FinalizationRegistry class>>primitiveFinalizationSemaphore:
    // aSemaphore: signalled after a collection that fired ephemerons.
    Primitive::named("primitiveSetFinalizationSemaphore", 1, |vm, _, _| {
        let [_, semaphore] = top(vm);
        if semaphore.is_immediate() {
            return failure(BAD_ARGUMENT);
        }
        vm.scheduler.finalization_semaphore = Some(semaphore);
        Prim::Value(vm.universe.nil)
    }),
    // The oldest ephemeron a collection fired that the program has not
    // taken yet, or nil.
    Primitive::named("primitiveNextFiredEphemeron", 0, |vm, _, _| {
        let next = vm.universe.fired_ephemerons.pop_front();
        Prim::Value(next.unwrap_or(vm.universe.nil))
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
    // VirtualMachine>>maxOldSpaceSize: bytes: sets the heap limit and
    // answers the one before. 0, as in Pharo, asks for no limit of the
    // program's own: the VM's (`--max-heap`, or half of what the machine
    // gives the process), which a program's limit never passes.
    Primitive::named("primitiveSetMaxHeap", 1, |vm, _, _| {
        let [_, bytes] = top(vm);
        let Some(bytes) = bytes.as_small_integer().filter(|b| *b >= 0) else {
            return failure(BAD_ARGUMENT);
        };
        let before = vm.heap.max_heap();
        vm.heap
            .lower_max_heap((bytes > 0).then_some(bytes as usize));
        int(before as i64)
    }),
    // VirtualMachine>>maxOldSpaceSize: the heap limit in bytes.
    Primitive::named("primitiveMaxHeap", 0, |vm, _, _| {
        int(vm.heap.max_heap() as i64)
    }),
    Primitive::named("primitiveExit", 1, |vm, _, _| {
        let [_, code] = top(vm);
        match code.as_small_integer() {
            Some(code) => vm.exit(code as i32),
            None => failure(BAD_ARGUMENT),
        }
    }),
];

/// Writes `bytes` on standard error, after what the Transcript wrote so
/// far (so that the two read in order).
pub(super) fn write_stderr(bytes: &[u8]) -> std::io::Result<()> {
    let _ = std::io::stdout().flush();
    std::io::stderr().write_all(bytes)
}

/// The bytes the heap may still grow by before its limit.
fn free_bytes(vm: &Vm) -> i64 {
    vm.heap.max_heap().saturating_sub(vm.heap.old_words() * 8) as i64
}

/// The local offset from UTC at `seconds` since 1970, per the C library
/// (0 when it cannot say).
fn local_offset(seconds: i64) -> i64 {
    let time = seconds as libc::time_t;
    unsafe extern "C" {
        // POSIX; the libc crate does not declare it.
        fn tzset();
    }
    // SAFETY: `tzset` reads TZ and the zone files; `localtime_r` fills
    // the `tm` given to it (a zeroed `tm` is a valid value) and touches
    // no shared state.
    unsafe {
        tzset();
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&time, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff
    }
}
