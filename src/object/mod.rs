//! The object model: how every Smalltalk value is represented in memory.
//!
//! - [`Oop`]: one word, a pointer or a tagged immediate (SmallInteger,
//!   Character, SmallFloat64).
//! - [`Header`]: the first word of every object: class index, [`Format`],
//!   identity hash, GC bits, slot count.
//!
//! Both files stand alone (build.rs includes them to encode the image's
//! static objects exactly as the runtime reads them).

mod header;
mod oop;

pub use header::{Format, Header, OVERFLOW_MARK};
pub use oop::Oop;
