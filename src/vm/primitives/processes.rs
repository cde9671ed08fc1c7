//! Processes and Semaphores: Pharo's primitives 85 (`signal`), 86
//! (`wait`), 87 (`resume`), 88 (`suspend`) and 167 (`yield`), and the
//! VM's own for what Pharo does with contexts or its Delay scheduler
//! (`terminate`, timed waits and signals, priorities, signalling an
//! exception in another Process). The scheduling itself is
//! `vm::scheduler`'s; a primitive that stops the running Process answers
//! its value on the stack, records where the Process goes on, and answers
//! a null instruction (see there).
//!
//! Switching is possible only in the outermost computation and when the
//! send has a continuation: elsewhere, a primitive that would have to
//! switch fails (`#'inappropriate operation'`).

use super::{failure, top, Prim, Primitive, BAD_ARGUMENT, BAD_RECEIVER, INAPPROPRIATE};
use crate::memory;
use crate::object::Oop;
use crate::vm::interpreter::Ip;
use crate::vm::scheduler::{Request, Slots, Timed};
use crate::vm::Vm;

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive::numbered(85, 0, signal),
    Primitive::numbered(86, 0, wait),
    Primitive::numbered(87, 0, resume),
    Primitive::numbered(88, 0, suspend),
    Primitive::numbered(167, 0, yield_processor),
    Primitive::named("primitiveSemaphoreWaitTimeout", 1, wait_timeout),
    Primitive::named("primitiveSemaphoreSignalAfter", 1, signal_after),
    Primitive::named(
        "primitiveSemaphoreCancelTimedSignals",
        0,
        cancel_timed_signals,
    ),
    Primitive::named("primitiveProcessTerminate", 0, terminate),
    Primitive::named("primitiveProcessIsTerminated", 0, is_terminated),
    Primitive::named("primitiveProcessPriority", 1, set_priority),
    Primitive::named("primitiveProcessSignalException", 1, signal_exception),
];

/// The slots, and the receiver when `check` accepts it.
fn receiver(vm: &mut Vm, args: usize, check: fn(&Vm, Oop, &Slots) -> bool) -> Option<(Oop, Slots)> {
    let s = vm.scheduling_slots()?;
    let r = vm.process.stack[vm.process.stack.len() - args - 1];
    check(vm, r, &s).then_some((r, s))
}

fn semaphore(vm: &Vm, r: Oop, s: &Slots) -> bool {
    vm.is_semaphore(r, s)
}

fn process(vm: &Vm, r: Oop, s: &Slots) -> bool {
    vm.is_process(r, s) && memory::slot_count(r) > 0
}

fn processor(vm: &Vm, r: Oop, s: &Slots) -> bool {
    vm.processor(s) == Some(r)
}

/// Whether the running Process may stop here (see the module's
/// documentation).
fn can_stop(vm: &Vm, resume: Ip) -> bool {
    vm.scheduler.can_switch() && !resume.is_null()
}

/// Answers `value` as the send's, then gives up the processor: the
/// Process goes on at `resume` when it runs again.
fn answer_and_switch(vm: &mut Vm, args: usize, value: Oop, resume: Ip, to: Option<Oop>) -> Prim {
    let receiver_at = vm.process.stack.len() - args - 1;
    vm.process.stack.truncate(receiver_at + 1);
    vm.process.stack[receiver_at] = value;
    vm.scheduler.request = Some(Request::Switch { resume, to });
    Prim::Continue(std::ptr::null())
}

/// Answers `value`, switching when `switch` (a preemption was arranged).
fn answer(vm: &mut Vm, args: usize, value: Oop, resume: Ip, switch: bool) -> Prim {
    if switch {
        answer_and_switch(vm, args, value, resume, None)
    } else {
        Prim::Value(value)
    }
}

/// A duration argument in milliseconds (a negative one is no time).
fn milliseconds(argument: Oop) -> Option<u64> {
    argument
        .as_small_integer()
        .and_then(|m| u64::try_from(m.max(0)).ok())
}

fn excess_signals(semaphore: Oop, s: &Slots) -> Option<i64> {
    memory::slot(semaphore, s.excess_signals)?.as_small_integer()
}

/// Takes one of the semaphore's excess signals, if it has one.
fn take_signal(vm: &mut Vm, semaphore: Oop, s: &Slots) -> bool {
    match excess_signals(semaphore, s) {
        Some(n) if n > 0 => {
            let less = Oop::small_integer(n - 1).expect("smaller");
            vm.store(semaphore, s.excess_signals, less);
            true
        }
        _ => false,
    }
}

