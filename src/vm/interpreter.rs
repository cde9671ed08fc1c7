//! The threaded interpreter: a trampoline that calls each instruction's
//! handler, which answers the next instruction to run.
//!
//! Smalltalk frames live on the VM's own stacks (values in `Vm::stack`,
//! activation records in `Vm::frames`), never on the Rust stack: a send
//! pushes a frame and answers the callee's first instruction, a return pops
//! one and answers the caller's continuation. Deep Smalltalk recursion is
//! therefore bounded by [`MAX_STACK_SLOTS`], and ends in a Smalltalk-level
//! error, not a Rust stack overflow. A null instruction pointer hands
//! control back to the Rust caller (with a result or an error).
//!
//! Frame layout on the value stack: the receiver at `base`, then the frame
//! slots (arguments, copied values, temporaries), then the operand stack.

use super::classes::{self, ClassIndex};
use super::method::{CacheEntry, Instr, MethodRef, Quick};
use super::primitives::{self, float, small_integer, Immediate, Prim, Primitive};
use super::process::Frame;
use super::{ErrorKind, Vm, VmError};
use crate::memory::{self, class_index_of};
use crate::object::{Format, Oop};

/// An instruction pointer into some method's code (methods live as long
/// as the VM, so it stays valid).
pub type Ip = *const Instr;
pub type Handler = extern "C-unwind" fn(&mut Vm, Ip) -> Ip;

/// Bounds on the value stack and on the number of activations: past
/// them, a send fails with a recursion error (1M activations is far beyond
/// real programs and keeps the frame stack under 64 MB).
pub const MAX_STACK_SLOTS: usize = 16 << 20;
pub const MAX_FRAMES: usize = 1 << 20;
/// Frames beyond [`MAX_FRAMES`] for handling a stack overflow (the
/// signal, the handler search and the handler).
pub const OVERFLOW_FRAMES: usize = 10_000;

/// Closure slots (a VM-defined layout, which the kernel's BlockClosure
/// declares as its instance variables): then the copied values.
pub const CLOSURE_HOME: usize = 0;
pub const CLOSURE_METHOD: usize = 1;
pub const CLOSURE_UNIT: usize = 2;
pub const CLOSURE_NUM_ARGS: usize = 3;
pub const CLOSURE_RECEIVER: usize = 4;
pub const CLOSURE_FIXED: usize = 5;

macro_rules! handler_functions {
    ($($name:ident),* $(,)?) => {
        /// The function that runs a handler of a lowering plan (the one of
        /// the same name: `zag_compiler::for_each_handler!` lists them).
        pub(crate) fn function(handler: zag_compiler::lowering::Handler) -> Handler {
            match handler {
                $(zag_compiler::lowering::Handler::$name => $name),*
            }
        }
    };
}

zag_compiler::for_each_handler!(handler_functions);

/// Runs from `ip` until control returns to Rust.
pub(crate) fn run(vm: &mut Vm, mut ip: Ip) -> Result<Oop, VmError> {
    while !ip.is_null() {
        // SAFETY: every non-null ip points into the code of a method the
        // VM owns and never frees.
        let handler = unsafe { (*ip).handler };
        ip = handler(vm, ip);
    }
    match vm.process.error.take() {
        Some(e) => Err(e),
        None => Ok(vm.process.result),
    }
}

fn instr<'a>(ip: Ip) -> &'a Instr {
    // SAFETY: as in `run`.
    unsafe { &*ip }
}

fn next(ip: Ip) -> Ip {
    // SAFETY: a unit never ends with an instruction that falls through
    // (the compiler ends every unit with a return or a jump).
    unsafe { ip.add(1) }
}

impl Vm {
    fn frame(&self) -> &Frame {
        self.process.frames.last().expect("a frame is active")
    }

    fn slot_index(&self, slot: u32) -> usize {
        self.process.base + 1 + slot as usize
    }

    fn push(&mut self, value: Oop) {
        self.process.stack.push(value);
    }

    fn pop(&mut self) -> Oop {
        self.process
            .stack
            .pop()
            .expect("the compiler keeps the operand stack balanced")
    }

