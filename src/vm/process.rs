//! The execution state of one Smalltalk Process: its value stack, its
//! block of activation records, the registers the interpreter keeps
//! (`base`, the selector being sent, the result handed back to Rust), and
//! what is in progress (signals being handled, unwinds running `ensure:`
//! blocks, a stack overflow being handled).
//!
//! The VM runs one Process at a time, held in `Vm::process`; nothing here
//! assumes it is the only one. The value stack and the frame block are
//! reserved once and never move, so code can keep their addresses; the
//! fields the interpreter reads most come first, at the fixed offsets
//! `vm::abi` publishes.

use super::block::{Block, Zeroable};
use super::exceptions::{HandlerFrames, Signal, Unhandled};
use super::interpreter::{Ip, MAX_FRAMES, OVERFLOW_FRAMES};
use super::method::MethodRef;
use super::stack::Stack;
use super::unwind::Unwind;
use super::VmError;
use crate::object::Oop;

/// An activation record: which code runs, where its slots start on the
/// value stack, and where its caller continues.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Frame {
    pub method: MethodRef,
    pub unit: u16,
    /// Stack index of the receiver.
    pub base: usize,
    /// Where the caller continues; null when the caller is Rust.
    pub return_ip: Ip,
    /// Unique id of this activation.
    pub id: u64,
    /// The method activation `^` returns from (itself for methods), found
    /// in one probe (see [`Process::frame_at`]).
    pub home: FrameRef,
    /// The `base` register to restore on return (the caller's base).
    pub caller_base: usize,
}

/// An activation named by its id and the index its frame had: the frame
/// is still there when the frame at that index has that id (ids are never
/// reused), which one probe tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct FrameRef {
    pub id: u64,
    pub index: usize,
}

// SAFETY: a frame is integers and a raw pointer: all zeroes is a valid
// (if meaningless) frame.
unsafe impl Zeroable for Frame {}

/// The activation records, innermost last, in a block reserved for
/// [`MAX_FRAMES`] + [`OVERFLOW_FRAMES`] that never moves: activation
/// refuses to go past that (a stack overflow).
pub type Frames = Block<Frame>;

#[repr(C)]
pub struct Process {
    // The registers (fixed offsets, `vm::abi`).
    pub(crate) stack: Stack,
    pub(crate) frames: Frames,
    /// The current frame's `base` (read by most instructions).
    pub(crate) base: usize,
    /// The selector of the send being activated (the method entry checks
    /// it).
    pub(crate) sent_selector: Oop,
    /// What the computation answers when control returns to Rust.
    pub(crate) result: Oop,
    /// How many calls machine code has nested into the code of the
    /// methods it sends to (bounded: past the bound, sends go back to the
    /// trampoline, so the Rust stack stays small).
    pub(crate) native_depth: u64,
    // The rest of the state.
    pub(crate) error: Option<VmError>,
    /// A stack overflow is being signalled and handled: activations may
    /// use the reserve beyond the limits (see `interpreter::stack_overflow`).
    pub(crate) handling_overflow: bool,
    /// Unwinds in progress (running `ensure:` blocks).
    pub(crate) unwinds: Vec<Unwind>,
    /// Signals being handled.
    pub(crate) signals: Vec<Signal>,
    /// Errors no handler took, whose `defaultAction` runs, innermost last.
    pub(crate) unhandled: Vec<Unhandled>,
    /// The `on:do:` frames found so far (see `exceptions`).
    pub(crate) handler_frames: HandlerFrames,
}

impl Process {
    pub fn new(nil: Oop) -> Process {
        Process {
            stack: Stack::new(),
            frames: Frames::new(MAX_FRAMES + OVERFLOW_FRAMES),
            base: 0,
            sent_selector: nil,
            result: nil,
            native_depth: 0,
            error: None,
            handling_overflow: false,
            unwinds: Vec::new(),
            signals: Vec::new(),
            unhandled: Vec::new(),
            handler_frames: HandlerFrames::default(),
        }
    }

    /// Visits every object the Process refers to (GC roots), so that a
    /// collection can update them.
    pub fn visit_roots(&mut self, visit: &mut dyn FnMut(&mut Oop)) {
        self.stack.iter_mut().for_each(&mut *visit);
        visit(&mut self.result);
        visit(&mut self.sent_selector);
        self.unwinds
            .iter_mut()
            .flat_map(|u| u.roots())
            .for_each(&mut *visit);
        self.signals
            .iter_mut()
            .for_each(|s| visit(&mut s.exception));
        self.unhandled
            .iter_mut()
            .for_each(|u| visit(&mut u.exception));
    }

    /// The index of the frame whose activation id is `id`, while it is on
    /// the stack. Every frame pushed gets a larger id than any before it,
    /// so the frames are sorted by id and a binary search finds it (a
    /// handler and reflection know only the id; a `^` and an unwind hold a
    /// [`FrameRef`] and find theirs in one probe).
    pub(crate) fn frame_index(&self, id: u64) -> Option<usize> {
        index_of_frame(&self.frames, id)
    }

    /// The index of the frame `r` names, while it is on the stack: one
    /// probe, however deep the stack.
    pub(crate) fn frame_at(&self, r: FrameRef) -> Option<usize> {
        self.frames
            .get(r.index)
            .filter(|f| f.id == r.id)
            .map(|_| r.index)
    }

    /// The frame at `index`, named so that [`Process::frame_at`] finds it.
    pub(crate) fn frame_ref(&self, index: usize) -> FrameRef {
        FrameRef {
            id: self.frames[index].id,
            index,
        }
    }

    /// Reloads the `base` register from the current frame.
    pub(crate) fn sync_base(&mut self) {
        self.base = self.frames.last().map_or(0, |f| f.base);
    }
}

/// See [`Process::frame_index`].
pub(crate) fn index_of_frame(frames: &[Frame], id: u64) -> Option<usize> {
    frames.binary_search_by_key(&id, |f| f.id).ok()
}
