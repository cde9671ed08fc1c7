//! Exceptions with Pharo's semantics, on the VM's frames.
//!
//! As in Pharo, `on:do:` is marked `<primitive: 199>` (a marker that always
//! fails, so its Smalltalk body runs); its arguments are the exception
//! class (or ExceptionSet) and the handler block, its first temporary is
//! `handlerActive`. Signalling searches those frames from the signal point
//! outwards, skipping handlers that are running, and runs the handler
//! block *on top of the stack*: the signalling frames stay, so the handler
//! can `resume:` (answer a value from `signal`), `return:` (unwind to the
//! `on:do:` frame and answer from it), `retry` (unwind and run the
//! protected block again), `pass` or `outer` (look for an enclosing
//! handler). A handler block that falls off its end returns its value from
//! the `on:do:`. Without a handler, the exception is sent `defaultAction`.
//!
//! The VM remembers each handled signal (its handler frame and where
//! `signal` returns to) until the handler is done, and finds it by the
//! exception's identity; the exception's `signalContext` variable shows
//! the record's id.

use super::classes::ClassIndex;
use super::interpreter::Ip;
use super::primitives::{self, Prim};
use super::unwind::Action;
use super::{ErrorKind, Vm, VmError};
use crate::memory::{self, class_index_of};
use crate::object::Oop;

/// The slot of an `on:do:` frame's `handlerActive` (after the receiver
/// and the two arguments).
pub(super) const HANDLER_ACTIVE: usize = 3;

/// A signal being handled.
#[derive(Clone, Copy, Debug)]
pub struct Signal {
    pub id: u64,
    pub exception: Oop,
    /// Id of the `on:do:` frame handling it.
    pub handler: u64,
    /// Where `signal` returns to when resumed, and the stack height then.
    pub resume_ip: Ip,
    pub resume_height: usize,
    /// Frames when signalled (the signalling frame is the last of them).
    pub frames: usize,
}

impl Vm {
    fn exception_slot(&self, name: &str) -> Option<usize> {
        let exception = self.universe.classes.index_of("Exception")?;
        self.universe
            .classes
            .get(exception)?
            .inst_vars
            .iter()
            .position(|v| v == name)
    }

    /// Whether `selector` (an exception class or an ExceptionSet) handles
    /// `exception`, as `handles:` answers for classes and sets.
    fn handles(&self, selector: Oop, exception: Oop) -> bool {
        if let Some(class) = self.universe.classes.index_of_object(selector) {
            return self
                .universe
                .classes
                .inherits_from(class_index_of(exception), class);
        }
        if Some(class_index_of(selector)) == self.universe.classes.index_of("ExceptionSet") {
            if let Some(list) = memory::slot(selector, 0) {
                let count = if list.is_pointer() {
                    memory::slot_count(list)
                } else {
                    0
                };
                return (0..count)
                    .filter_map(|i| memory::slot(list, i))
                    .any(|s| self.handles(s, exception));
            }
        }
        false
    }

    /// The innermost signal record of an exception being handled (an
    /// `outer` inside a handler makes a second one for the same exception).
    pub(super) fn signal_of(&self, exception: Oop) -> Option<Signal> {
        self.process
            .signals
            .iter()
            .rev()
            .find(|s| s.exception == exception)
            .copied()
    }

