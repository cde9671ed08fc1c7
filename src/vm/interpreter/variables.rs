//! The operand stack and variables: pushes, stores (with Spur's
//! read-only check), pops, brace arrays, and the assignment statements
//! fused with their pop.

use super::*;

pub(crate) extern "C-unwind" fn push_self(vm: &mut Vm, ip: Ip) -> Ip {
    let receiver = vm.process.stack[vm.process.base];
    vm.push(receiver);
    next(ip)
}

pub(crate) extern "C-unwind" fn push_constant(vm: &mut Vm, ip: Ip) -> Ip {
    vm.push(instr(ip).operand_oop());
    next(ip)
}

pub(crate) extern "C-unwind" fn push_this_context(vm: &mut Vm, ip: Ip) -> Ip {
    let context = crate::vm::reflection::this_context(vm);
    vm.push(context);
    next(ip)
}

pub(crate) extern "C-unwind" fn push_temp(vm: &mut Vm, ip: Ip) -> Ip {
    let v = vm.process.stack[vm.slot_index(instr(ip).a)];
    vm.push(v);
    next(ip)
}

pub(crate) extern "C-unwind" fn store_temp(vm: &mut Vm, ip: Ip) -> Ip {
    let at = vm.slot_index(instr(ip).a);
    vm.process.stack[at] = vm.top();
    next(ip)
}

pub(crate) extern "C-unwind" fn push_remote(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    let vector = vm.process.stack[vm.slot_index(i.a)];
    match memory::inst_var(vector, i.b as usize) {
        Some(v) => {
            vm.push(v);
            next(ip)
        }
        None => vm.fail("internal error: bad temp vector access"),
    }
}

pub(crate) extern "C-unwind" fn store_remote(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    let vector = vm.process.stack[vm.slot_index(i.a)];
    let value = vm.top();
    if vm.store(vector, i.b as usize, value) {
        next(ip)
    } else {
        vm.fail("internal error: bad temp vector access")
    }
}

pub(crate) extern "C-unwind" fn push_inst_var(vm: &mut Vm, ip: Ip) -> Ip {
    let receiver = vm.process.stack[vm.process.base];
    match memory::inst_var(receiver, instr(ip).a as usize) {
        Some(v) => {
            vm.push(v);
            next(ip)
        }
        None => vm.fail("instance variable access out of the receiver's bounds"),
    }
}

pub(crate) extern "C-unwind" fn store_inst_var(vm: &mut Vm, ip: Ip) -> Ip {
    let receiver = vm.process.stack[vm.process.base];
    let value = vm.top();
    store_slot_then(vm, receiver, instr(ip).a as usize, value, next(ip))
}

/// Stores `value` into slot `slot` of `receiver` and continues at
/// `resume`, unless the receiver is read-only: then, as Pharo's VM does,
/// it sends `attemptToAssign: value withIndex: slot + 1` to the receiver
/// instead, and carries on at `resume` whatever that answers.
pub(super) fn store_slot_then(
    vm: &mut Vm,
    receiver: Oop,
    slot: usize,
    value: Oop,
    resume: Ip,
) -> Ip {
    if memory::is_read_only(receiver) {
        return attempt_to_assign(vm, receiver, slot, value, resume);
    }
    if vm.store(receiver, slot, value) {
        resume
    } else {
        vm.fail("instance variable store out of the receiver's bounds")
    }
}

pub(super) fn attempt_to_assign(
    vm: &mut Vm,
    object: Oop,
    slot: usize,
    value: Oop,
    resume: Ip,
) -> Ip {
    let selector = vm.intern("attemptToAssign:withIndex:");
    vm.push(code_address_oop(resume));
    vm.push(object);
    vm.push(value);
    vm.push(Oop::small_integer(slot as i64 + 1).expect("a slot index"));
    let continuation = vm.universe.continuations.resume_after_assignment();
    vm.send_selector(selector, 2, continuation, None, None)
}

/// Where `attemptToAssign:withIndex:` returns to: drops its answer and
/// resumes after the refused store.
pub(crate) extern "C-unwind" fn resume_after_assignment(vm: &mut Vm, _ip: Ip) -> Ip {
    vm.pop();
    let resume = vm.pop();
    code_address(resume)
}

/// The value slot of an association.
const BINDING_VALUE: usize = 1;

/// The binding (an Association) numbered `a` in the VM's table.
pub(super) fn binding(vm: &Vm, ip: Ip) -> Oop {
    vm.universe.bindings[instr(ip).a as usize]
}

pub(crate) extern "C-unwind" fn push_binding(vm: &mut Vm, ip: Ip) -> Ip {
    let value = memory::slot(binding(vm, ip), BINDING_VALUE).unwrap_or(vm.universe.nil);
    vm.push(value);
    next(ip)
}

pub(crate) extern "C-unwind" fn store_binding(vm: &mut Vm, ip: Ip) -> Ip {
    let value = vm.top();
    store_slot_then(vm, binding(vm, ip), BINDING_VALUE, value, next(ip))
}

pub(crate) extern "C-unwind" fn pop(vm: &mut Vm, ip: Ip) -> Ip {
    vm.pop();
    next(ip)
}

pub(crate) extern "C-unwind" fn dup(vm: &mut Vm, ip: Ip) -> Ip {
    let v = vm.top();
    vm.push(v);
    next(ip)
}

pub(crate) extern "C-unwind" fn make_array(vm: &mut Vm, ip: Ip) -> Ip {
    let n = instr(ip).a as usize;
    // Allocate first: the elements stay on the stack (a root) meanwhile.
    let array = vm.allocate(classes::ARRAY, Format::Indexable, n, vm.universe.nil.bits());
    vm.pop_into(array, 0, n);
    vm.push(array);
    next(ip)
}

// ----- fused pairs ------------------------------------------------------------
//
// Handlers that do the work of two instructions that often follow each
// other. Lowering puts one on the first instruction of the pair and leaves
// the second in place (a jump may target it), and the fused handler
// continues after the second: one dispatch instead of two.

/// `StoreTemp; Pop`: an assignment to a temporary as a statement.
pub(crate) extern "C-unwind" fn pop_into_temp(vm: &mut Vm, ip: Ip) -> Ip {
    store_temp(vm, ip);
    vm.pop();
    next(next(ip))
}

/// `StoreInstVar; Pop`: an assignment to an instance variable as a
/// statement.
pub(crate) extern "C-unwind" fn pop_into_inst_var(vm: &mut Vm, ip: Ip) -> Ip {
    let receiver = vm.process.stack[vm.process.base];
    let value = vm.pop();
    store_slot_then(vm, receiver, instr(ip).a as usize, value, next(next(ip)))
}
