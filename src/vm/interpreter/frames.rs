//! Frames: activating a method or a block (and refusing one that would
//! overflow the stack), the method entry, returning (also from a block to
//! its home method), and BlockCannotReturn.

use super::*;

/// Where a unit starts, and the room its frame needs.
struct Entry {
    code: Ip,
    num_temps: u16,
    max_stack: u16,
}

/// What the stack's alarm asks of a safepoint.
#[derive(Clone, Copy, Debug)]
pub(super) enum Safepoint {
    /// Ctrl-C in the REPL: signal UserInterrupt.
    UserInterrupt,
    /// The heap passed its limit: signal OutOfMemory.
    LowSpace,
    /// A timed signal is due: fire it, maybe switch Processes.
    Timer,
}

impl Vm {
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
        // A block's activation counts towards the JIT's threshold on its
        // home method.
        if closure.is_some() {
            let count = self.universe.info(method).count_invocation();
            if count == self.universe.jit_trigger {
                turned_hot(self, method);
            }
        }
        let u = &self.universe.methods[method as usize].units[unit as usize];
        let entry = Entry {
            code: u.code.as_ptr(),
            num_temps: u.num_temps,
            max_stack: u.max_stack,
        };
        self.push_frame(method, unit, args, return_ip, closure, entry)
    }

    /// Activates a method (its unit 0) as [`Vm::activate`] does, from its
    /// [`MethodInfo`], which the send has just read. (Not inlined into the
    /// send handlers: it would cost their other paths more registers.)
    #[inline(never)]
    pub(crate) fn activate_method(&mut self, method: MethodRef, args: usize, return_ip: Ip) -> Ip {
        let info = self.universe.info(method);
        let entry = Entry {
            code: info.entry.get(),
            num_temps: info.num_temps,
            max_stack: info.max_stack,
        };
        self.push_frame(method, 0, args, return_ip, None, entry)
    }

    /// Pushes the frame of an activation of a unit that starts at `entry`.
    #[inline(always)]
    fn push_frame(
        &mut self,
        method: MethodRef,
        unit: u16,
        args: usize,
        return_ip: Ip,
        closure: Option<Oop>,
        entry: Entry,
    ) -> Ip {
        let Entry {
            code,
            num_temps,
            max_stack,
        } = entry;
        let (num_temps, max_stack) = (num_temps as usize, max_stack as usize);
        let mut safepoint = None;
        if !self.process.stack.has_room_for(num_temps + max_stack + 8)
            || !self.process.stack.alarm.is_quiet()
            || self.process.frames.len() >= MAX_FRAMES
        {
            safepoint = self.pending_safepoint();
            let fits = self.process.stack.has_room_for(num_temps + max_stack + 8)
                && !self.process.stack.overflowed()
                && self.process.frames.len() < MAX_FRAMES;
            let in_reserve = self.process.handling_overflow
                && self
                    .process
                    .stack
                    .has_room_in_reserve_for(num_temps + max_stack + 8)
                && !self.process.stack.overflowed()
                && self.process.frames.len() < MAX_FRAMES + OVERFLOW_FRAMES;
            if !fits && !in_reserve {
                return self.stack_overflow(args, return_ip);
            }
        }
        let base = self.process.stack.len() - args - 1;
        self.universe.last_activation += 1;
        let id = self.universe.last_activation;
        let mut home = FrameRef {
            id,
            index: self.process.frames.len(),
        };
        if let Some(closure) = closure {
            let count = memory::slot_count(closure);
            for i in CLOSURE_FIXED..count {
                let v = memory::inst_var(closure, i).expect("in bounds");
                self.push(v);
            }
            // The evaluation primitive checked the closure's shape.
            let fixed: [Oop; CLOSURE_FIXED] = memory::inst_vars(closure, 0).expect("a closure");
            self.process.stack[base] = fixed[CLOSURE_RECEIVER];
            // Smalltalk can assign the home: a wrong pair names no frame.
            home = FrameRef {
                id: fixed[CLOSURE_HOME].as_small_integer().unwrap_or(0) as u64,
                index: fixed[CLOSURE_HOME_INDEX]
                    .as_small_integer()
                    .map_or(usize::MAX, |i| i as usize),
            };
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
        match safepoint {
            Some(safepoint) => self.answer_safepoint(safepoint, code),
            None => code,
        }
    }

    /// What the stack's alarm asks of the next safepoint (an activation
    /// or a loop's back-edge), the most urgent first; a signal outside the
    /// REPL ends the program here (see `Vm::take_interrupt`).
    pub(super) fn pending_safepoint(&mut self) -> Option<Safepoint> {
        let alarm = &self.process.stack.alarm;
        if alarm.is_quiet() {
            None
        } else if alarm.has(stack::INTERRUPTED) && self.take_interrupt() {
            Some(Safepoint::UserInterrupt)
        } else if self.process.stack.alarm.has(stack::LOW_SPACE) {
            Some(Safepoint::LowSpace)
        } else if self.process.stack.alarm.has(stack::TIMER) {
            Some(Safepoint::Timer)
        } else {
            None
        }
    }

    /// Answers `safepoint` before `code` runs.
    #[cold]
    #[inline(never)]
    pub(super) fn answer_safepoint(&mut self, safepoint: Safepoint, code: Ip) -> Ip {
        match safepoint {
            Safepoint::UserInterrupt => self.signal_user_interrupt(code),
            Safepoint::LowSpace => self.signal_low_space(code),
            Safepoint::Timer => self.timer_rang(code),
        }
    }

    /// The heap is past its limit (see `Vm::collect_garbage`): signals
    /// OutOfMemory before `code` runs (the first instruction of the
    /// activation just made, or the head of a loop), and runs it when the
    /// signal returns (a handler resumes, as Pharo's low-space handling
    /// does).
    #[cold]
    #[inline(never)]
    fn signal_low_space(&mut self, code: Ip) -> Ip {
        self.process.stack.alarm.clear(stack::LOW_SPACE);
        let message = format!(
            "the heap is past its limit of {} MB (--max-heap)",
            self.heap.max_heap() >> 20
        );
        self.signal_at_safepoint("OutOfMemory", Some(&message), code)
    }

    /// The user pressed Ctrl-C in the REPL (see `vm::interrupts`):
    /// signals UserInterrupt before `code` runs, and runs it when a
    /// handler resumes.
    #[cold]
    #[inline(never)]
    fn signal_user_interrupt(&mut self, code: Ip) -> Ip {
        self.signal_at_safepoint("UserInterrupt", None, code)
    }

    /// Signals an instance of the class named `class` (`signal:` with
    /// `message`, or `signal`) before `code` runs, and runs it when the
    /// signal returns. Without the class, `code` runs.
    fn signal_at_safepoint(&mut self, class: &str, message: Option<&str>, code: Ip) -> Ip {
        let Some(class) = self.universe.global(class) else {
            return code;
        };
        // What the continuation needs to resume this activation, below
        // the signal's receiver (the selector for the method entry).
        let resume = code_address_oop(code);
        self.push(resume);
        self.push(self.process.sent_selector);
        self.push(class);
        let (signal, args) = match message {
            Some(message) => {
                let text = self.new_string(crate::memory::Space::Young, message);
                self.push(text);
                (self.intern("signal:"), 1)
            }
            None => (self.intern("signal"), 0),
        };
        let continuation = self.universe.continuations.resume_after_interrupt();
        self.send_selector(signal, args, continuation, None, None)
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
}

// ----- handlers ---------------------------------------------------------------

pub(crate) extern "C-unwind" fn method_entry(vm: &mut Vm, ip: Ip) -> Ip {
    let i = instr(ip);
    // Registration put the method's index in `a`.
    let invocations = vm.universe.info(i.a).count_invocation();
    if i.operand != vm.process.sent_selector.bits() {
        let (expected, got) = (
            vm.symbol_text(i.operand_oop()),
            vm.symbol_text(vm.process.sent_selector),
        );
        return vm.fail(format!(
            "method entry expected #{expected} but was sent #{got}"
        ));
    }
    if invocations == vm.universe.jit_trigger {
        turned_hot(vm, i.a);
    }
    next(ip)
}

/// The method just passed the JIT's threshold: it is compiled, and its
/// next activation runs native code (this one goes on interpreted; a
/// method the JIT refuses stays interpreted).
#[cold]
#[inline(never)]
pub(super) fn turned_hot(vm: &mut Vm, method: MethodRef) {
    #[cfg(feature = "jit")]
    crate::jit::method_turned_hot(vm, method);
    #[cfg(not(feature = "jit"))]
    let _ = (vm, method);
}

/// Where an interruption of an activation (OutOfMemory or UserInterrupt
/// signalled at its start or at a loop's head) returns to: drops the signal's answer, restores the selector the
/// method entry checks, and runs the activation's first instruction.
pub(crate) extern "C-unwind" fn resume_after_interrupt(vm: &mut Vm, _ip: Ip) -> Ip {
    vm.pop();
    vm.process.sent_selector = vm.pop();
    let resume = vm.pop();
    code_address(resume)
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
    match memory::inst_var(vm.process.stack[vm.process.base], instr(ip).a as usize) {
        Some(value) => vm.return_from_frame(value),
        None => vm.fail("instance variable access out of the receiver's bounds"),
    }
}

/// `PushLiteral (or nil, true, false); ReturnTop`.
pub(crate) extern "C-unwind" fn return_constant(vm: &mut Vm, ip: Ip) -> Ip {
    vm.return_from_frame(instr(ip).operand_oop())
}

pub(crate) extern "C-unwind" fn return_top(vm: &mut Vm, _ip: Ip) -> Ip {
    let value = vm.pop();
    vm.return_from_frame(value)
}

pub(crate) extern "C-unwind" fn non_local_return(vm: &mut Vm, _ip: Ip) -> Ip {
    let value = vm.pop();
    let home = vm.frame().home;
    if vm.process.frame_at(home).is_none() {
        return vm.block_cannot_return(value);
    }
    // Leave the frames between the block and its home, running their
    // ensure: blocks, then return from the home method.
    vm.unwind(home, crate::vm::unwind::Action::Return(value))
}