    /// Signals `exception` (on top of the stack, the receiver of `signal`
    /// or `outer`), searching handlers in frames below `below` (all frames
    /// when `None`).
    pub(crate) fn signal(&mut self, exception: Oop, below: Option<usize>, return_ip: Ip) -> Prim {
        let start = below.unwrap_or(self.process.frames.len());
        for i in (0..start).rev() {
            let f = self.process.frames[i];
            let m = &self.universe.methods[f.method as usize];
            if f.unit != 0
                || !m.has_primitive(primitives::HANDLER_MARKER)
                || m.units[0].num_args != 2
            {
                continue;
            }
            let active = f.base + HANDLER_ACTIVE;
            if self.process.stack[active] != self.universe.true_object {
                continue;
            }
            if !self.handles(self.process.stack[f.base + 1], exception) {
                continue;
            }
            self.universe.last_signal += 1;
            let id = self.universe.last_signal;
            self.process.signals.push(Signal {
                id,
                exception,
                handler: f.id,
                resume_ip: return_ip,
                resume_height: self.process.stack.len() - 1,
                frames: self.process.frames.len(),
            });
            if let Some(slot) = self.exception_slot("signalContext") {
                self.store(
                    exception,
                    slot,
                    Oop::small_integer(id as i64).expect("small"),
                );
            }
            self.process.stack[active] = self.universe.false_object;
            let handler = self.process.stack[f.base + 2];
            let continuation = self.universe.continuations.handler_completed();
            // The handler block runs on top: [handler, exception] replaces
            // the receiver of `signal`. A block without argument gets
            // `value`, one with an argument `value:`, anything else `cull:`.
            self.process.stack.pop();
            self.process.stack.push(handler);
            let arity = (class_index_of(handler) == super::classes::BLOCK_CLOSURE)
                .then(|| memory::slot(handler, super::interpreter::CLOSURE_NUM_ARGS))
                .flatten()
                .and_then(Oop::as_small_integer);
            return match arity {
                Some(0) => primitives::blocks::value(self, 0, continuation),
                Some(1) => {
                    self.process.stack.push(exception);
                    primitives::blocks::value(self, 1, continuation)
                }
                _ => {
                    self.process.stack.push(exception);
                    let cull = self.intern("cull:");
                    Prim::Continue(self.send_selector(cull, 1, continuation, None, None))
                }
            };
        }
        // Unhandled: the exception decides (`defaultAction`); its value is
        // the value of `signal`.
        let selector = self.intern("defaultAction");
        Prim::Continue(self.send_selector(selector, 0, return_ip, None, None))
    }

    /// Finishes the handling of `signal` by unwinding with `action`.
    pub(super) fn finish(&mut self, signal: Signal, target: u64, action: Action) -> Ip {
        self.process.signals.retain(|s| s.id < signal.id);
        self.unwind(target, action)
    }

    /// Forgets signals whose handler frames are gone.
    pub(crate) fn forget_dead_signals(&mut self) {
        let super::process::Process {
            frames, signals, ..
        } = &mut self.process;
        signals.retain(|s| {
            s.frames <= frames.len() && super::process::index_of_frame(frames, s.handler).is_some()
        });
    }
}

/// A handler block fell off its end: `return:` its value.
pub(crate) extern "C-unwind" fn handler_completed(vm: &mut Vm, _ip: Ip) -> Ip {
    let value = vm.process.stack.pop().expect("the handler's value");
    let Some(signal) = vm.process.signals.last().copied() else {
        return vm.fail("internal error: a handler completed with no signal in progress");
    };
    vm.finish(signal, signal.handler, Action::Return(value))
}

impl Vm {
    /// An unhandled Smalltalk error: stops the computation with the
    /// Smalltalk stack from the signalling method outwards.
    pub(super) fn fail_unhandled(&mut self, message: String) -> Ip {
        // Drop the frames of the exception's own methods (defaultAction...).
        let exception_class: Option<ClassIndex> = self.universe.classes.index_of("Exception");
        let mut frames = self.process.frames.len();
        while frames > 0 {
            let m = &self.universe.methods[self.process.frames[frames - 1].method as usize];
            let class =
                self.universe
                    .classes
                    .get(m.class)
                    .map(|c| if c.is_meta { c.partner } else { m.class });
            match (class, exception_class) {
                (Some(c), Some(e)) if self.universe.classes.inherits_from(c, e) => frames -= 1,
                _ => break,
            }
        }
        let trace = self.trace_of(&self.process.frames[..frames]);
        self.process.error = Some(VmError {
            message,
            trace,
            kind: ErrorKind::Unhandled,
        });
        std::ptr::null()
    }
}
