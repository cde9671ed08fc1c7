//! The fixed layout that code outside Rust's control (generated machine
//! code) may rely on: where the running Process's registers sit in a
//! [`Vm`], and the layout of an activation record and of an instruction.
//!
//! A handler is an `extern "C-unwind"` function of the VM and the
//! instruction it runs, answering the next instruction ([`Handler`]):
//! machine code can call any handler, and be called as one. The VM is
//! `#[repr(C)]` with the running Process first, the Process is
//! `#[repr(C)]` with its registers first, and the value stack and frame
//! block never move, so the offsets below hold for the life of the VM.
//!
//! - The value stack: `STACK_FIRST` holds the address of slot 0 and
//!   `STACK_LEN` the number of live slots (the next push goes at
//!   `first + len`).
//! - The frames: `FRAMES_FIRST` and `FRAMES_LEN` likewise; the current
//!   frame is the last live one.
//! - `BASE`: the current frame's base (the stack index of its receiver).
//! - `SENT_SELECTOR`: the selector of the send being activated, which the
//!   method entry checks; `RESULT`: what a return to Rust answers.
//! - A method's [`MethodInfo`] (flags, quick shape and operand, unit 0's
//!   frame and entry, invocation count) is at a fixed address for the
//!   life of the VM: `&vm.universe.infos[method]`; so is each send site's
//!   inline cache entry, `&vm.universe.caches[site]`.

use std::mem::{offset_of, size_of};

use super::block::Block;
use super::method::{CacheEntry, Instr, MethodInfo};
use super::process::{Frame, FrameRef, Process};
use super::stack::Stack;
use super::{Universe, Vm};
use crate::object::Oop;

pub use super::interpreter::{Handler, Ip};

const PROCESS: usize = offset_of!(Vm, process);
const STACK: usize = PROCESS + offset_of!(Process, stack) + Stack::SLOTS_OFFSET;
const FRAMES: usize = PROCESS + offset_of!(Process, frames);

pub const STACK_FIRST: usize = STACK + Block::<Oop>::FIRST_OFFSET;
pub const STACK_LEN: usize = STACK + Block::<Oop>::LEN_OFFSET;
pub const FRAMES_FIRST: usize = FRAMES + Block::<Frame>::FIRST_OFFSET;
pub const FRAMES_LEN: usize = FRAMES + Block::<Frame>::LEN_OFFSET;
pub const BASE: usize = PROCESS + offset_of!(Process, base);
pub const SENT_SELECTOR: usize = PROCESS + offset_of!(Process, sent_selector);
pub const RESULT: usize = PROCESS + offset_of!(Process, result);
/// Calls nested by machine code (a `u64`).
pub const NATIVE_DEPTH: usize = PROCESS + offset_of!(Process, native_depth);
/// The value stack's alarm (a `u8`): non-zero when the next activation
/// must take the slow way (a stack overflow, OutOfMemory to signal).
pub const STACK_ALARM: usize = PROCESS + offset_of!(Process, stack) + offset_of!(Stack, alarm);
/// The last activation id handed out (the universe's, unique across
/// Processes).
pub const LAST_ACTIVATION: usize = offset_of!(Vm, universe) + offset_of!(Universe, last_activation);
/// The lookup epoch (a `u32`), which changes whenever lookups are
/// invalidated.
pub const EPOCH: usize = offset_of!(Vm, universe) + offset_of!(Universe, epoch);

/// An activation record ([`Frame`]).
pub const FRAME_SIZE: usize = size_of::<Frame>();
pub const FRAME_METHOD: usize = offset_of!(Frame, method);
pub const FRAME_UNIT: usize = offset_of!(Frame, unit);
pub const FRAME_BASE: usize = offset_of!(Frame, base);
pub const FRAME_RETURN_IP: usize = offset_of!(Frame, return_ip);
pub const FRAME_ID: usize = offset_of!(Frame, id);
pub const FRAME_HOME: usize = offset_of!(Frame, home) + offset_of!(FrameRef, id);
pub const FRAME_HOME_INDEX: usize = offset_of!(Frame, home) + offset_of!(FrameRef, index);
pub const FRAME_CALLER_BASE: usize = offset_of!(Frame, caller_base);

/// What a send needs of a method ([`MethodInfo`]), in the universe's
/// table of them (`Universe::infos`, indexed by method, never moving).
pub const METHOD_INFO_SIZE: usize = size_of::<MethodInfo>();
pub const METHOD_INFO_ENTRY: usize = offset_of!(MethodInfo, entry);
pub const METHOD_INFO_INVOCATIONS: usize = offset_of!(MethodInfo, invocations);
pub const METHOD_INFO_QUICK_OPERAND: usize = offset_of!(MethodInfo, quick_operand);
pub const METHOD_INFO_FLAGS: usize = offset_of!(MethodInfo, flags);
pub const METHOD_INFO_QUICK_SHAPE: usize = offset_of!(MethodInfo, quick_shape);
pub const METHOD_INFO_NUM_ARGS: usize = offset_of!(MethodInfo, num_args);
pub const METHOD_INFO_NUM_TEMPS: usize = offset_of!(MethodInfo, num_temps);
pub const METHOD_INFO_MAX_STACK: usize = offset_of!(MethodInfo, max_stack);

