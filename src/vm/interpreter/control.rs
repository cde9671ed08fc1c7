//! Control flow: jumps, conditional jumps, and comparisons fused with the
//! conditional jump that follows them.

use super::*;

/// A comparison of two SmallIntegers (or immediate floats) followed by a
/// conditional jump: the Boolean is never pushed. Anything else is the
/// ordinary send, and the jump instruction after it takes its result.
pub(super) fn compare_and_jump(
    vm: &mut Vm,
    ip: Ip,
    integers: fn(i64, i64) -> bool,
    floats: fn(f64, f64) -> bool,
    equality: bool,
    jump_when: bool,
) -> Ip {
    let n = vm.process.stack.len();
    let (a, b) = (vm.process.stack[n - 2], vm.process.stack[n - 1]);
    let result = match (a.as_small_integer(), b.as_small_integer()) {
        (Some(x), Some(y)) => Some(integers(x, y)),
        _ => match (as_float(a), as_float(b)) {
            (Some(x), Some(y)) if a.is_small_float() || b.is_small_float() => Some(floats(x, y)),
            _ if equality => cached_string_equality(vm, ip, a, b),
            _ => None,
        },
    };
    match result {
        Some(r) => {
            vm.process.stack.truncate(n - 2);
            branch(ip, r == jump_when)
        }
        None => send(vm, ip),
    }
}

/// `==` followed by a conditional jump.
pub(super) fn identical_and_jump(vm: &mut Vm, ip: Ip, jump_when: bool) -> Ip {
    let b = vm.pop();
    let a = vm.pop();
    branch(ip, (a == b) == jump_when)
}

pub(crate) extern "C-unwind" fn identical_jump_if_true(vm: &mut Vm, ip: Ip) -> Ip {
    identical_and_jump(vm, ip, true)
}

pub(crate) extern "C-unwind" fn identical_jump_if_false(vm: &mut Vm, ip: Ip) -> Ip {
    identical_and_jump(vm, ip, false)
}

/// After the comparison at `ip`, fused with the conditional jump that
/// follows it: the jump's target when `taken`, else the instruction after
/// the jump.
pub(super) fn branch(ip: Ip, taken: bool) -> Ip {
    let jump = next(ip);
    if taken {
        jump_target(jump)
    } else {
        next(jump)
    }
}

macro_rules! compare_and_jumps {
    ($($if_true:ident, $if_false:ident => $int:path, $float:path, $equality:literal;)*) => {
        $(pub(crate) extern "C-unwind" fn $if_true(vm: &mut Vm, ip: Ip) -> Ip {
            compare_and_jump(vm, ip, $int, $float, $equality, true)
        }
        pub(crate) extern "C-unwind" fn $if_false(vm: &mut Vm, ip: Ip) -> Ip {
            compare_and_jump(vm, ip, $int, $float, $equality, false)
        })*
    };
}

compare_and_jumps! {
    less_jump_if_true, less_jump_if_false => small_integer::less, float::less, false;
    greater_jump_if_true, greater_jump_if_false => small_integer::greater, float::greater, false;
    less_or_equal_jump_if_true, less_or_equal_jump_if_false =>
        small_integer::less_or_equal, float::less_or_equal, false;
    greater_or_equal_jump_if_true, greater_or_equal_jump_if_false =>
        small_integer::greater_or_equal, float::greater_or_equal, false;
    equal_jump_if_true, equal_jump_if_false => small_integer::equal, float::equal, true;
    not_equal_jump_if_true, not_equal_jump_if_false =>
        small_integer::not_equal, float::not_equal, false;
}

/// Jump targets are relative to the jump instruction.
pub(super) fn jump_target(ip: Ip) -> Ip {
    // SAFETY: lowering computed the offset from a target inside the unit.
    unsafe { ip.offset(instr(ip).a as i32 as isize) }
}

pub(crate) extern "C-unwind" fn jump(_vm: &mut Vm, ip: Ip) -> Ip {
    jump_target(ip)
}

