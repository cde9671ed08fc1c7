//! Block evaluation: `value` to `value:value:value:value:` (201-205) and
//! `valueWithArguments:` (206) activate the closure's code; and what a
//! block tells of itself: its home method and context, whether it is
//! clean and whether it returns from its home (`^`).

use super::{
    failure, top, Prim, Primitive, BAD_ARGUMENT, BAD_NUMBER_OF_ARGUMENTS, BAD_RECEIVER, GENERIC,
};
use crate::memory::{self, class_index_of};
use crate::object::Oop;
use crate::vm::classes;
use crate::vm::interpreter::{
    Ip, CLOSURE_FIXED, CLOSURE_HOME, CLOSURE_METHOD, CLOSURE_NUM_ARGS, CLOSURE_RECEIVER,
    CLOSURE_UNIT,
};
use crate::vm::Vm;
use zag_compiler::threaded::BlockFacts;

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive::numbered(201, 0, value),
    Primitive::numbered(202, 1, value),
    Primitive::numbered(203, 2, value),
    Primitive::numbered(204, 3, value),
    Primitive::numbered(205, 4, value),
    Primitive::numbered(206, 1, |vm, _, return_ip| {
        let [closure, arguments] = top(vm);
        value_with_arguments(vm, closure, arguments, return_ip)
    }),
    // BlockClosure>>isClean (Pharo's clean block: it needs nothing of its
    // home).
    Primitive::named("primitiveBlockIsClean", 0, |vm, _, _| {
        with_unit(vm, |vm, _, facts| vm.universe.boolean(facts.clean))
    }),
    Primitive::named("primitiveBlockHasNonLocalReturn", 0, |vm, _, _| {
        with_unit(vm, |vm, _, facts| {
            vm.universe.boolean(facts.non_local_return)
        })
    }),
    // BlockClosure>>homeMethod: the CompiledMethod whose code it runs.
    Primitive::named("primitiveBlockHomeMethod", 0, |vm, _, _| {
        with_unit(vm, |vm, method, _| {
            vm.universe.methods[method as usize].object
        })
    }),
    // BlockClosure>>home: the Context of the activation that made it (dead
    // once that returned), or nil for a clean block, which has none (as
    // Pharo compiles them).
    Primitive::named("primitiveBlockHome", 0, |vm, _, _| {
        let [closure] = top(vm);
        let Some(home) = memory::slot(closure, CLOSURE_HOME).and_then(Oop::as_small_integer) else {
            return failure(BAD_RECEIVER);
        };
        with_unit(vm, |vm, method, facts| {
            if facts.clean {
                return vm.universe.nil;
            }
            // The closure, the receiver, stays on the stack meanwhile.
            vm.context_of_activation(home as u64, method, |vm| {
                let closure = *vm.process.stack.last().expect("the receiver");
                memory::slot(closure, CLOSURE_RECEIVER).unwrap_or(vm.universe.nil)
            })
        })
    }),
];

/// A block primitive's answer from the closure's method and what its
/// code unit tells (the closure is the receiver); fails for anything that
/// is not a well-formed closure.
fn with_unit(vm: &mut Vm, answer: impl FnOnce(&mut Vm, u32, BlockFacts) -> Oop) -> Prim {
    let [closure] = top(vm);
    match closure_code(vm, closure) {
        Some((method, unit, _)) => {
            let facts = vm.universe.methods[method as usize].units[unit as usize].facts;
            Prim::Value(answer(vm, method, facts))
        }
        None => failure(BAD_RECEIVER),
    }
}

/// The method and code unit a closure runs, and its argument count, when
/// its fields name a block's unit and its shape (arguments, copied values)
/// is that unit's: Smalltalk code can assign a closure's variables.
#[inline]
fn closure_code(vm: &Vm, closure: Oop) -> Option<(u32, u16, usize)> {
    if class_index_of(closure) != classes::BLOCK_CLOSURE {
        return None;
    }
    let field = |i| memory::slot(closure, i).and_then(Oop::as_small_integer);
    let method = u32::try_from(field(CLOSURE_METHOD)?).ok()?;
    let unit = u16::try_from(field(CLOSURE_UNIT)?)
        .ok()
        .filter(|u| *u > 0)?;
    let num_args = field(CLOSURE_NUM_ARGS)?;
    let code = vm
        .universe
        .methods
        .get(method as usize)?
        .units
        .get(unit as usize)?;
    // The copied values are the slots after the fixed ones: as many as
    // the code reads.
    let copied = memory::slot_count(closure).checked_sub(CLOSURE_FIXED);
    (code.num_args as i64 == num_args && copied == Some(code.num_copied as usize)).then_some((
        method,
        unit,
        num_args as usize,
    ))
}

/// `value`, `value:`... (201-205): activates the code of the closure
/// under its `args` arguments on the stack.
pub(crate) fn value(vm: &mut Vm, args: usize, return_ip: Ip) -> Prim {
    let closure = vm.process.stack[vm.process.stack.len() - args - 1];
    let Some((method, unit, num_args)) = closure_code(vm, closure) else {
        return failure(BAD_RECEIVER);
    };
    if num_args != args {
        return failure(BAD_NUMBER_OF_ARGUMENTS);
    }
    Prim::Continue(vm.activate(method, unit, args, return_ip, Some(closure)))
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
    let answer = value(vm, count, return_ip);
    if let Prim::Fail(_) = answer {
        let len = vm.process.stack.len();
        vm.process.stack.truncate(len - count);
        vm.process.stack.push(arguments);
    }
    answer
}