    /// Moves the top `count` values into the slots of `object`, a new
    /// object, from `first_slot` on.
    fn pop_into(&mut self, object: Oop, first_slot: usize, count: usize) {
        let first = self.process.stack.len() - count;
        for (i, v) in self.process.stack[first..].iter().enumerate() {
            memory::init_slot(object, first_slot + i, *v);
        }
        self.process.stack.truncate(first);
    }

    fn top(&self) -> Oop {
        *self
            .process
            .stack
            .last()
            .expect("the compiler keeps the operand stack balanced")
    }

    /// Records an error with the Smalltalk stack trace; answers null, which
    /// stops the interpreter.
    pub(crate) fn fail(&mut self, message: impl Into<String>) -> Ip {
        let trace = self.trace_of(&self.process.frames);
        self.process.error = Some(VmError {
            message: message.into(),
            trace,
            kind: ErrorKind::Vm,
        });
        std::ptr::null()
    }

    /// `Class>>selector` for each frame, innermost first.
    pub(crate) fn trace_of(&self, frames: &[Frame]) -> Vec<String> {
        frames
            .iter()
            .rev()
            .map(|f| {
                let m = &self.universe.methods[f.method as usize];
                let block = if f.unit == 0 { "" } else { "[] in " };
                format!(
                    "{block}{}>>{}",
                    self.universe.classes.name(m.class),
                    self.symbol_text(m.selector)
                )
            })
            .collect()
    }

    /// The method the send site's inline cache holds for `class`, if any.
    #[inline(always)]
    fn cache_hit(&self, site: &Instr, class: ClassIndex) -> Option<MethodRef> {
        debug_assert!((site.site as usize) < self.universe.caches.len());
        // SAFETY: every instruction this VM runs has a site below its
        // cache count: the image's sites are counted at boot before any
        // code runs, run-time code gets its sites from `new_send_site`,
        // other instructions have site 0, and caches are never removed.
        // (This is the send path's hottest load.)
        let entry = unsafe { *self.universe.caches.get_unchecked(site.site as usize) };
        (entry.class == class).then_some(entry.method)
    }

    /// Finds the method for `selector` in `class`, through the send
    /// site's inline cache.
    fn cached_lookup(
        &mut self,
        site: &Instr,
        class: ClassIndex,
        selector: Oop,
    ) -> Option<MethodRef> {
        if let Some(method) = self.cache_hit(site, class) {
            return Some(method);
        }
        let method = self
            .universe
            .classes
            .dispatch(class, selector, self.universe.epoch)?;
        self.universe.caches[site.site as usize] = CacheEntry { class, method };
        Some(method)
    }

    /// Invokes `method` on the receiver and `args` arguments on the stack:
    /// a quick method answers at once; otherwise its primitive runs first,
    /// then (if none, or it failed) its code.
    #[inline(always)]
    pub(crate) fn invoke(&mut self, method: MethodRef, args: usize, return_ip: Ip) -> Ip {
        // One test on the common path: most methods just run their code;
        // then the most common quick methods, getters and constants.
        let m = &self.universe.methods[method as usize];
        if m.plain {
            return self.activate(method, 0, args, return_ip, None);
        }
        match (m.quick, args) {
            (Quick::ReturnInstVar(index), 0) => {
                let top = self.process.stack.len() - 1;
                if let Some(value) = memory::slot(self.process.stack[top], index as usize) {
                    m.invocations.set(m.invocations.get() + 1);
                    self.process.stack[top] = value;
                    return return_ip;
                }
            }
            // `isNil`, `isString`...: a constant.
            (Quick::ReturnConstant(value), 0) => {
                m.invocations.set(m.invocations.get() + 1);
                let top = self.process.stack.len() - 1;
                self.process.stack[top] = value;
                return return_ip;
            }
            _ => {}
        }
        let Some(primitive) = m.primitive else {
            return self.invoke_quick(method, args, return_ip);
        };
        self.invoke_primitive(method, primitive, args, return_ip)
    }

