//! Unwinding: leaving frames early, running their `ensure:` and
//! `ifCurtailed:` blocks on the way, as non-local returns and exceptions do.
//!
//! As in Pharo, a frame that must run a block when it is abandoned is one
//! whose method is marked `<primitive: 198>` (`ensure:`, `ifCurtailed:`):
//! its argument is the block, its first temporary the `complete` flag that
//! its own code sets once the block ran (or must not run). Unwinding to a
//! target frame finds the innermost such frame above the target whose
//! `complete` is nil, sets it, drops the frames above it, and runs the block
//! as an ordinary activation whose continuation (`continue_unwind`) carries
//! on; when no block is left, it performs the pending action.

use super::interpreter::{Ip, CLOSURE_NUM_ARGS};
use super::process::FrameRef;
use super::Vm;
use crate::memory;
use crate::object::Oop;

/// What to do once the frames above the target are gone.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// Return `value` from the target frame (non-local return, `return:`).
    Return(Oop),
    /// Run the target frame's method again from its start (`retry`).
    Restart,
    /// Continue at `ip` with `value` pushed on a stack of `height` slots
    /// (`resume:`: the value of the `signal` send).
    ///
    /// With `evaluate`, `value` is a block evaluated there instead, whose
    /// value is the `signal`'s (`resumeEvaluating:`, `resignalAs:`).
    Resume {
        value: Oop,
        height: usize,
        ip: Ip,
        evaluate: bool,
    },
    /// End the Process (`terminate`): the target is its bottom frame.
    Terminate,
}

/// An `on:do:` frame whose handler block is being left: it catches again
/// once the unwinding has left the handler's own frames (those from
/// `above` up), as Pharo's `handleSignal:` re-enables it in an `ensure:`
/// around the handler block. So a signal from an `ensure:` block inside
/// the handler block does not come back to it, and one from an `ensure:`
/// block of the protected block (run when `return:` or `retry` unwinds)
/// does.
#[derive(Clone, Copy, Debug)]
pub struct Reenable {
    pub handler: u64,
    pub above: usize,
}

/// An unwind in progress.
#[derive(Clone, Copy, Debug)]
pub struct Unwind {
    /// The frame that stays.
    pub target: FrameRef,
    pub action: Action,
    pub reenable: Option<Reenable>,
    /// The `ensure:` frame whose block runs (none yet at first).
    running: Option<FrameRef>,
}

impl Unwind {
    /// The objects it holds (GC roots).
    pub fn roots(&mut self) -> impl Iterator<Item = &mut Oop> {
        match &mut self.action {
            Action::Return(v) | Action::Resume { value: v, .. } => Some(v),
            Action::Restart | Action::Terminate => None,
        }
        .into_iter()
    }
}

impl Vm {
    /// Starts unwinding to the frame `target`; answers where to run next.
    pub(crate) fn unwind(&mut self, target: FrameRef, action: Action) -> Ip {
        self.unwind_reenabling(target, action, None)
    }

    /// Starts unwinding to the frame `target`, re-enabling a handler on
    /// the way (see [`Reenable`]).
    pub(crate) fn unwind_reenabling(
        &mut self,
        target: FrameRef,
        action: Action,
        reenable: Option<Reenable>,
    ) -> Ip {
        let Some(index) = self.process.frame_at(target) else {
            return self.fail("internal error: unwinding to a frame that is gone");
        };
        self.abandon_unwinds_below(index);
        self.process.unwinds.push(Unwind {
            target,
            action,
            reenable,
            running: None,
        });
        self.continue_unwind()
    }

    /// An unwind starting from an `ensure:` block that an earlier unwind
    /// runs, to that block's `ensure:` frame or below (a `^`, or a
    /// handler's `return:`), abandons the earlier one, as Pharo's does:
    /// the block's frames go, so it never returns to carry the earlier one
    /// on. One that stays inside the block (its target above the `ensure:`
    /// frame) does not.
    fn abandon_unwinds_below(&mut self, target: usize) {
        while let Some(u) = self.process.unwinds.last() {
            match u.running.and_then(|r| self.process.frame_at(r)) {
                Some(running) if running < target => break,
                _ => {
                    self.process.unwinds.pop();
                }
            }
        }
    }

