//! The object model of Zag: how every Smalltalk value is represented in
//! memory, shared by build.rs (a build-dependency, which encodes the
//! image's static objects with it) and the runtime (a dependency, which
//! reads them and makes its own), so both agree bit for bit.
//!
//! - [`Oop`]: one word, a pointer or a tagged immediate (SmallInteger,
//!   Character, SmallFloat64), with the immediates' ranges
//!   ([`Oop::SMALL_INTEGER_MIN`], [`fits_small_float`]).
//! - [`Header`]: the first word of every object: class index, [`Format`],
//!   identity hash, GC bits, slot count ([`OVERFLOW_MARK`] marks the word
//!   that holds a large count).
//! - [`classes`]: the class indices the VM fixes (SmallInteger, Array,
//!   the AST node classes...).
//!
//! The crate has no dependencies and knows nothing of memory management
//! or the VM: it only encodes and decodes words.

pub mod classes;
mod header;
mod oop;

pub use header::{Format, Header, OVERFLOW_MARK};
pub use oop::{fits_small_float, Oop, SMALL_FLOAT_EXPONENT_OFFSET};
