//! Unit tests of the handlers: short hand-built instruction sequences run
//! on a VM with no classes at all (no image), so each test sees exactly
//! the handlers it names.

use zag_compiler::lowering::Handler as H;

use super::*;
use crate::vm::method::{Code, Method, MethodSource, Unit};

fn int(value: i64) -> u64 {
    Oop::small_integer(value).unwrap().bits()
}

/// An instruction with operand and `a`.
fn i(handler: H, operand: u64, a: i32) -> Instr {
    Instr::new(handler, operand, a as u32, 0)
}

/// Runs the code `make` makes (in the VM it runs in) as the body of a
/// method with `temps` temporaries, sent to nil from Rust (the method
/// entry is added in front of it).
fn run_code(make: impl FnOnce(&mut Vm) -> Vec<Instr>, temps: u16) -> (Vm, Result<Oop, VmError>) {
    let mut vm = Vm::new();
    let selector = vm.intern("test");
    let mut body = vec![i(H::method_entry, selector.bits(), 0)];
    body.extend(make(&mut vm));
    let unit = Unit {
        num_args: 0,
        num_copied: 0,
        num_temps: temps,
        max_stack: 8,
        facts: Default::default(),
        code: Code::Owned(body.into_boxed_slice()),
    };
    let method = Method::new(
        &vm,
        selector,
        classes::UNDEFINED_OBJECT,
        None,
        None,
        Quick::No,
        vec![unit],
        MethodSource::Image(""),
    );
    let method = vm.register(method).unwrap();
    let nil = vm.universe.nil;
    vm.process.stack.push(nil);
    vm.process.sent_selector = selector;
    let ip = vm.invoke(method, 0, std::ptr::null());
    let result = vm.run_invoked(ip);
    (vm, result)
}

fn answer(code: &[Instr], temps: u16) -> Oop {
    let (vm, result) = run_code(|_| code.to_vec(), temps);
    let answer = result.unwrap();
    assert_eq!(vm.process.stack.len(), 0, "the stack is balanced");
    assert_eq!(vm.process.frames.len(), 0, "every frame returned");
    answer
}

#[test]
fn constants_and_special_sends_of_small_integers() {
    let code = [
        i(H::push_constant, int(3), 0),
        i(H::push_constant, int(4), 0),
        i(H::send_add, 0, 0),
        i(H::push_constant, int(5), 0),
        i(H::send_multiply, 0, 0),
        i(H::return_top, 0, 0),
    ];
    assert_eq!(answer(&code, 0), Oop::small_integer(35).unwrap());
}

#[test]
fn temporaries_and_fused_assignments() {
    // t := 5. ^ t * t  (the fused assignment skips the pop after it)
    let code = [
        i(H::push_constant, int(5), 0),
        i(H::pop_into_temp, 0, 0),
        i(H::pop, 0, 0),
        i(H::push_temp, 0, 0),
        i(H::dup, 0, 0),
        i(H::send_multiply, 0, 0),
        i(H::return_top, 0, 0),
    ];
    assert_eq!(answer(&code, 1), Oop::small_integer(25).unwrap());
}

/// `| i sum | i := 1. sum := 0. [i <= 10] whileTrue: [sum := sum + i.
/// i := i + 1]. ^ sum`, with `temp` and `constant` the handlers of
/// the pushes (chained or not).
fn sum_loop(temp: H, constant: H) -> [Instr; 23] {
    [
        i(constant, int(1), 0), // 1
        i(H::pop_into_temp, 0, 0),
        i(H::pop, 0, 0),
        i(constant, int(0), 0), // 4
        i(H::pop_into_temp, 0, 1),
        i(H::pop, 0, 0),
        i(temp, 0, 0), // 7: the loop test
        i(constant, int(10), 0),
        i(H::less_or_equal_jump_if_false, 0, 0),
        i(H::jump_if_false, 0, 22 - 10), // 10: to the return
        i(temp, 0, 1),
        i(temp, 0, 0),
        i(H::send_add, 0, 0),
        i(H::pop_into_temp, 0, 1),
        i(H::pop, 0, 0),
        i(temp, 0, 0), // 16
        i(constant, int(1), 0),
        i(H::send_add, 0, 0),
        i(H::pop_into_temp, 0, 0),
        i(H::pop, 0, 0),
        i(H::jump, 0, 7 - 21), // 21: back to the test
        i(temp, 0, 1),         // 22
        i(H::return_top, 0, 0),
    ]
}

