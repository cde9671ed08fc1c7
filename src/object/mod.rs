//! The object model: how every Smalltalk value is represented in memory.
//!
//! - [`Oop`]: one word, a pointer or a tagged immediate (SmallInteger,
//!   Character, SmallFloat64).
//! - [`Header`]: the first word of every object: class index, [`Format`],
//!   identity hash, GC bits, slot count.

mod header;
mod oop;

pub use header::{Format, Header};
pub use oop::Oop;