/// A loop's back-edge: counts towards the JIT's threshold on the frame's
/// method, as an invocation does. A loop that makes no activation answers
/// the stack's alarm here: it signals OutOfMemory when the heap passed its
/// limit, and ends the program when the process received a signal (or
/// signals UserInterrupt, in the REPL).
pub(crate) extern "C-unwind" fn jump_back(vm: &mut Vm, ip: Ip) -> Ip {
    let target = jump_target(ip);
    if !vm.process.stack.alarm.is_quiet() {
        if let Some(safepoint) = vm.pending_safepoint() {
            return vm.answer_safepoint(safepoint, target);
        }
    }
    let frame = vm.frame();
    let (method, unit) = (frame.method, frame.unit);
    let count = vm.universe.info(method).count_invocation();
    if count < vm.universe.jit_trigger {
        return target;
    }
    hot_back_edge(vm, method, unit, ip, target, count)
}

/// A back-edge in a hot method: the method is compiled when it just
/// turned hot, and an activation still running the code its unit had
/// before goes on at the same instruction of the unit's code now (its
/// machine code: on-stack replacement).
#[cold]
#[inline(never)]
fn hot_back_edge(vm: &mut Vm, method: MethodRef, unit: u16, ip: Ip, target: Ip, count: u64) -> Ip {
    if count == vm.universe.jit_trigger {
        turned_hot(vm, method);
    }
    let code = &vm.universe.methods[method as usize].units[unit as usize].code;
    if code.as_ptr_range().contains(&ip) {
        return target;
    }
    match vm.universe.replaced_code_start(ip) {
        Some(start) => {
            let index = (target as usize - start as usize) / std::mem::size_of::<Instr>();
            let Some(now) = code.get(index).map(|i| i as Ip) else {
                return target;
            };
            #[cfg(feature = "jit")]
            {
                vm.universe.jit.stats.on_stack_replacements += 1;
            }
            now
        }
        None => target,
    }
}

pub(super) fn jump_if_boolean(vm: &mut Vm, ip: Ip, when: bool) -> Ip {
    let v = vm.pop();
    if v == vm.universe.true_object {
        if when {
            jump_target(ip)
        } else {
            next(ip)
        }
    } else if v == vm.universe.false_object {
        if when {
            next(ip)
        } else {
            jump_target(ip)
        }
    } else {
        must_be_boolean(vm, v, ip)
    }
}

/// A conditional jump found `value`, not a Boolean: sends it
/// `mustBeBoolean` (which signals NonBooleanReceiver, as Pharo's does) and
/// runs the jump again on the answer (`must_be_boolean_answered`).
#[cold]
#[inline(never)]
fn must_be_boolean(vm: &mut Vm, value: Oop, jump: Ip) -> Ip {
    vm.push(code_address_oop(jump));
    vm.push(value);
    let selector = vm.intern("mustBeBoolean");
    let continuation = vm.universe.continuations.must_be_boolean_answered();
    vm.send_selector(selector, 0, continuation, None, None)
}

/// `mustBeBoolean` answered: the conditional jump that sent it runs again
/// on the answer, unless that is not a Boolean either (a `mustBeBoolean`
/// of the program's own), which would send it again for ever.
pub(crate) extern "C-unwind" fn must_be_boolean_answered(vm: &mut Vm, _ip: Ip) -> Ip {
    let answer = vm.pop();
    let jump = code_address(vm.pop());
    if answer != vm.universe.true_object && answer != vm.universe.false_object {
        return vm.fail(format!(
            "NonBooleanReceiver: mustBeBoolean answered {}, not a Boolean",
            vm.describe(answer)
        ));
    }
    vm.push(answer);
    jump
}

pub(crate) extern "C-unwind" fn jump_if_true(vm: &mut Vm, ip: Ip) -> Ip {
    jump_if_boolean(vm, ip, true)
}

pub(crate) extern "C-unwind" fn jump_if_false(vm: &mut Vm, ip: Ip) -> Ip {
    jump_if_boolean(vm, ip, false)
}

pub(crate) extern "C-unwind" fn jump_if_nil(vm: &mut Vm, ip: Ip) -> Ip {
    if vm.pop() == vm.universe.nil {
        jump_target(ip)
    } else {
        next(ip)
    }
}

pub(crate) extern "C-unwind" fn jump_if_not_nil(vm: &mut Vm, ip: Ip) -> Ip {
    if vm.pop() != vm.universe.nil {
        jump_target(ip)
    } else {
        next(ip)
    }
}
