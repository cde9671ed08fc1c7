//! The threaded interpreter: a trampoline that calls each instruction's
//! handler, which answers the next instruction to run.
//!
//! Smalltalk frames live on the running Process's stacks (values in `stack`,
//! activation records in `frames`), never on the Rust stack: a send
//! pushes a frame and answers the callee's first instruction, a return pops
//! one and answers the caller's continuation. Deep Smalltalk recursion is
//! therefore bounded by [`MAX_STACK_SLOTS`], and ends in a Smalltalk-level
//! error, not a Rust stack overflow. A null instruction pointer hands
//! control back to the Rust caller (with a result or an error).
//!
//! Frame layout on the value stack: the receiver at `base`, then the frame
//! slots (arguments, copied values, temporaries), then the operand stack.

//!
//! The handlers live by concern: `sends` (inline caches, invocation,
//! special sends), `frames` (activation, the method entry, returns),
//! `variables` (the operand stack, variables, fused assignments),
//! `control` (jumps and fused compare-and-jumps) and `closures`.

use super::classes::{self, ClassIndex};
use super::method::{CacheEntry, Instr, MethodInfo, MethodRef, Quick};
use super::primitives::{self, float, small_integer, Immediate, Prim};
use super::process::{Frame, FrameRef};
use super::stack;
use super::{ErrorKind, Vm, VmError};
use crate::memory::{self, class_index_of};
use crate::object::{Format, Oop};
use zag_compiler::lowering::CHAINED;

// (Defined before the modules that use it.)
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

mod closures;
mod control;
mod frames;
mod sends;
#[cfg(test)]
mod tests;
mod variables;

pub(crate) use closures::*;
pub use closures::{
    CLOSURE_FIXED, CLOSURE_HOME, CLOSURE_HOME_INDEX, CLOSURE_METHOD, CLOSURE_NUM_ARGS,
    CLOSURE_RECEIVER, CLOSURE_UNIT,
};
pub(crate) use control::*;
pub(crate) use frames::*;
pub(crate) use sends::*;
pub(crate) use variables::*;

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
pub(crate) fn run(vm: &mut Vm, ip: Ip) -> Result<Oop, VmError> {
    run_to_stop(vm, ip);
    match vm.process.error.take() {
        Some(e) => Err(e),
        None => Ok(vm.process.result),
    }
}

/// Runs from `ip` until an instruction answers null: the computation
/// ended, failed (`Process::error`), or its Process stopped running (see
/// `vm::scheduler`).
pub(crate) fn run_to_stop(vm: &mut Vm, mut ip: Ip) {
    while !ip.is_null() {
        // SAFETY: every non-null ip points into the code of a method the
        // VM owns and never frees.
        let handler = unsafe { (*ip).handler };
        ip = handler(vm, ip);
    }
}

/// An instruction's address kept on the value stack (as a SmallInteger:
/// instructions are 8-byte aligned user-space addresses, well inside its
/// range) for a continuation to go on at: where `signal`,
/// `mustBeBoolean` or a refused store's handler returns to.
pub(crate) fn code_address_oop(ip: Ip) -> Oop {
    Oop::small_integer(ip as i64).expect("a user-space address")
}

/// The instruction address [`code_address_oop`] kept.
pub(crate) fn code_address(oop: Oop) -> Ip {
    oop.small_integer_value() as usize as Ip
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

/// Runs the handler of the instruction at `ip` (not null) directly, as
/// chaining does.
#[inline(always)]
fn run_at(vm: &mut Vm, ip: Ip) -> Ip {
    (instr(ip).handler)(vm, ip)
}

// ----- chaining -------------------------------------------------------------
//
// A straight-line instruction (a push, a store, a pop, the method entry)
// whose successor is known can run that successor's handler itself
// instead of returning to the trampoline: in release builds the call is a
// tail jump, so a run of them is direct threading. Lowering chains at most
// `lowering::MAX_CHAIN` instructions in a row, which bounds the nesting where the
// compiler does not make the tail call. (`chained!` is defined above.)

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
        memory::init_slots(object, first_slot, &self.process.stack[first..]);
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
        let trace = self.trace(&self.process);
        self.process.error = Some(VmError {
            message: message.into(),
            trace,
            kind: ErrorKind::Vm,
        });
        std::ptr::null()
    }

    /// The stack trace of `process`: each frame, innermost first.
    pub(crate) fn trace(&self, process: &super::Process) -> Vec<String> {
        self.trace_of(process, process.frames.len())
    }

    /// The trace of the outermost `count` frames of `process`, innermost
    /// first, each as Pharo shows it: `Class>>selector`, or
    /// `ReceiverClass(MethodClass)>>selector` for an inherited method.
    pub(crate) fn trace_of(&self, process: &super::Process, count: usize) -> Vec<String> {
        process.frames[..count]
            .iter()
            .rev()
            .map(|f| {
                let m = &self.universe.methods[f.method as usize];
                let block = if f.unit == 0 { "" } else { "[] in " };
                let owner = self.universe.classes.name(m.class);
                let receiver_class = (f.base < process.stack.len())
                    .then(|| memory::class_index_of(process.stack[f.base]))
                    .filter(|&c| c != m.class)
                    .map(|c| self.universe.classes.name(c));
                let class = match receiver_class {
                    Some(receiver) => format!("{receiver}({owner})"),
                    None => owner.to_string(),
                };
                format!("{block}{class}>>{}", self.symbol_text(m.selector))
            })
            .collect()
    }
}