/// Semaphore>>signal.
fn signal(vm: &mut Vm, args: usize, resume: Ip) -> Prim {
    let Some((sem, s)) = receiver(vm, args, semaphore) else {
        return failure(BAD_RECEIVER);
    };
    let switch = match vm.signal_semaphore(sem, &s) {
        Some(p) => vm.preempt_for(p, resume, &s),
        None => false,
    };
    answer(vm, args, sem, resume, switch)
}

/// Semaphore>>wait.
fn wait(vm: &mut Vm, args: usize, resume: Ip) -> Prim {
    let Some((sem, s)) = receiver(vm, args, semaphore) else {
        return failure(BAD_RECEIVER);
    };
    if take_signal(vm, sem, &s) {
        return Prim::Value(sem);
    }
    let Some(active) = vm.active_process(&s).filter(|_| can_stop(vm, resume)) else {
        return failure(INAPPROPRIATE);
    };
    vm.add_link(sem, active, false, &s);
    answer_and_switch(vm, args, sem, resume, None)
}

/// Semaphore>>waitTimeoutMilliseconds: ms — true when the time passed
/// before a signal came, false otherwise.
fn wait_timeout(vm: &mut Vm, args: usize, resume: Ip) -> Prim {
    let Some((sem, s)) = receiver(vm, args, semaphore) else {
        return failure(BAD_RECEIVER);
    };
    let [_, ms] = top(vm);
    let Some(ms) = milliseconds(ms) else {
        return failure(BAD_ARGUMENT);
    };
    if take_signal(vm, sem, &s) {
        return Prim::Value(vm.universe.false_object);
    }
    let Some(active) = vm.active_process(&s).filter(|_| can_stop(vm, resume)) else {
        return failure(INAPPROPRIATE);
    };
    vm.add_link(sem, active, false, &s);
    vm.add_timed(
        ms,
        Timed::Timeout {
            semaphore: sem,
            process: active,
        },
    );
    let no = vm.universe.false_object;
    answer_and_switch(vm, args, no, resume, None)
}

/// Semaphore>>signalAfterMilliseconds: ms — one signal, that much later.
fn signal_after(vm: &mut Vm, args: usize, _: Ip) -> Prim {
    let Some((sem, _)) = receiver(vm, args, semaphore) else {
        return failure(BAD_RECEIVER);
    };
    let [_, ms] = top(vm);
    let Some(ms) = milliseconds(ms) else {
        return failure(BAD_ARGUMENT);
    };
    vm.add_timed(ms, Timed::Signal(sem));
    Prim::Value(sem)
}

/// Semaphore>>cancelTimedSignals.
fn cancel_timed_signals(vm: &mut Vm, args: usize, _: Ip) -> Prim {
    let Some((sem, _)) = receiver(vm, args, semaphore) else {
        return failure(BAD_RECEIVER);
    };
    vm.cancel_timed_signals(sem);
    Prim::Value(sem)
}

/// Process>>primitiveResume: a suspended Process is ready again (and runs
/// at once when its priority is higher). Fails for the running Process,
/// one already on a list, and one that has ended.
fn resume(vm: &mut Vm, args: usize, resume: Ip) -> Prim {
    let Some((p, s)) = receiver(vm, args, process) else {
        return failure(BAD_RECEIVER);
    };
    let on_a_list = memory::slot(p, s.my_list) != Some(vm.universe.nil);
    if vm.active_process(&s) == Some(p) || on_a_list || vm.is_terminated(p, &s) {
        return failure(INAPPROPRIATE);
    }
    vm.make_ready(p, false, &s);
    let switch = vm.preempt_for(p, resume, &s);
    answer(vm, args, p, resume, switch)
}

/// Process>>suspend: answers the list the Process was on (nil if none);
/// the running Process stops until resumed.
fn suspend(vm: &mut Vm, args: usize, resume: Ip) -> Prim {
    let Some((p, s)) = receiver(vm, args, process) else {
        return failure(BAD_RECEIVER);
    };
    let nil = vm.universe.nil;
    if vm.active_process(&s) == Some(p) {
        if !can_stop(vm, resume) {
            return failure(INAPPROPRIATE);
        }
        return answer_and_switch(vm, args, nil, resume, None);
    }
    let list = vm.unlink(p, &s).unwrap_or(nil);
    Prim::Value(list)
}