    /// A quick method (a method that is not plain has a primitive or is
    /// quick) answers without a frame, unless its receiver lacks the slot:
    /// then its code runs, to report that.
    #[inline(never)]
    fn invoke_quick(&mut self, method: MethodRef, args: usize, return_ip: Ip) -> Ip {
        let quick = self.universe.methods[method as usize].quick;
        match self.answer_quick(quick, args) {
            Some(value) => {
                let m = &self.universe.methods[method as usize];
                m.invocations.set(m.invocations.get() + 1);
                let receiver_at = self.process.stack.len() - args - 1;
                self.process.stack.truncate(receiver_at + 1);
                self.process.stack[receiver_at] = value;
                return_ip
            }
            None => self.activate(method, 0, args, return_ip, None),
        }
    }

    /// Runs the method's primitive; when it fails, the method's code runs
    /// with the failure code in its `error:` temporary.
    #[inline(never)]
    fn invoke_primitive(
        &mut self,
        method: MethodRef,
        primitive: &'static Primitive,
        args: usize,
        return_ip: Ip,
    ) -> Ip {
        let error_slot = self.universe.methods[method as usize].primitive_error_slot;
        let code = match (primitive.function)(self, args, return_ip) {
            Prim::Value(v) => {
                let receiver_at = self.process.stack.len() - args - 1;
                self.process.stack.truncate(receiver_at + 1);
                self.process.stack[receiver_at] = v;
                return return_ip;
            }
            Prim::Continue(ip) => return ip,
            Prim::Fail(code) => code,
        };
        let ip = self.activate(method, 0, args, return_ip, None);
        // (An activation replaced by a stack-overflow signal has no such
        // temporary.)
        let activated = self
            .process
            .frames
            .last()
            .is_some_and(|f| f.method == method);
        if let (Some(slot), false, true) = (error_slot, ip.is_null(), activated) {
            let value = match primitives::ERROR_TABLE.get((code as usize).wrapping_sub(2)) {
                Some(name) => self.intern(name),
                None => self.universe.nil,
            };
            let at = self.slot_index(slot as u32);
            self.process.stack[at] = value;
        }
        ip
    }

    /// What a quick method answers for the receiver and `args` arguments
    /// on the stack; None (leaving the stack as it was) when the receiver
    /// lacks the slot, for the method's code to report.
    fn answer_quick(&mut self, quick: Quick, args: usize) -> Option<Oop> {
        let receiver = self.process.stack[self.process.stack.len() - args - 1];
        match quick {
            Quick::No => None,
            Quick::ReturnSelf => Some(receiver),
            Quick::ReturnConstant(value) => Some(value),
            Quick::ReturnInstVar(index) => memory::slot(receiver, index as usize),
            // A read-only receiver runs the method, whose store refuses.
            Quick::StoreInstVar(_) if memory::is_read_only(receiver) => None,
            Quick::StoreInstVar(index) => {
                let value = self.top();
                self.store(receiver, index as usize, value)
                    .then_some(receiver)
            }
        }
    }

    /// Pushes a frame for `unit` of `method` over the receiver and `args`
    /// arguments already on the stack; `closure` supplies the copied
    /// values and the home of a block. Answers the first instruction.
    pub(crate) fn activate(
        &mut self,
        method: MethodRef,
        unit: u16,
        args: usize,
        return_ip: Ip,
        closure: Option<Oop>,
    ) -> Ip {
        let (num_temps, max_stack, code) = {
            let u = &self.universe.methods[method as usize].units[unit as usize];
            (u.num_temps as usize, u.max_stack as usize, u.code.as_ptr())
        };
        if !self.process.stack.has_room_for(num_temps + max_stack + 8)
            || self.process.stack.overflowed
            || self.process.frames.len() >= MAX_FRAMES
        {
            let in_reserve = self.process.handling_overflow
                && self
                    .process
                    .stack
                    .has_room_in_reserve_for(num_temps + max_stack + 8)
                && !self.process.stack.overflowed
                && self.process.frames.len() < MAX_FRAMES + OVERFLOW_FRAMES;
            if !in_reserve {
                return self.stack_overflow(args, return_ip);
            }
        }
        let base = self.process.stack.len() - args - 1;
        self.process.next_activation += 1;
        let id = self.process.next_activation;
        let mut home = id;
        if let Some(closure) = closure {
            let count = memory::slot_count(closure);
            for i in CLOSURE_FIXED..count {
                let v = memory::slot(closure, i).expect("in bounds");
                self.push(v);
            }
            self.process.stack[base] =
                memory::slot(closure, CLOSURE_RECEIVER).unwrap_or(self.universe.nil);
            home = memory::slot(closure, CLOSURE_HOME)
                .and_then(Oop::as_small_integer)
                .unwrap_or(0) as u64;
        }
        let nil = self.universe.nil;
        self.process
            .stack
            .resize(self.process.stack.len() + num_temps, nil);
        let pushed = self.process.frames.push(Frame {
            method,
            unit,
            base,
            return_ip,
            id,
            home,
            caller_base: self.process.base,
        });
        // The frame count was checked against the limits above, which are
        // the block's capacity.
        debug_assert!(pushed);
        self.process.base = base;
        code
    }