    /// Runs the next pending unwind block, or finishes the unwind.
    pub(crate) fn continue_unwind(&mut self) -> Ip {
        let Some(unwind) = self.process.unwinds.last().copied() else {
            return self.fail("internal error: no unwind in progress");
        };
        let Some(target) = self.process.frame_at(unwind.target) else {
            self.process.unwinds.pop();
            return self.fail("internal error: the unwind target has gone");
        };
        // The innermost frame above the target with a block still to run.
        let pending = (target + 1..self.process.frames.len()).rev().find(|&i| {
            let f = self.process.frames[i];
            let m = &self.universe.methods[f.method as usize];
            f.unit == 0
                && m.has_primitive(super::primitives::ENSURE_MARKER)
                && self.process.stack[f.base + 1 + m.units[0].num_args as usize]
                    == self.universe.nil
        });
        if let Some(r) = unwind.reenable {
            if pending.is_none_or(|i| i < r.above) {
                self.reenable_handler(r.handler);
                if let Some(u) = self.process.unwinds.last_mut() {
                    u.reenable = None;
                }
            }
        }
        if let Some(i) = pending {
            let f = self.process.frames[i];
            if let Some(u) = self.process.unwinds.last_mut() {
                u.running = Some(FrameRef { id: f.id, index: i });
            }
            let num_args = self.universe.methods[f.method as usize].units[0].num_args as usize;
            let complete = f.base + 1 + num_args;
            self.process.stack[complete] = self.universe.true_object;
            let block = self.process.stack[f.base + 1];
            // Drop what is above the marked frame, keep the frame itself
            // (its block may refer to it) and call the block above it.
            self.process.frames.truncate(i + 1);
            self.process.sync_base();
            let frame_top =
                f.base + 1 + self.universe.methods[f.method as usize].units[0].frame_size();
            self.process
                .stack
                .truncate(frame_top.min(self.process.stack.len()));
            let takes_no_argument =
                memory::slot(block, CLOSURE_NUM_ARGS).and_then(Oop::as_small_integer) == Some(0);
            if !takes_no_argument {
                return self
                    .fail("an ensure: or ifCurtailed: argument is not a block without arguments");
            }
            self.process.stack.push(block);
            let continuation = self.universe.continuations.continue_unwind();
            return match super::primitives::blocks::value(self, 0, continuation) {
                super::primitives::Prim::Continue(ip) => ip,
                _ => self.fail("an ensure: or ifCurtailed: argument is not a block"),
            };
        }
        self.process.unwinds.pop();
        self.process.frames.truncate(target + 1);
        self.process.sync_base();
        self.leave_overflow_reserve();
        // A handler left by `^` leaves its signal behind: forget it.
        self.forget_dead_signals();
        match unwind.action {
            Action::Return(value) => self.return_from_frame(value),
            Action::Restart => self.restart_frame(),
            Action::Terminate => {
                self.process.frames.truncate(0);
                self.process.sync_base();
                self.scheduler.request = Some(super::scheduler::Request::Ended);
                std::ptr::null()
            }
            Action::Resume {
                value,
                height,
                ip,
                evaluate,
            } => {
                self.process.stack.truncate(height);
                self.process.stack.push(value);
                if !evaluate {
                    return ip;
                }
                match super::primitives::blocks::value(self, 0, ip) {
                    super::primitives::Prim::Continue(next) => next,
                    _ => self.fail("resumeEvaluating: needs a block without arguments"),
                }
            }
        }
    }

    /// Lets the `on:do:` frame `handler` (if still there) catch again.
    fn reenable_handler(&mut self, handler: u64) {
        if let Some(h) = self
            .process
            .frame_index(handler)
            .map(|i| self.process.frames[i])
        {
            let active = h.base + super::exceptions::HANDLER_ACTIVE;
            self.process.stack[active] = self.universe.true_object;
        }
    }

    /// Runs the current frame's method again from its first instruction
    /// (after the entry, which counted it already), with fresh temporaries.
    fn restart_frame(&mut self) -> Ip {
        let f = *self.process.frames.last().expect("a frame is active");
        let unit = &self.universe.methods[f.method as usize].units[f.unit as usize];
        let args_end = f.base + 1 + (unit.num_args + unit.num_copied) as usize;
        let temps = unit.num_temps as usize;
        let start = if f.unit == 0 { 1 } else { 0 };
        let code = unit.code[start..].as_ptr();
        self.process.stack.truncate(args_end);
        let nil = self.universe.nil;
        self.process.stack.resize(args_end + temps, nil);
        code
    }
}

/// The instructions unwinding continues at: they live as long as the VM.
pub struct Continuations {
    code: Box<[super::method::Instr]>,
}

impl Continuations {
    pub fn new() -> Continuations {
        Continuations {
            code: vec![
                super::method::Instr::internal(continue_unwind_after_block),
                super::method::Instr::internal(super::exceptions::handler_completed),
                super::method::Instr::internal(super::interpreter::return_top),
                super::method::Instr::internal(super::interpreter::resume_after_assignment),
                super::method::Instr::internal(super::interpreter::resume_after_interrupt),
                super::method::Instr::internal(super::exceptions::default_action_completed),
                super::method::Instr::internal(super::interpreter::must_be_boolean_answered),
                super::method::Instr::internal(super::scheduler::terminate_after_block),
            ]
            .into_boxed_slice(),
        }
    }

    /// Where an unwind block returns to.
    pub fn continue_unwind(&self) -> Ip {
        &self.code[0]
    }

    /// Where a handler block that falls off its end returns to.
    pub fn handler_completed(&self) -> Ip {
        &self.code[1]
    }

    /// Returns the value on top from the current frame (a resumed
    /// BlockCannotReturn: the block answers the value).
    pub fn return_top(&self) -> Ip {
        &self.code[2]
    }

    /// Where `attemptToAssign:withIndex:` returns to (a refused store into
    /// a read-only object).
    pub fn resume_after_assignment(&self) -> Ip {
        &self.code[3]
    }

    /// Where a signal interrupting an activation returns to (OutOfMemory
    /// when the heap passed its limit).
    pub fn resume_after_interrupt(&self) -> Ip {
        &self.code[4]
    }

    /// Where the `defaultAction` of an unhandled error returns to.
    pub fn default_action_completed(&self) -> Ip {
        &self.code[5]
    }

    /// Where `mustBeBoolean`, sent by a conditional jump, returns to.
    pub fn must_be_boolean_answered(&self) -> Ip {
        &self.code[6]
    }

    /// Where an `ensure:` block returns to when its Process is being
    /// terminated by another (see `vm::scheduler`).
    pub fn terminate_after_block(&self) -> Ip {
        &self.code[7]
    }
}

impl Default for Continuations {
    fn default() -> Continuations {
        Continuations::new()
    }
}

/// An unwind block returned: drop its value and carry on unwinding.
extern "C-unwind" fn continue_unwind_after_block(vm: &mut Vm, _ip: Ip) -> Ip {
    vm.process.stack.pop();
    vm.continue_unwind()
}
