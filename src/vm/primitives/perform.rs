//! Sending a message named at run time: `perform:` with its arguments
//! (83, any count of them after the selector) and
//! `perform:withArguments:` (84); running a given CompiledMethod on a
//! receiver without a lookup (188).

use super::{
    failure, top, Arity, Key, Prim, Primitive, BAD_ARGUMENT, BAD_NUMBER_OF_ARGUMENTS, BAD_RECEIVER,
    GENERIC,
};
use crate::memory::{self, class_index_of};
use crate::object::Oop;
use crate::vm::classes;
use crate::vm::interpreter::Ip;
use crate::vm::Vm;

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive {
        key: Key::Number(83),
        arity: Arity::AtLeast(1),
        function: perform,
    },
    Primitive::numbered(84, 2, perform_with_arguments),
    Primitive {
        key: Key::Number(188),
        arity: Arity::AtLeast(2),
        function: execute_method,
    },
];

/// `perform: selector with: ...` (83): sends the selector with the
/// arguments that follow it. Fails when the count does not match.
fn perform(vm: &mut Vm, args: usize, return_ip: Ip) -> Prim {
    let at = vm.process.stack.len() - args;
    let selector = vm.process.stack[at];
    if !super::strings::is_symbol(selector) {
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
fn perform_with_arguments(vm: &mut Vm, _: usize, return_ip: Ip) -> Prim {
    let [receiver, selector, arguments] = top(vm);
    if !super::strings::is_symbol(selector) || class_index_of(arguments) != classes::ARRAY {
        return failure(BAD_ARGUMENT);
    }
    let count = memory::slot_count(arguments);
    if selector_arity(&vm.symbol_text(selector)) != count {
        return failure(BAD_NUMBER_OF_ARGUMENTS);
    }
    if !vm.process.stack.has_room_for(count) {
        return failure(GENERIC);
    }
    replace_with_message(vm, 3, receiver, arguments);
    Prim::Continue(vm.send_selector(selector, count, return_ip, None, None))
}

/// `anObject withArgs: anArray executeMethod: aCompiledMethod`, and
/// `Object class>>receiver:withArguments:executeMethod:` (188): runs the
/// method on the receiver as if it had been found by a send. Fails unless
/// the receiver is an instance of the method's class (or a subclass), so
/// the method's code only meets the objects it was compiled for.
fn execute_method(vm: &mut Vm, args: usize, return_ip: Ip) -> Prim {
    if args > 3 {
        return failure(BAD_NUMBER_OF_ARGUMENTS);
    }
    let [receiver, arguments, method] = top(vm);
    let Some(m) = vm.method_index(method) else {
        return failure(BAD_ARGUMENT);
    };
    if class_index_of(arguments) != classes::ARRAY {
        return failure(BAD_ARGUMENT);
    }
    let count = memory::slot_count(arguments);
    let definition = &vm.universe.methods[m as usize];
    if definition.units[0].num_args as usize != count {
        return failure(BAD_NUMBER_OF_ARGUMENTS);
    }
    if !vm
        .universe
        .classes
        .inherits_from(class_index_of(receiver), definition.class)
    {
        return failure(BAD_RECEIVER);
    }
    if !vm.process.stack.has_room_for(count) {
        return failure(GENERIC);
    }
    vm.process.sent_selector = definition.selector;
    replace_with_message(vm, args + 1, receiver, arguments);
    Prim::Continue(vm.invoke(m, count, return_ip))
}

/// Replaces the top `taken` values of the stack with the receiver and the
/// elements of `arguments`, an Array, as a send leaves them.
fn replace_with_message(vm: &mut Vm, taken: usize, receiver: Oop, arguments: Oop) {
    let len = vm.process.stack.len();
    vm.process.stack.truncate(len - taken);
    vm.process.stack.push(receiver);
    for i in 0..memory::slot_count(arguments) {
        let v = memory::slot(arguments, i).expect("in bounds");
        vm.process.stack.push(v);
    }
}

/// The number of arguments a selector takes.
fn selector_arity(selector: &str) -> usize {
    match selector.chars().next() {
        Some(c) if crate::vm::is_binary_selector_char(c) => 1,
        _ => selector.bytes().filter(|&b| b == b':').count(),
    }
}