    /// An activation that does not fit: instead of it, `Error signal:`
    /// with a description of the overflow, as the value of the send, run
    /// in a reserve of frames and slots beyond the limits so that handlers
    /// and `ensure:` blocks can run. An overflow while one is being
    /// handled (or an image without Error) ends the computation.
    #[cold]
    #[inline(never)]
    fn stack_overflow(&mut self, args: usize, return_ip: Ip) -> Ip {
        let message = format!(
            "stack overflow: recursion deeper than the Smalltalk stack allows ({} frames)",
            self.process.frames.len()
        );
        let error = self
            .universe
            .global("Error")
            .filter(|_| !self.process.handling_overflow);
        let Some(error) = error else {
            return self.fail(message);
        };
        self.process.handling_overflow = true;
        let len = self.process.stack.len();
        self.process.stack.truncate(len - args - 1);
        self.push(error);
        let text = self.new_string(crate::memory::Space::Young, &message);
        self.push(text);
        let signal = self.intern("signal:");
        self.send_selector(signal, 1, return_ip, None, None)
    }

    /// Leaves the overflow reserve once the stack is well below its limits
    /// again (an unwind, such as a handler's return, got it there).
    pub(crate) fn leave_overflow_reserve(&mut self) {
        if self.process.handling_overflow
            && self.process.frames.len() < MAX_FRAMES / 2
            && self.process.stack.has_room_for(MAX_STACK_SLOTS / 2)
        {
            self.process.handling_overflow = false;
        }
    }

    /// The send of `selector` failed: sends `doesNotUnderstand:` with a
    /// Message, or fails when that is not understood either.
    fn does_not_understand(&mut self, selector: Oop, args: usize, return_ip: Ip) -> Ip {
        let receiver = self.process.stack[self.process.stack.len() - args - 1];
        let class = class_index_of(receiver);
        let dnu = self.intern("doesNotUnderstand:");
        let handler = self.universe.classes.lookup(class, dnu);
        let Some(handler) = handler.filter(|_| selector != dnu) else {
            let name = self.symbol_text(selector);
            return self.fail(format!(
                "{}>>{name}: message not understood",
                self.universe.classes.name(class)
            ));
        };
        // Allocate while the arguments are still on the stack (a root).
        let arguments = self.allocate(
            classes::ARRAY,
            Format::Indexable,
            args,
            self.universe.nil.bits(),
        );
        self.pop_into(arguments, 0, args);
        self.push(arguments);
        let message = self.allocate(classes::MESSAGE, Format::Fixed, 3, self.universe.nil.bits());
        let arguments = self.pop();
        memory::init_slot(message, 0, selector);
        memory::init_slot(message, 1, arguments);
        memory::init_slot(message, 2, self.universe.class_object(class));
        self.push(message);
        self.process.sent_selector = dnu;
        self.invoke(handler, 1, return_ip)
    }