/// An inline cache entry ([`CacheEntry`]), in the universe's block of them
/// (`Universe::caches`, indexed by `Instr::site`, never moving).
pub const CACHE_ENTRY_SIZE: usize = size_of::<CacheEntry>();
pub const CACHE_ENTRY_CLASS: usize = offset_of!(CacheEntry, class);
pub const CACHE_ENTRY_METHOD: usize = offset_of!(CacheEntry, method);

/// An instruction ([`Instr`]).
pub const INSTR_SIZE: usize = size_of::<Instr>();
pub const INSTR_HANDLER: usize = offset_of!(Instr, handler);
pub const INSTR_OPERAND: usize = offset_of!(Instr, operand);
pub const INSTR_A: usize = offset_of!(Instr, a);
pub const INSTR_B: usize = offset_of!(Instr, b);
pub const INSTR_SITE: usize = offset_of!(Instr, site);
pub const INSTR_KIND: usize = offset_of!(Instr, kind);

#[cfg(test)]
mod tests {
    use super::*;

    /// The word at `offset` in `vm`, read as generated code would.
    fn word(vm: &Vm, offset: usize) -> usize {
        // SAFETY: the offsets are inside the Vm, at word-aligned fields.
        unsafe {
            (vm as *const Vm as *const u8)
                .add(offset)
                .cast::<usize>()
                .read()
        }
    }

    #[test]
    fn the_registers_are_where_the_offsets_say() {
        let mut vm = Vm::new();
        let n = |i: i64| Oop::small_integer(i).unwrap();
        vm.process.stack.extend_from_slice(&[n(1), n(2), n(3)]);
        vm.process.base = 1;
        vm.process.sent_selector = n(42);
        let frame = Frame {
            method: 7,
            unit: 2,
            base: 1,
            return_ip: std::ptr::null(),
            id: 11,
            home: FrameRef { id: 10, index: 5 },
            caller_base: 0,
        };
        assert!(vm.process.frames.push(frame));
        assert_eq!(word(&vm, STACK_LEN), 3);
        let slots = word(&vm, STACK_FIRST) as *const Oop;
        // SAFETY: the stack has 3 live slots.
        assert_eq!(unsafe { slots.add(2).read() }, n(3));
        assert_eq!(word(&vm, BASE), 1);
        assert_eq!(word(&vm, SENT_SELECTOR), n(42).bits() as usize);
        assert_eq!(word(&vm, FRAMES_LEN), 1);
        let first = word(&vm, FRAMES_FIRST) as *const u8;
        // SAFETY: one live frame; the offsets are its fields'.
        unsafe {
            assert_eq!(first.add(FRAME_METHOD).cast::<u32>().read(), 7);
            assert_eq!(first.add(FRAME_UNIT).cast::<u16>().read(), 2);
            assert_eq!(first.add(FRAME_ID).cast::<u64>().read(), 11);
            assert_eq!(first.add(FRAME_HOME).cast::<u64>().read(), 10);
            assert_eq!(first.add(FRAME_HOME_INDEX).cast::<usize>().read(), 5);
            assert_eq!(first.add(FRAME_BASE).cast::<usize>().read(), 1);
        }
        // Pushing more keeps the block where it was.
        vm.process.stack.resize(100_000, n(0));
        assert_eq!(word(&vm, STACK_FIRST) as *const Oop, slots);
    }

    #[test]
    fn a_method_info_is_where_the_offsets_say() {
        let vm = crate::image::boot().unwrap();
        let plain = vm.universe.infos.iter().position(|i| i.is_plain()).unwrap();
        let info = &vm.universe.infos[plain];
        info.count_invocation();
        let at = info as *const MethodInfo as *const u8;
        // SAFETY: the offsets are the info's fields'.
        unsafe {
            assert_eq!(
                at.add(METHOD_INFO_ENTRY).cast::<Ip>().read(),
                info.entry.get()
            );
            assert_eq!(
                at.add(METHOD_INFO_ENTRY).cast::<Ip>().read(),
                vm.universe.methods[plain].units[0].code.as_ptr()
            );
            assert_eq!(at.add(METHOD_INFO_INVOCATIONS).cast::<u64>().read(), 1);
            assert_eq!(
                at.add(METHOD_INFO_FLAGS).cast::<u16>().read(),
                MethodInfo::PLAIN
            );
            assert_eq!(
                at.add(METHOD_INFO_NUM_TEMPS).cast::<u16>().read(),
                vm.universe.methods[plain].units[0].num_temps
            );
        }
        // The table never moves: the next method's info is one size on.
        let next = &vm.universe.infos[plain + 1] as *const MethodInfo as usize;
        assert_eq!(next - at as usize, METHOD_INFO_SIZE);
    }

    #[test]
    fn an_instruction_is_laid_out_as_build_rs_writes_it() {
        // `.quad handler, operand` then `.long a, b, site, kind`.
        assert_eq!(
            (
                INSTR_HANDLER,
                INSTR_OPERAND,
                INSTR_A,
                INSTR_B,
                INSTR_SITE,
                INSTR_KIND
            ),
            (0, 8, 16, 20, 24, 28)
        );
        assert_eq!(INSTR_SIZE, 32);
    }
}
