//! The Rust functions machine code calls: invoking a method the inline
//! cache named, activating a block, comparing byte strings as the
//! interpreter does, and the write barrier's slow path. Each takes the VM
//! and plain words (Oops as `u64`), and answers a word or where to go on.

use crate::vm::method::MethodRef;
use crate::vm::Vm;

/// A send whose inline cache held `method` for the receiver's class (the
/// machine code checked it): invokes it as the interpreter does. Answers
/// where to go on: the callee's first instruction, or `return_ip` when it
/// answered at once.
pub(crate) extern "C-unwind" fn invoke_cached(
    vm: &mut Vm,
    method: u64,
    args: u64,
    return_ip: crate::vm::interpreter::Ip,
    selector: u64,
) -> crate::vm::interpreter::Ip {
    // SAFETY: the operand of a send is its selector, an object.
    vm.process.sent_selector = unsafe { crate::object::Oop::from_bits(selector) };
    vm.invoke(method as MethodRef, args as usize, return_ip)
}

/// A send of `value`... (primitives 201-205) whose cache says the
/// receiver's class is BlockClosure: the block's activation (its first
/// instruction), or, when the primitive fails, `method` invoked as the
/// interpreter invokes it.
pub(crate) extern "C-unwind" fn value_block(
    vm: &mut Vm,
    method: u64,
    args: u64,
    return_ip: crate::vm::interpreter::Ip,
    selector: u64,
) -> crate::vm::interpreter::Ip {
    match crate::vm::primitives::blocks::value(vm, args as usize, return_ip) {
        crate::vm::primitives::Prim::Continue(ip) => ip,
        _ => invoke_cached(vm, method, args, return_ip, selector),
    }
}

/// `=` of `a` and `b` at the send (or fused compare-and-jump) at `ip`
/// when they are byte strings and the site's cache holds the string
/// comparison for the receiver's class, as the interpreter answers it: 0
/// for no answer (then the send runs), 1 for false, 2 for true.
pub(crate) extern "C" fn string_equality(
    vm: &Vm,
    ip: crate::vm::interpreter::Ip,
    a: u64,
    b: u64,
) -> u64 {
    // SAFETY: machine code passes the operands, Oops.
    let (a, b) = unsafe {
        (
            crate::object::Oop::from_bits(a),
            crate::object::Oop::from_bits(b),
        )
    };
    match crate::vm::interpreter::cached_string_equality(vm, ip, a, b) {
        None => 0,
        Some(equal) => 1 + equal as u64,
    }
}

/// The write barrier, for machine code that stored `value` (a young
/// object) into `object`.
pub(crate) extern "C" fn remember(vm: &mut Vm, object: u64, value: u64) {
    // SAFETY: machine code passes the Oops it stored.
    let (object, value) = unsafe {
        (
            crate::object::Oop::from_bits(object),
            crate::object::Oop::from_bits(value),
        )
    };
    vm.heap.write_barrier(object, value);
}