    /// A non-local return to a home method that has returned: signals
    /// BlockCannotReturn (if resumed, the block answers the value).
    fn block_cannot_return(&mut self, value: Oop) -> Ip {
        let Some(class) = self.universe.classes.index_of("BlockCannotReturn") else {
            return self.fail("BlockCannotReturn: the block's home method has already returned");
        };
        let slots = self
            .universe
            .classes
            .get(class)
            .map_or(0, |c| c.inst_vars.len());
        // The value stays below the exception, for a resumption to find;
        // both stay on the stack (a root) across the allocations.
        self.push(value);
        let exception = self.allocate(class, Format::Fixed, slots, self.universe.nil.bits());
        self.push(exception);
        let text_slot = self
            .universe
            .classes
            .get(class)
            .and_then(|c| c.inst_vars.iter().position(|v| v == "messageText"));
        if let Some(slot) = text_slot {
            let message = self.new_string(
                crate::memory::Space::Young,
                "the block's home method has already returned",
            );
            memory::init_slot(self.top(), slot, message);
        }
        let exception = self.top();
        let continuation = self.universe.continuations.return_top();
        match self.signal(exception, None, continuation) {
            primitives::Prim::Continue(ip) => ip,
            primitives::Prim::Value(v) => {
                self.pop();
                self.push(v);
                continuation
            }
            primitives::Prim::Fail(_) => self.fail("BlockCannotReturn could not be signalled"),
        }
    }

    /// Returns `value` from the current frame to its caller.
    pub(crate) fn return_from_frame(&mut self, value: Oop) -> Ip {
        let frame = self.process.frames.pop().expect("a frame is active");
        self.process.stack.truncate(frame.base);
        self.process.base = frame.caller_base;
        if frame.return_ip.is_null() {
            self.process.result = value;
        } else {
            self.push(value);
        }
        frame.return_ip
    }

    pub(crate) fn send_selector(
        &mut self,
        selector: Oop,
        args: usize,
        return_ip: Ip,
        site: Option<&Instr>,
        start: Option<ClassIndex>,
    ) -> Ip {
        let receiver = self.process.stack[self.process.stack.len() - args - 1];
        let class = start.unwrap_or_else(|| class_index_of(receiver));
        let method = match site {
            Some(site) => self.cached_lookup(site, class, selector),
            None => self
                .universe
                .classes
                .dispatch(class, selector, self.universe.epoch),
        };
        match method {
            Some(m) => {
                self.process.sent_selector = selector;
                self.invoke(m, args, return_ip)
            }
            None => self.does_not_understand(selector, args, return_ip),
        }
    }
}

// ----- handlers ---------------------------------------------------------------

