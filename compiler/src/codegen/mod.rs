//! Stage 3, code generation: the Zag AST to what the VM runs and shows.
//!
//! [`threaded`] compiles a method to stack ops per code unit (closures,
//! inlined control flow, frame sizes); [`lowering`] turns those ops into
//! the interpreter's instructions as a plan (handlers and operands by
//! name), which build.rs lays out as static code and the runtime makes
//! into code; [`ast_objects`] builds a method's RB*Node objects in any
//! object space (the image's static block, or the heap).

pub mod ast_objects;
pub mod lowering;
pub mod threaded;
