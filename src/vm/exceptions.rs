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
//! exception's identity (`signalerContext` too, which makes the Context of
//! the signalling activation on demand).
//!
//! The search does not walk the whole stack at each signal (a million
//! frames deep, an error signalled at every level would take hours): the
//! `on:do:` frames found are kept with the extent of the stack already
//! scanned ([`HandlerFrames`]), so a signal scans only the frames pushed
//! since the last one.

use super::classes::ClassIndex;
use super::interpreter::Ip;
use super::primitives::{self, Prim};
use super::process::FrameRef;
use super::unwind::{Action, Reenable};
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
    /// An `outer` (or `pass`) from its handler found no handler further
    /// out, and the exception's `defaultAction` runs: as Pharo's
    /// `handlerContext` is then nil, the handler's exception environment
    /// no longer applies (see `find_handler`).
    pub passed: bool,
}

/// The `on:do:` frames among the frames scanned so far, by index and
/// activation id, outermost first. Frames are sorted by id and a frame is
/// only ever replaced by popping it, so while the last scanned frame is
/// still at its index, every frame below it is unchanged.
#[derive(Default)]
pub struct HandlerFrames {
    found: Vec<(usize, u64)>,
    /// Frames `0..scanned` were scanned; the last of them had id
    /// `scanned_id`.
    scanned: usize,
    scanned_id: u64,
}

/// How deep ExceptionSets may nest in a handler's selector.
const MAX_SET_NESTING: usize = 64;

impl Vm {
    /// Brings [`HandlerFrames`] up to date with the frames: forgets what
    /// was popped, scans what was pushed since for `on:do:` activations
    /// (unit 0 of a two-argument method marked with the handler
    /// primitive).
    fn update_handler_frames(&mut self) {
        let frames = &self.process.frames;
        let index = &mut self.process.handler_frames;
        let unchanged = |n: usize, id: u64| n == 0 || frames.get(n - 1).is_some_and(|f| f.id == id);
        if !unchanged(index.scanned, index.scanned_id) {
            while let Some(&(i, id)) = index.found.last() {
                if unchanged(i + 1, id) {
                    break;
                }
                index.found.pop();
            }
            index.scanned = index.found.last().map_or(0, |&(i, _)| i + 1);
            index.scanned_id = index.found.last().map_or(0, |&(_, id)| id);
        }
        for i in index.scanned..frames.len() {
            let f = &frames[i];
            let m = &self.universe.methods[f.method as usize];
            if f.unit == 0
                && m.has_primitive(primitives::HANDLER_MARKER)
                && m.units[0].num_args == 2
            {
                index.found.push((i, f.id));
            }
        }
        index.scanned = frames.len();
        index.scanned_id = frames.last().map_or(0, |f| f.id);
    }

    /// Whether `selector` (an exception class or an ExceptionSet) handles
    /// `exception`, as `handles:` answers for classes and sets (an
    /// ExceptionSetWithExclusions less its exclusions). Sets nest at most
    /// [`MAX_SET_NESTING`] deep: a set that contains itself handles
    /// nothing more.
    fn handles(&self, selector: Oop, exception: Oop) -> bool {
        self.handles_within(selector, exception, MAX_SET_NESTING)
    }