/// ProcessorScheduler>>yield: the running Process goes behind the others
/// ready at its priority.
fn yield_processor(vm: &mut Vm, args: usize, resume: Ip) -> Prim {
    let Some((processor, s)) = receiver(vm, args, processor) else {
        return failure(BAD_RECEIVER);
    };
    let Some(active) = vm.active_process(&s) else {
        return Prim::Value(processor);
    };
    let priority = vm.priority_of(active, &s);
    let others = vm
        .ready_list(priority, &s)
        .is_some_and(|l| !vm.list_is_empty(l, &s));
    if !others || !can_stop(vm, resume) {
        return Prim::Value(processor);
    }
    vm.make_ready(active, false, &s);
    answer_and_switch(vm, args, processor, resume, None)
}

/// Process>>terminate: the Process unwinds its stack (its `ensure:` and
/// `ifCurtailed:` blocks run, in it) and ends. Terminating another
/// Process waits until it has ended.
fn terminate(vm: &mut Vm, args: usize, resume: Ip) -> Prim {
    let Some((p, s)) = receiver(vm, args, process) else {
        return failure(BAD_RECEIVER);
    };
    if vm.is_terminated(p, &s) {
        return Prim::Value(p);
    }
    if !can_stop(vm, resume) {
        return failure(INAPPROPRIATE);
    }
    let yes = vm.universe.true_object;
    vm.store(p, s.terminating, yes);
    if vm.active_process(&s) == Some(p) {
        return Prim::Continue(vm.terminate_active());
    }
    if vm.terminate_other(p, &s) {
        answer_and_switch(vm, args, p, resume, Some(p))
    } else {
        Prim::Value(p)
    }
}

/// Process>>isTerminated.
fn is_terminated(vm: &mut Vm, args: usize, _: Ip) -> Prim {
    let Some((p, s)) = receiver(vm, args, process) else {
        return failure(BAD_RECEIVER);
    };
    let answer = vm.is_terminated(p, &s);
    Prim::Value(vm.universe.boolean(answer))
}

/// Process>>primitivePriority: n (1 to 80): a ready Process moves to the
/// queue of its new priority; the running Process is preempted when a
/// ready one now has a higher priority, a ready one runs at once when it
/// now has a higher priority than the running one.
fn set_priority(vm: &mut Vm, args: usize, resume: Ip) -> Prim {
    let Some((p, s)) = receiver(vm, args, process) else {
        return failure(BAD_RECEIVER);
    };
    let [_, priority] = top(vm);
    if !priority
        .as_small_integer()
        .is_some_and(|n| (1..=crate::vm::scheduler::HIGHEST_PRIORITY).contains(&n))
    {
        return failure(BAD_ARGUMENT);
    }
    vm.store(p, s.priority, priority);
    let list = memory::slot(p, s.my_list).unwrap_or(vm.universe.nil);
    if vm.is_ready_list(list, &s) {
        vm.unlink(p, &s);
        vm.make_ready(p, false, &s);
    }
    let Some(active) = vm.active_process(&s) else {
        return Prim::Value(p);
    };
    let switch = if active == p {
        let higher = vm
            .highest_ready_priority(&s)
            .is_some_and(|top| top > vm.priority_of(p, &s));
        if higher && can_stop(vm, resume) {
            vm.make_ready(p, true, &s);
            vm.scheduler.request = Some(Request::Switch { resume, to: None });
            true
        } else {
            false
        }
    } else {
        vm.is_ready_list(memory::slot(p, s.my_list).unwrap_or(vm.universe.nil), &s)
            && vm.preempt_for(p, resume, &s)
    };
    answer(vm, args, p, resume, switch)
}

/// Process>>signalException: anException — signalled in the receiver
/// when it runs next; a waiting receiver stops waiting. Fails for the
/// running Process (its Smalltalk code signals it) and for one that has
/// ended.
fn signal_exception(vm: &mut Vm, args: usize, resume: Ip) -> Prim {
    let Some((p, s)) = receiver(vm, args, process) else {
        return failure(BAD_RECEIVER);
    };
    let [_, exception] = top(vm);
    if vm.active_process(&s) == Some(p) || !vm.signal_in(p, exception, &s) {
        return failure(INAPPROPRIATE);
    }
    let ready = vm.is_ready_list(memory::slot(p, s.my_list).unwrap_or(vm.universe.nil), &s);
    let switch = ready && vm.preempt_for(p, resume, &s);
    answer(vm, args, p, resume, switch)
}
