//! The entry points of exceptions and unwinding (the machinery is
//! `vm::exceptions` and `vm::unwind`): Pharo's markers, primitives that
//! always fail so that the body runs, and by which the unwinder and the
//! handler search recognise their frames (`ensure:` and `ifCurtailed:`,
//! 198; `on:do:`, 199); and the VM's `signal`, `outer`, `return:`,
//! `retry`, `resumeUnchecked:`, `signalerContext` and `unhandled:`
//! (receiver: the exception).

use super::{entry, failure, top, Prim, Primitive, PrimitiveFn, BAD_RECEIVER, UNSUPPORTED};
use crate::memory;
use crate::vm::unwind::Action;

pub(super) const PRIMITIVES: &[Primitive] = &[
    ENSURE,
    HANDLER,
    Primitive::named("primitiveSignal", 0, |vm, _, return_ip| {
        let [exception] = top(vm);
        vm.signal(exception, None, return_ip)
    }),
    // `outer` (and so `pass`): the handlers outside the current one.
    Primitive::named("primitiveOuter", 0, |vm, _, return_ip| {
        let [exception] = top(vm);
        match vm.signal_of(exception) {
            Some(s) => {
                let Some(below) = vm.process.frame_index(s.handler) else {
                    return failure(BAD_RECEIVER);
                };
                vm.signal(exception, Some(below), return_ip)
            }
            None => vm.signal(exception, None, return_ip),
        }
    }),
    Primitive::named("primitiveReturn", 1, |vm, _, _| {
        let [exception, value] = top(vm);
        match vm.signal_of(exception) {
            Some(s) => Prim::Continue(vm.finish_at_handler(s, Action::Return(value))),
            None => failure(BAD_RECEIVER),
        }
    }),
    Primitive::named("primitiveRetry", 0, |vm, _, _| {
        let [exception] = top(vm);
        match vm.signal_of(exception) {
            Some(s) => Prim::Continue(vm.finish_at_handler(s, Action::Restart)),
            None => failure(BAD_RECEIVER),
        }
    }),
    // `retryUsing: aBlock`: unwinds to the `on:do:` and runs it again
    // with aBlock as its protected block.
    Primitive::named("primitiveRetryUsing", 1, |vm, _, _| {
        let [exception, block] = top(vm);
        let Some(s) = vm.signal_of(exception) else {
            return failure(BAD_RECEIVER);
        };
        let Some(handler) = vm.process.frame_index(s.handler) else {
            return failure(BAD_RECEIVER);
        };
        let receiver = vm.process.frames[handler].base;
        vm.process.stack[receiver] = block;
        let target = vm.process.frame_ref(handler);
        Prim::Continue(vm.finish(s, target, Action::Restart))
    }),
    Primitive::named("primitiveResume", 1, |vm, _, _| resume(vm, false)),
    // `resumeEvaluating: aBlock`: the signal answers aBlock's value,
    // evaluated where the signal was sent (`resignalAs:`).
    Primitive::named("primitiveResumeEvaluating", 1, |vm, _, _| resume(vm, true)),
    // `isNested`: whether a handler outside the current one would handle
    // the exception too.
    Primitive::named("primitiveIsNested", 0, |vm, _, _| {
        let [exception] = top(vm);
        let Some(s) = vm.signal_of(exception) else {
            return failure(BAD_RECEIVER);
        };
        let Some(handler) = vm.process.frame_index(s.handler) else {
            return failure(BAD_RECEIVER);
        };
        let nested = vm.find_handler(exception, handler).is_some();
        Prim::Value(vm.universe.boolean(nested))
    }),
    Primitive::named("primitiveSignalerContext", 0, |vm, _, _| {
        let [exception] = top(vm);
        Prim::Value(vm.signaler_context(exception))
    }),
    // `unhandled: description`: stops the program with the description.
    Primitive::named("primitiveUnhandledError", 1, |vm, _, _| {
        let [exception, description] = top(vm);
        let description = memory::text(&vm.heap, description);
        let message = description.unwrap_or_else(|| vm.describe(exception));
        Prim::Continue(vm.fail_unhandled(message))
    }),
];

/// A marker fails, so the method's body runs.
const MARKER: PrimitiveFn = |_, _, _| failure(UNSUPPORTED);
const ENSURE: Primitive = Primitive::numbered(198, 1, MARKER);
const HANDLER: Primitive = Primitive::numbered(199, 2, MARKER);

/// The primitive marking `ensure:` and `ifCurtailed:`.
pub const ENSURE_MARKER: &Primitive = entry(ENSURE);
/// The primitive marking `on:do:`.
pub const HANDLER_MARKER: &Primitive = entry(HANDLER);

/// `resumeUnchecked:` (or, `evaluate`, `resumeEvaluating:`): unwinds to
/// the signal and answers the argument from it (or its value).
fn resume(vm: &mut crate::vm::Vm, evaluate: bool) -> Prim {
    let [exception, value] = top(vm);
    match vm.signal_of(exception) {
        Some(s) if s.frames <= vm.process.frames.len() => {
            let signaller = vm.process.frame_ref(s.frames - 1);
            let action = Action::Resume {
                value,
                height: s.resume_height,
                ip: s.resume_ip,
                evaluate,
            };
            Prim::Continue(vm.finish(s, signaller, action))
        }
        _ => failure(BAD_RECEIVER),
    }
}
