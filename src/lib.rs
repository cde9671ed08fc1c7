//! The Zag virtual machine: object model and (as it grows) the image, the
//! threaded interpreter, memory management and primitives. The `zag`
//! binary (`src/main.rs`) is its command line; the front end is the
//! `zag-compiler` crate.

pub mod image;
pub mod memory;
pub mod object;
pub mod vm;