pub(crate) extern "C-unwind" fn method_entry(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    // Registration put the method's index in `a`.
    let m = &vm.universe.methods[i.a as usize];
    m.invocations.set(m.invocations.get() + 1);
    if i.operand != vm.process.sent_selector.bits() {
        let (expected, got) = (
            vm.symbol_text(i.operand_oop()),
            vm.symbol_text(vm.process.sent_selector),
        );
        return vm.fail(format!(
            "method entry expected #{expected} but was sent #{got}"
        ));
    }
    next(ip)
}

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
    let context = super::reflection::this_context(vm);
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
    match memory::slot(vector, i.b as usize) {
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
    match memory::slot(receiver, instr(ip).a as usize) {
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
fn store_slot_then(vm: &mut Vm, receiver: Oop, slot: usize, value: Oop, resume: Ip) -> Ip {
    if memory::is_read_only(receiver) {
        return attempt_to_assign(vm, receiver, slot, value, resume);
    }
    if vm.store(receiver, slot, value) {
        resume
    } else {
        vm.fail("instance variable store out of the receiver's bounds")
    }
}

fn attempt_to_assign(vm: &mut Vm, object: Oop, slot: usize, value: Oop, resume: Ip) -> Ip {
    let selector = vm.intern("attemptToAssign:withIndex:");
    // Where to resume, kept on the stack as a SmallInteger (instructions
    // are 8-byte aligned user-space addresses, well inside its range), for
    // the continuation to jump to.
    vm.push(Oop::small_integer(resume as i64).expect("a user-space address"));
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
    resume.small_integer_value() as usize as Ip
}

/// The value slot of an association.
const BINDING_VALUE: usize = 1;

/// The binding (an Association) numbered `a` in the VM's table.
fn binding(vm: &Vm, ip: Ip) -> Oop {
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

pub(crate) extern "C-unwind" fn make_temp_vector(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    let vector = vm.allocate(classes::ARRAY, Format::Indexable, i.b as usize, i.operand);
    let at = vm.slot_index(i.a);
    vm.process.stack[at] = vector;
    next(ip)
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

pub(crate) extern "C-unwind" fn send(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    let args = i.a as usize;
    // The inline-cache hit, inline; a miss looks the method up.
    let receiver = vm.process.stack[vm.process.stack.len() - args - 1];
    if let Some(method) = vm.cache_hit(i, class_index_of(receiver)) {
        vm.process.sent_selector = i.operand_oop();
        return vm.invoke(method, args, next(ip));
    }
    vm.send_selector(i.operand_oop(), args, next(ip), Some(i), None)
}

/// Sends of the arithmetic and comparison selectors, with the common cases
/// done inline, as Pharo's special-selector bytecodes do (redefining
/// `SmallInteger>>#+` does not affect SmallInteger receivers): two
/// SmallIntegers, or two SmallFloat64s. Anything else (overflow, boxed
/// floats, mixed kinds, other classes) is an ordinary send.
type IntegerOp = fn(&Vm, i64, i64) -> Option<Oop>;
type FloatOp = fn(&Vm, f64, f64) -> Option<Oop>;

fn special_send(vm: &mut Vm, ip: Ip, integers: IntegerOp, floats: Option<FloatOp>) -> Ip {
    let n = vm.process.stack.len();
    let (a, b) = (vm.process.stack[n - 2], vm.process.stack[n - 1]);
    let result = match (a.as_small_integer(), b.as_small_integer()) {
        (Some(x), Some(y)) => integers(vm, x, y),
        // Floats, or a float and a SmallInteger (which converts exactly
        // when it fits 53 bits, as Pharo's asFloat does).
        _ => match (floats, as_float(a), as_float(b)) {
            (Some(op), Some(x), Some(y)) if a.is_small_float() || b.is_small_float() => {
                op(vm, x, y)
            }
            _ => None,
        },
    };
    match result {
        Some(r) => {
            vm.process.stack.truncate(n - 1);
            vm.process.stack[n - 2] = r;
            continue_after(vm, ip)
        }
        None => send(vm, ip),
    }
}

/// The instruction after a special send or `==` that answered inline:
/// run at once when lowering marked the send as chained (`b` = 1, see
/// chaining), else through the trampoline. A special send that falls back
/// to a real send never chains: the callee's code runs from the
/// trampoline.
fn continue_after(vm: &mut Vm, ip: Ip) -> Ip {
    if instr(ip).b == CHAINED {
        run_at(vm, next(ip))
    } else {
        next(ip)
    }
}

/// Runs the handler of the instruction at `ip` (not null) directly, as
/// chaining does.
#[inline(always)]
fn run_at(vm: &mut Vm, ip: Ip) -> Ip {
    (instr(ip).handler)(vm, ip)
}

/// The value of a SmallFloat64, or of a SmallInteger small enough to be
/// exact as a float.
fn as_float(o: Oop) -> Option<f64> {
    o.as_small_float().or_else(|| {
        o.as_small_integer()
            .filter(|i| i.unsigned_abs() < (1 << 53))
            .map(|i| i as f64)
    })
}

/// A special send's operation for two SmallIntegers, then for two floats
/// (if it has one), each keeping its result when it is an [`Immediate`].
macro_rules! special_sends {
    ($($name:ident => $int:path $(, $float:path)?;)*) => {
        $(pub(crate) extern "C-unwind" fn $name(vm: &mut Vm, ip: Ip) -> Ip {
            special_send(
                vm,
                ip,
                |vm, a, b| $int(a, b).immediate(&vm.universe),
                float_op!($($float)?),
            )
        })*
    };
}

macro_rules! float_op {
    () => {
        None
    };
    ($float:path) => {
        Some(|vm, a, b| $float(a, b).immediate(&vm.universe))
    };
}

special_sends! {
    send_add => small_integer::add, float::add;
    send_subtract => small_integer::subtract, float::subtract;
    send_multiply => small_integer::multiply, float::multiply;
    send_less => small_integer::less, float::less;
    send_greater => small_integer::greater, float::greater;
    send_less_or_equal => small_integer::less_or_equal, float::less_or_equal;
    send_greater_or_equal => small_integer::greater_or_equal, float::greater_or_equal;
    send_numbers_equal => small_integer::equal, float::equal;
    send_not_equal => small_integer::not_equal, float::not_equal;
    send_divide => small_integer::divide, float::divide;
    send_modulo => small_integer::modulo;
    send_floor_divide => small_integer::floor_divide;
    send_bit_and => small_integer::bit_and;
    send_bit_or => small_integer::bit_or;
}

/// `=`: numbers inline as the other special sends; and two byte strings
/// (Strings and Symbols, compared by characters) inline when the send
/// site's inline cache holds the string-comparison primitive for the
/// receiver's class, so an override of `=` is still honoured.
pub(crate) extern "C-unwind" fn send_equal(vm: &mut Vm, ip: Ip) -> Ip {
    let n = vm.process.stack.len();
    if let Some(equal) = cached_string_equality(vm, ip) {
        vm.process.stack.truncate(n - 1);
        vm.process.stack[n - 2] = vm.universe.boolean(equal);
        return continue_after(vm, ip);
    }
    send_numbers_equal(vm, ip)
}

/// For a send of `=` at `ip` whose receiver and argument (on top of the
/// stack) are byte strings: their equality, when the site's inline cache
/// says the receiver's class answers `=` with the string-comparison
/// primitive.
fn cached_string_equality(vm: &Vm, ip: Ip) -> Option<bool> {
    let n = vm.process.stack.len();
    let (a, b) = (vm.process.stack[n - 2], vm.process.stack[n - 1]);
    let method = vm.cache_hit(instr(ip), class_index_of(a))?;
    if !vm.universe.methods[method as usize].has_primitive(primitives::STRING_EQUALS) {
        return None;
    }
    primitives::strings::equal(&vm.heap, a, b)
}

/// `==` is never looked up, as in Pharo (whose compiler gives it a
/// special bytecode): it is object identity for every receiver.
pub(crate) extern "C-unwind" fn send_identical(vm: &mut Vm, ip: Ip) -> Ip {
    let b = vm.pop();
    let a = vm.pop();
    let result = vm.universe.boolean(a == b);
    vm.push(result);
    continue_after(vm, ip)
}

pub(crate) extern "C-unwind" fn super_send(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    // Statically bound: the lookup starts above the class of the method
    // (of the home method, in a block).
    let class = vm.universe.methods[vm.frame().method as usize].class;
    let start = vm
        .universe
        .classes
        .get(class)
        .and_then(|c| c.superclass)
        .unwrap_or(0);
    vm.send_selector(
        i.operand_oop(),
        i.a as usize,
        next(ip),
        Some(i),
        Some(start),
    )
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

/// `PushSelf; ReturnTop`.
pub(crate) extern "C-unwind" fn return_self(vm: &mut Vm, _ip: Ip) -> Ip {
    let receiver = vm.process.stack[vm.process.base];
    vm.return_from_frame(receiver)
}

/// `PushTemp; ReturnTop`.
pub(crate) extern "C-unwind" fn return_temp(vm: &mut Vm, ip: Ip) -> Ip {
    let value = vm.process.stack[vm.slot_index(instr(ip).a)];
    vm.return_from_frame(value)
}

/// `PushInstVar; ReturnTop`.
pub(crate) extern "C-unwind" fn return_inst_var(vm: &mut Vm, ip: Ip) -> Ip {
    match memory::slot(vm.process.stack[vm.process.base], instr(ip).a as usize) {
        Some(value) => vm.return_from_frame(value),
        None => vm.fail("instance variable access out of the receiver's bounds"),
    }
}

/// `PushLiteral (or nil, true, false); ReturnTop`.
pub(crate) extern "C-unwind" fn return_constant(vm: &mut Vm, ip: Ip) -> Ip {
    vm.return_from_frame(instr(ip).operand_oop())
}

// ----- chaining -------------------------------------------------------------
//
// A straight-line instruction (a push, a store, a pop, the method entry)
// whose successor is known can run that successor's handler itself
// instead of returning to the trampoline: in release builds the call is a
// tail jump, so a run of them is direct threading. Lowering chains at most
// `lowering::MAX_CHAIN` instructions in a row, which bounds the nesting where the
// compiler does not make the tail call.

use zag_compiler::lowering::CHAINED;

macro_rules! chained {
    ($($name:ident => $base:ident;)*) => {
        $(pub(crate) extern "C-unwind" fn $name(vm: &mut Vm, ip: Ip) -> Ip {
            let next_ip = $base(vm, ip);
            if next_ip.is_null() {
                return next_ip;
            }
            run_at(vm, next_ip)
        })*
    };
}

chained! {
    method_entry_chained => method_entry;
    push_self_chained => push_self;
    push_constant_chained => push_constant;
    push_temp_chained => push_temp;
    push_inst_var_chained => push_inst_var;
    push_binding_chained => push_binding;
    push_remote_chained => push_remote;
    store_temp_chained => store_temp;
    store_inst_var_chained => store_inst_var;
    pop_chained => pop;
    dup_chained => dup;
    pop_into_temp_chained => pop_into_temp;
    pop_into_inst_var_chained => pop_into_inst_var;
}

/// A comparison of two SmallIntegers (or immediate floats) followed by a
/// conditional jump: the Boolean is never pushed. Anything else is the
/// ordinary send, and the jump instruction after it takes its result.
fn compare_and_jump(
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
            _ if equality => cached_string_equality(vm, ip),
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
fn identical_and_jump(vm: &mut Vm, ip: Ip, jump_when: bool) -> Ip {
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
fn branch(ip: Ip, taken: bool) -> Ip {
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
fn jump_target(ip: Ip) -> Ip {
    // SAFETY: lowering computed the offset from a target inside the unit.
    unsafe { ip.offset(instr(ip).a as i32 as isize) }
}

pub(crate) extern "C-unwind" fn jump(_vm: &mut Vm, ip: Ip) -> Ip {
    jump_target(ip)
}

fn jump_if_boolean(vm: &mut Vm, ip: Ip, when: bool) -> Ip {
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
        vm.fail(format!(
            "NonBooleanReceiver: proceed for truth ({} is not a Boolean)",
            vm.describe(v)
        ))
    }
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

pub(crate) extern "C-unwind" fn make_array(vm: &mut Vm, ip: Ip) -> Ip {
    let n = instr(ip).a as usize;
    // Allocate first: the elements stay on the stack (a root) meanwhile.
    let array = vm.allocate(classes::ARRAY, Format::Indexable, n, vm.universe.nil.bits());
    vm.pop_into(array, 0, n);
    vm.push(array);
    next(ip)
}

pub(crate) extern "C-unwind" fn push_closure(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    let copied = i.b as usize;
    let closure = vm.allocate(
        classes::BLOCK_CLOSURE,
        Format::FixedIndexable,
        CLOSURE_FIXED + copied,
        vm.universe.nil.bits(),
    );
    let frame = *vm.frame();
    let num_args = vm.universe.methods[frame.method as usize].units[i.a as usize].num_args;
    let int = |v: u64| Oop::small_integer(v as i64).expect("small");
    memory::init_slot(closure, CLOSURE_HOME, int(frame.home));
    memory::init_slot(closure, CLOSURE_METHOD, int(frame.method as u64));
    memory::init_slot(closure, CLOSURE_UNIT, int(i.a as u64));
    memory::init_slot(closure, CLOSURE_NUM_ARGS, int(num_args as u64));
    memory::init_slot(closure, CLOSURE_RECEIVER, vm.process.stack[frame.base]);
    vm.pop_into(closure, CLOSURE_FIXED, copied);
    vm.push(closure);
    next(ip)
}

pub(crate) extern "C-unwind" fn return_top(vm: &mut Vm, _ip: Ip) -> Ip {
    let value = vm.pop();
    vm.return_from_frame(value)
}

pub(crate) extern "C-unwind" fn non_local_return(vm: &mut Vm, _ip: Ip) -> Ip {
    let value = vm.pop();
    let home = vm.frame().home;
    if !vm.process.frames.iter().any(|f| f.id == home) {
        return vm.block_cannot_return(value);
    }
    // Leave the frames between the block and its home, running their
    // ensure: blocks, then return from the home method.
    vm.unwind(home, super::unwind::Action::Return(value))
}