    fn handles_within(&self, selector: Oop, exception: Oop, depth: usize) -> bool {
        let classes = &self.universe.classes;
        if let Some(class) = classes.index_of_object(selector) {
            return classes.inherits_from(class_index_of(exception), class);
        }
        let class = class_index_of(selector);
        let is_set = classes
            .index_of("ExceptionSet")
            .is_some_and(|set| classes.inherits_from(class, set));
        if !is_set || depth == 0 {
            return false;
        }
        let slot = |name| {
            classes
                .get(class)
                .and_then(|c| c.inst_vars.position(name))
                .and_then(|i| memory::slot(selector, i))
        };
        let handled_by = |set_or_list: Oop| self.handles_within(set_or_list, exception, depth - 1);
        let included = slot("exceptions").is_some_and(|list| {
            let count = if list.is_pointer() {
                memory::slot_count(list)
            } else {
                0
            };
            (0..count)
                .filter_map(|i| memory::slot(list, i))
                .any(handled_by)
        });
        let excluded = slot("exclusions").is_some_and(handled_by);
        included && !excluded
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
        if let Some(i) = self.find_handler(exception, start) {
            let f = self.process.frames[i];
            let active = f.base + HANDLER_ACTIVE;
            self.universe.last_signal += 1;
            let id = self.universe.last_signal;
            self.process.signals.push(Signal {
                id,
                exception,
                handler: f.id,
                resume_ip: return_ip,
                resume_height: self.process.stack.len() - 1,
                frames: self.process.frames.len(),
                passed: false,
            });
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
        if below.is_some() {
            if let Some(s) = self
                .process
                .signals
                .iter_mut()
                .rev()
                .find(|s| s.exception == exception)
            {
                s.passed = true;
            }
        }
        let selector = self.intern("defaultAction");
        if !self.is_error(exception) {
            return Prim::Continue(self.send_selector(selector, 0, return_ip, None, None));
        }
        self.forget_finished_default_actions();
        if self.process.unhandled.len() >= RECURSIVE_ERRORS {
            return Prim::Continue(self.recursive_error(exception));
        }
        let Some(signaller) = self.process.frames.last() else {
            return Prim::Continue(self.send_selector(selector, 0, return_ip, None, None));
        };
        self.process.unhandled.push(Unhandled {
            exception,
            signaller: self.process.frames.len() - 1,
            signaller_id: signaller.id,
        });
        // Where `signal` returns to goes below the receiver, for
        // `default_action_completed`.
        let resume = super::interpreter::code_address_oop(return_ip);
        self.process.stack.pop();
        self.process.stack.push(resume);
        self.process.stack.push(exception);
        let continuation = self.universe.continuations.default_action_completed();
        Prim::Continue(self.send_selector(selector, 0, continuation, None, None))
    }

    /// The frame of the innermost active `on:do:` below frame `start` that
    /// handles `exception`.
    ///
    /// As in Pharo (`Context>>findNextHandlerContext`), a search that
    /// starts in a handler block skips the `on:do:` frames between the
    /// signal being handled and its handler: the handler block runs in its
    /// handler's exception environment, not in the signaller's.
    pub(super) fn find_handler(&mut self, exception: Oop, start: usize) -> Option<usize> {
        self.update_handler_frames();
        // Walks down from `start` as Pharo's search does: at the frame that
        // signalled an exception whose handler block is running, it goes
        // on below that handler. Signals are visited innermost first, so a
        // search usually ends at the first (cost independent of how many
        // handlers run one inside the other).
        let mut cursor = start;
        let mut seen = std::collections::HashSet::new();
        for n in (0..self.process.signals.len()).rev() {
            let s = self.process.signals[n];
            // An exception has one handler context, as in Pharo: its
            // innermost record's.
            if !seen.insert(s.exception.bits()) {
                continue;
            }
            if s.passed || s.frames > cursor {
                continue;
            }
            let Some(handler) = self.process.frame_index(s.handler) else {
                continue;
            };
            let f = self.process.frames[handler];
            if self.process.stack[f.base + HANDLER_ACTIVE] == self.universe.true_object {
                continue;
            }
            if let Some(found) = self.handler_between(exception, s.frames, cursor) {
                return Some(found);
            }
            cursor = handler;
        }
        self.handler_between(exception, 0, cursor)
    }

    /// The innermost active `on:do:` frame at an index in `from..to` that
    /// handles `exception`.
    fn handler_between(&self, exception: Oop, from: usize, to: usize) -> Option<usize> {
        let found = &self.process.handler_frames.found;
        let end = found.partition_point(|&(i, _)| i < to);
        found[..end]
            .iter()
            .rev()
            .map(|&(i, _)| i)
            .take_while(|&i| i >= from)
            .find(|&i| {
                let f = self.process.frames[i];
                self.process.stack[f.base + HANDLER_ACTIVE] == self.universe.true_object
                    && self.handles(self.process.stack[f.base + 1], exception)
            })
    }

    fn is_error(&self, exception: Oop) -> bool {
        self.universe
            .classes
            .index_of("Error")
            .is_some_and(|error| {
                self.universe
                    .classes
                    .inherits_from(class_index_of(exception), error)
            })
    }

    /// Drops the records of unhandled errors whose `defaultAction` is no
    /// longer running (its signaller's frame is gone: an unwind went past
    /// it). The innermost come last, so the gone ones are at the end.
    pub(crate) fn forget_finished_default_actions(&mut self) {
        let super::process::Process {
            frames, unhandled, ..
        } = &mut self.process;
        while let Some(u) = unhandled.last() {
            if frames
                .get(u.signaller)
                .is_some_and(|f| f.id == u.signaller_id)
            {
                break;
            }
            unhandled.pop();
        }
    }

    /// An Error unhandled while the `defaultAction`s of
    /// [`RECURSIVE_ERRORS`] unhandled errors run, each inside the one
    /// before (an error whose report fails, a `defaultAction` that signals
    /// its own kind again): stops the computation at once, as Pharo stops
    /// recursive errors, describing the errors without running any of
    /// their methods again.
    fn recursive_error(&mut self, exception: Oop) -> Ip {
        let mut chain: Vec<String> = self
            .process
            .unhandled
            .iter()
            .map(|u| self.describe_error(u.exception))
            .collect();
        chain.push(self.describe_error(exception));
        let message = format!(
            "Recursive errors: {} (each unhandled, signalled by the defaultAction of the one before)",
            chain.join(", then ")
        );
        self.fail_unhandled(message)
    }

    /// `a ZeroDivide ('text')`: the class and the message text when it is
    /// a String, read from the object (no Smalltalk code runs).
    fn describe_error(&self, exception: Oop) -> String {
        let described = self.describe(exception);
        let text = self
            .universe
            .classes
            .get(class_index_of(exception))
            .and_then(|c| c.inst_vars.position("messageText"))
            .and_then(|i| memory::slot(exception, i))
            .and_then(|text| memory::text(&self.heap, text));
        match text {
            Some(text) => format!("{described} ('{text}')"),
            None => described,
        }
    }

    /// Finishes the handling of `signal` by unwinding to its handler's
    /// `on:do:` frame with `action` (`return:`, `retry`).
    pub(super) fn finish_at_handler(&mut self, signal: Signal, action: Action) -> Ip {
        let Some(index) = self.process.frame_index(signal.handler) else {
            return self.fail("internal error: unwinding to a frame that is gone");
        };
        let target = self.process.frame_ref(index);
        self.finish(signal, target, action)
    }

    /// Finishes the handling of `signal` by unwinding to `target` with
    /// `action`; its handler catches again once the handler's frames are
    /// gone.
    pub(super) fn finish(&mut self, signal: Signal, target: FrameRef, action: Action) -> Ip {
        self.process.signals.retain(|s| s.id < signal.id);
        let reenable = Reenable {
            handler: signal.handler,
            above: signal.frames,
        };
        self.unwind_reenabling(target, action, Some(reenable))
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

/// How many unhandled errors may be reported one inside the other (the
/// `defaultAction` of one signals the next) before the next is a
/// recursive error: two, so that an error raised while reporting another
/// (a failing `description`) is still reported as itself.
const RECURSIVE_ERRORS: usize = 2;

/// An Error that no handler took, while its `defaultAction` runs.
#[derive(Clone, Copy, Debug)]
pub struct Unhandled {
    pub exception: Oop,
    /// The index and activation id of the frame that signalled it (the
    /// `defaultAction` runs on top of it).
    signaller: usize,
    signaller_id: u64,
}

/// The `defaultAction` of an unhandled error returned: its value is the
/// value of `signal`, which returns where it was recorded (below the
/// exception) when the error was found unhandled.
pub(crate) extern "C-unwind" fn default_action_completed(vm: &mut Vm, _ip: Ip) -> Ip {
    let stack = &mut vm.process.stack;
    let (Some(value), Some(resume)) = (stack.pop(), stack.pop()) else {
        return vm.fail("internal error: a defaultAction returned to an empty stack");
    };
    let resume = super::interpreter::code_address(resume);
    vm.forget_finished_default_actions();
    vm.process.unhandled.pop();
    if resume.is_null() {
        vm.process.result = value;
    } else {
        vm.process.stack.push(value);
    }
    resume
}

/// A handler block fell off its end: `return:` its value.
pub(crate) extern "C-unwind" fn handler_completed(vm: &mut Vm, _ip: Ip) -> Ip {
    let value = vm.process.stack.pop().expect("the handler's value");
    let Some(signal) = vm.process.signals.last().copied() else {
        return vm.fail("internal error: a handler completed with no signal in progress");
    };
    vm.finish_at_handler(signal, Action::Return(value))
}

impl Vm {
    /// How many of the first `count` frames remain once the innermost
    /// activations of Exception methods (either side) are dropped: the
    /// last of them is the signaller's.
    fn below_exception_methods(&self, mut count: usize) -> usize {
        let exception_class: Option<ClassIndex> = self.universe.classes.index_of("Exception");
        while count > 0 {
            let m = &self.universe.methods[self.process.frames[count - 1].method as usize];
            let class =
                self.universe
                    .classes
                    .get(m.class)
                    .map(|c| if c.is_meta { c.partner } else { m.class });
            match (class, exception_class) {
                (Some(c), Some(e)) if self.universe.classes.inherits_from(c, e) => count -= 1,
                _ => break,
            }
        }
        count
    }

    /// The Context of the activation that signalled `exception` (the
    /// innermost outside Exception's methods), while the signal is being
    /// handled, or while it is unhandled (its `defaultAction` runs on top
    /// of the signalling frames); nil once it is over.
    pub(crate) fn signaler_context(&mut self, exception: Oop) -> Oop {
        let signaller = match self.signal_of(exception) {
            Some(s) if s.frames <= self.process.frames.len() => {
                self.below_exception_methods(s.frames)
            }
            Some(_) => 0,
            None => {
                let count = self.process.frames.len();
                let below = self.below_exception_methods(count);
                if below < count {
                    below
                } else {
                    0
                }
            }
        };
        match signaller {
            0 => self.universe.nil,
            n => self.make_context(n - 1),
        }
    }

    /// An unhandled Smalltalk error: stops the computation with the
    /// Smalltalk stack from the signalling method outwards.
    pub(super) fn fail_unhandled(&mut self, message: String) -> Ip {
        // Drop the frames of the exception's own methods (defaultAction...).
        let frames = self.below_exception_methods(self.process.frames.len());
        let trace = self.trace_of(&self.process, frames);
        self.process.error = Some(VmError {
            message,
            trace,
            kind: ErrorKind::Unhandled,
        });
        std::ptr::null()
    }
}