#[test]
fn loops_with_fused_compare_and_jump() {
    let plain = sum_loop(H::push_temp, H::push_constant);
    assert_eq!(answer(&plain, 2), Oop::small_integer(55).unwrap());
    // Chained pushes run their successor themselves: the same answer.
    let chained = sum_loop(H::push_temp_chained, H::push_constant_chained);
    assert_eq!(answer(&chained, 2), Oop::small_integer(55).unwrap());
}

#[test]
fn fused_returns() {
    assert_eq!(
        answer(&[i(H::return_constant, int(9), 0)], 0),
        Oop::small_integer(9).unwrap()
    );
    let vm = Vm::new();
    assert_eq!(answer(&[i(H::return_self, 0, 0)], 0), vm.universe.nil);
    let code = [
        i(H::push_constant, int(2), 0),
        i(H::pop_into_temp, 0, 0),
        i(H::pop, 0, 0),
        i(H::return_temp, 0, 0),
    ];
    assert_eq!(answer(&code, 1), Oop::small_integer(2).unwrap());
}

#[test]
fn identity_and_nil_tests_branch() {
    // ^ (3 == 3) ifTrue: [1] ifFalse: [2], then the same with nil tests.
    let code = [
        i(H::push_constant, int(3), 0),
        i(H::push_constant, int(3), 0),
        i(H::identical_jump_if_false, 0, 0),
        i(H::jump_if_false, 0, 2),
        i(H::return_constant, int(1), 0),
        i(H::return_constant, int(2), 0),
    ];
    assert_eq!(answer(&code, 0), Oop::small_integer(1).unwrap());
    let nil = Vm::new().universe.nil.bits();
    let code = [
        i(H::push_constant, nil, 0),
        i(H::jump_if_nil, 0, 2),
        i(H::return_constant, int(1), 0),
        i(H::return_constant, int(2), 0),
    ];
    assert_eq!(answer(&code, 0), Oop::small_integer(2).unwrap());
}

/// A conditional jump on a non-Boolean sends it `mustBeBoolean` (the
/// kernel's signals NonBooleanReceiver; this VM has no classes).
#[test]
fn a_non_boolean_condition_is_sent_must_be_boolean() {
    let code = [
        i(H::push_constant, int(1), 0),
        i(H::jump_if_true, 0, 1),
        i(H::return_top, 0, 0),
    ];
    let (_, result) = run_code(|_| code.to_vec(), 0);
    let error = result.unwrap_err();
    assert!(
        error
            .message
            .contains("SmallInteger>>mustBeBoolean: message not understood"),
        "{}",
        error.message
    );
    assert_eq!(error.trace.len(), 1);
}

#[test]
fn an_overflowing_special_send_is_a_real_send() {
    // SmallInteger maxVal + 1 overflows: the handler sends #+, which a VM
    // without classes does not understand.
    let code = |vm: &mut Vm| {
        vec![
            i(H::push_constant, int(Oop::SMALL_INTEGER_MAX), 0),
            i(H::push_constant, int(1), 0),
            i(H::send_add, vm.intern("+").bits(), 0),
            i(H::return_top, 0, 0),
        ]
    };
    let (_, result) = run_code(code, 0);
    let error = result.unwrap_err();
    assert!(
        error.message.ends_with(">>+: message not understood"),
        "{}",
        error.message
    );
}

#[test]
fn the_method_entry_checks_the_selector_and_counts() {
    let (vm, result) = run_code(|_| vec![i(H::return_self, 0, 0)], 0);
    assert!(result.is_ok());
    assert_eq!(vm.universe.info(0).invocations.get(), 1);
}
