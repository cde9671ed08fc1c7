//! The Zag virtual machine, the runtime half of the `zag` binary
//! (`src/main.rs` is its command line):
//!
//! - [`object`]: the object model (`Oop`, `Header`, `Format`, the fixed
//!   class indices), re-exported from the `zag-object` crate, which
//!   build.rs shares;
//! - [`memory`]: the heap (nursery scavenger, mark-sweep old space, write
//!   barrier), the static objects compiled into the binary, and checked
//!   access to object contents;
//! - [`vm`]: classes and method dictionaries, methods and their threaded
//!   instructions, the interpreter, primitives, exceptions and unwinding,
//!   reflection, and the loader that files code in at run time;
//! - `jit` (cargo feature `jit`, on by default): hot methods compiled
//!   from their threaded code to machine code with LLVM;
//! - [`image`]: the image build.rs generated from `pharo-export/` (static
//!   objects, static code, class descriptions) and the start-up that turns
//!   it into a running VM.
//!
//! The front end (Tonel reader, parser, Zag AST, threaded-code generation)
//! is the `zag-compiler` crate, shared with build.rs as well.

pub mod image;
#[cfg(feature = "jit")]
pub mod jit;
pub mod memory;
pub mod vm;

/// The object model, from the `zag-object` crate (so that
/// `crate::object::Oop` and `zag::object::Oop` name it).
pub use zag_object as object;
