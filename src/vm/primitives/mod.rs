//! Primitives: what a method marked `<primitive: 60>` (by Pharo's number)
//! or `<primitive: 'primitiveSignal' module: 'ZagPrimitives'>` (the VM's
//! own, by name) runs instead of its Smalltalk body. A primitive reads the
//! receiver and the arguments from the stack and either answers a value,
//! continues somewhere else (a block activation, a send), or fails, in
//! which case the method's body runs (with the failure code in its
//! `error:` variable). Primitives check every argument: wrong types and
//! out-of-range indexes fail, they never misbehave.
//!
//! One table, [`TABLE`], holds every primitive, numbered or named: each
//! is one [`Primitive`] (its number or name, its arity, its function),
//! defined beside its code in the module of its concern (`small_integer`,
//! `float`, `indexing`, `blocks`...). A method's primitive is resolved
//! once, to its entry, when the method is registered ([`numbered`] and
//! [`named`]: at compile time for the image's methods, which build.rs
//! describes with these calls; by `method::lower` for methods compiled at
//! run time), and the interpreter calls the entry's function. A primitive
//! the table does not have (another module's, a plugin's, a number the VM
//! does not implement), or one given to a method of another arity,
//! resolves to none: the method body runs.
//!
//! The arithmetic and comparisons are plain functions on values
//! ([`small_integer::add`], [`float::less`]...), shared by the primitives
//! and by the interpreter's inline fast paths (special sends, fused
//! compare-and-jump), which keep a result when it is an [`Immediate`].

mod allocation;
pub(crate) mod blocks;
mod definition;
mod exceptions;
pub(crate) mod files;
pub mod float;
mod indexing;
mod large_integer;
mod objects;
mod perform;
mod processes;
mod reflection;
pub mod small_integer;
pub(crate) mod strings;
mod system;

pub(crate) use allocation::instance_shape;
pub use exceptions::{ENSURE_MARKER, HANDLER_MARKER};
pub use strings::STRING_EQUALS;

use super::interpreter::Ip;
use super::{Universe, Vm};
use crate::object::Oop;

pub enum Prim {
    Value(Oop),
    /// The primitive activated a frame; run from here.
    Continue(Ip),
    /// Failed, with a code of Pharo's primitive error table.
    Fail(u8),
}

fn failure(code: u8) -> Prim {
    Prim::Fail(code)
}

/// Pharo's primitive error table (`Smalltalk primitiveErrorTable`): the
/// `ec` of `<primitive: n error: ec>` is the Symbol for the failure code,
/// or nil for a generic failure (code 1).
pub const ERROR_TABLE: &[&str] = &[
    "bad receiver",
    "bad argument",
    "bad index",
    "bad number of arguments",
    "inappropriate operation",
    "unsupported operation",
    "no modification",
    "insufficient object memory",
];
const GENERIC: u8 = 1;
const BAD_RECEIVER: u8 = 2;
const BAD_ARGUMENT: u8 = 3;
const BAD_INDEX: u8 = 4;
const BAD_NUMBER_OF_ARGUMENTS: u8 = 5;
/// `#'inappropriate operation'`.
const INAPPROPRIATE: u8 = 6;
const UNSUPPORTED: u8 = 7;
/// `#'no modification'`: the receiver is read-only.
const NO_MODIFICATION: u8 = 8;
/// `#'insufficient object memory'`: the object would take the heap past
/// its limit.
const INSUFFICIENT_MEMORY: u8 = 9;

/// A primitive as the interpreter calls it: the VM (the receiver and the
/// arguments on top of its stack), the argument count and the
/// continuation. The count is always one the primitive's arity accepts.
pub type PrimitiveFn = fn(&mut Vm, usize, Ip) -> Prim;

/// How a method names its primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// Pharo's number: `<primitive: 60>`.
    Number(u32),
    /// The VM's own, of the module [`MODULE`]: `<primitive: 'name'
    /// module: 'ZagPrimitives'>`.
    Name(&'static str),
}

/// The module of the VM's named primitives.
pub const MODULE: &str = "ZagPrimitives";

/// The argument counts a primitive takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    Exactly(u8),
    /// `perform:` and `perform:with:`...: the selector, then its arguments.
    AtLeast(u8),
}

impl Arity {
    const fn accepts(self, args: usize) -> bool {
        match self {
            Arity::Exactly(n) => args == n as usize,
            Arity::AtLeast(n) => args >= n as usize,
        }
    }
}

/// An entry of the primitive table.
#[derive(Clone, Copy, Debug)]
pub struct Primitive {
    pub key: Key,
    pub arity: Arity,
    pub function: PrimitiveFn,
}

impl Primitive {
    /// Pharo's primitive `number`, taking `args` arguments.
    const fn numbered(number: u32, args: u8, function: PrimitiveFn) -> Primitive {
        Primitive {
            key: Key::Number(number),
            arity: Arity::Exactly(args),
            function,
        }
    }

    /// The VM's primitive `name`, taking `args` arguments.
    const fn named(name: &'static str, args: u8, function: PrimitiveFn) -> Primitive {
        Primitive {
            key: Key::Name(name),
            arity: Arity::Exactly(args),
            function,
        }
    }
}

/// Every module's primitives.
const PARTS: &[&[Primitive]] = &[
    small_integer::PRIMITIVES,
    large_integer::PRIMITIVES,
    float::PRIMITIVES,
    float::BOTH_CLASSES,
    indexing::PRIMITIVES,
    allocation::PRIMITIVES,
    strings::PRIMITIVES,
    objects::PRIMITIVES,
    blocks::PRIMITIVES,
    perform::PRIMITIVES,
    processes::PRIMITIVES,
    exceptions::PRIMITIVES,
    reflection::PRIMITIVES,
    system::PRIMITIVES,
    files::PRIMITIVES,
    definition::PRIMITIVES,
];

const COUNT: usize = {
    let (mut count, mut i) = (0, 0);
    while i < PARTS.len() {
        count += PARTS[i].len();
        i += 1;
    }
    count
};

/// The primitive table: every primitive the VM has, numbered or named.
pub static TABLE: [Primitive; COUNT] = {
    let mut table = [PARTS[0][0]; COUNT];
    let (mut at, mut part) = (0, 0);
    while part < PARTS.len() {
        let mut i = 0;
        while i < PARTS[part].len() {
            table[at] = PARTS[part][i];
            at += 1;
            i += 1;
        }
        part += 1;
    }
    table
};

/// The entry for `<primitive: number>` in a method of `args` arguments;
/// None when the VM has no such primitive or it takes other arguments.
pub const fn numbered(number: u32, args: usize) -> Option<&'static Primitive> {
    find(Some(number), "", args)
}

/// The entry for `<primitive: 'name' module: 'module'>` in a method of
/// `args` arguments; None for another module (a plugin), an unknown name,
/// or another arity.
pub const fn named(module: &str, name: &str, args: usize) -> Option<&'static Primitive> {
    // No module (`<primitive: 'name'>`) names one of the VM's own.
    if !const_eq(module, MODULE) && !module.is_empty() {
        return None;
    }
    find(None, name, args)
}

/// The entry whose key is `number`, or `name` when `number` is None.
const fn find(number: Option<u32>, name: &str, args: usize) -> Option<&'static Primitive> {
    let mut i = 0;
    while i < TABLE.len() {
        let entry = &TABLE[i];
        let found = match (entry.key, number) {
            (Key::Number(n), Some(number)) => n == number,
            (Key::Name(n), None) => const_eq(n, name),
            _ => false,
        };
        if found {
            return if entry.arity.accepts(args) {
                Some(entry)
            } else {
                None
            };
        }
        i += 1;
    }
    None
}

/// The table's entry for `primitive`, one that a module names as a
/// constant (a marker); the build fails if it is not there.
const fn entry(primitive: Primitive) -> &'static Primitive {
    let args = match primitive.arity {
        Arity::Exactly(n) | Arity::AtLeast(n) => n as usize,
    };
    let found = match primitive.key {
        Key::Number(number) => numbered(number, args),
        Key::Name(name) => named(MODULE, name, args),
    };
    match found {
        Some(entry) => entry,
        None => panic!("a primitive constant that is not in the table"),
    }
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The receiver and arguments: the top `N` values of the stack.
#[inline(always)]
fn top<const N: usize>(vm: &Vm) -> [Oop; N] {
    let len = vm.process.stack.len();
    std::array::from_fn(|i| vm.process.stack[len - N + i])
}

/// A new Array of new Strings.
fn string_array(vm: &mut Vm, strings: &[String]) -> Oop {
    // Each String is made while the Array is on the stack (a root).
    let array = vm.allocate(
        crate::vm::classes::ARRAY,
        crate::object::Format::Indexable,
        strings.len(),
        vm.universe.nil.bits(),
    );
    vm.process.stack.push(array);
    for (i, s) in strings.iter().enumerate() {
        let string = vm.new_string(crate::memory::Space::Young, s);
        let array = *vm.process.stack.last().expect("pushed");
        vm.store(array, i, string);
    }
    vm.process.stack.pop().expect("pushed")
}

/// A SmallInteger answer; a value beyond its range fails (generic), and
/// the Smalltalk fallback makes a LargeInteger.
fn int(v: i64) -> Prim {
    match Oop::small_integer(v) {
        Some(o) => Prim::Value(o),
        None => failure(GENERIC),
    }
}

/// An operation's result as the interpreter's fast paths answer it inline:
/// an immediate object (a SmallInteger, a SmallFloat64, true or false), or
/// None when it is not one (an overflow, a float that needs boxing, an
/// undefined result), for the full send to handle.
pub trait Immediate {
    fn immediate(self, universe: &Universe) -> Option<Oop>;
}

impl Immediate for i64 {
    #[inline(always)]
    fn immediate(self, _: &Universe) -> Option<Oop> {
        Oop::small_integer(self)
    }
}

impl Immediate for Option<i64> {
    #[inline(always)]
    fn immediate(self, _: &Universe) -> Option<Oop> {
        self.and_then(Oop::small_integer)
    }
}

impl Immediate for f64 {
    #[inline(always)]
    fn immediate(self, _: &Universe) -> Option<Oop> {
        Oop::small_float(self)
    }
}

impl Immediate for Option<f64> {
    #[inline(always)]
    fn immediate(self, _: &Universe) -> Option<Oop> {
        self.and_then(Oop::small_float)
    }
}

impl Immediate for bool {
    #[inline(always)]
    fn immediate(self, universe: &Universe) -> Option<Oop> {
        Some(universe.boolean(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::method::MethodSource;

    #[test]
    fn each_number_and_name_is_in_the_table_once() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert_ne!(a.key, b.key, "two entries for {:?}", a.key);
            }
        }
    }

    #[test]
    fn lookups_check_the_module_and_the_arity() {
        let at = numbered(60, 1).expect("at:");
        assert_eq!(at.key, Key::Number(60));
        assert!(numbered(60, 0).is_none());
        assert!(numbered(9_999, 1).is_none());
        let signal = named(MODULE, "primitiveSignal", 0).expect("signal");
        assert_eq!(signal.key, Key::Name("primitiveSignal"));
        assert!(named("FilePlugin", "primitiveSignal", 0).is_none());
        assert!(named(MODULE, "primitiveNoSuchThing", 0).is_none());
        let perform = numbered(83, 3).expect("perform:with:with:");
        assert_eq!(perform.arity, Arity::AtLeast(1));
        assert!(numbered(83, 0).is_none());
    }

    /// Every primitive of the image's methods (`pharo-export/`), numbered
    /// or `ZagPrimitives` named, is an entry of the table, of the method's
    /// arity: their methods were registered with it.
    #[test]
    fn every_primitive_of_the_image_resolves() {
        let vm = crate::image::boot().expect("boot");
        let mut checked = 0;
        for m in &vm.universe.methods {
            let MethodSource::Image(source) = m.source else {
                continue;
            };
            let Some(pragma) = source.split("<primitive: ").nth(1) else {
                assert!(m.primitive.is_none());
                continue;
            };
            let selector = vm.symbol_text(m.selector);
            let primitive = m
                .primitive
                .unwrap_or_else(|| panic!("{selector}: <primitive: {pragma} does not resolve"));
            let expected = match pragma.strip_prefix('\'') {
                Some(name) => Key::Name(&name[..name.find('\'').expect("a quoted name")]),
                None => {
                    let digits = pragma.split(|c: char| !c.is_ascii_digit()).next();
                    Key::Number(digits.and_then(|d| d.parse().ok()).expect("a number"))
                }
            };
            assert_eq!(primitive.key, expected, "{selector}");
            if let Key::Name(_) = expected {
                assert!(
                    pragma.contains(&format!("module: '{MODULE}'")),
                    "{selector}"
                );
            }
            checked += 1;
        }
        assert!(checked > 100, "only {checked} methods with primitives");
    }

    /// A method whose primitive the VM lacks (an unknown number, another
    /// module's, or one given to a method of another arity) runs its body,
    /// with nil as the failure code.
    #[test]
    fn a_primitive_the_vm_lacks_runs_the_method_body() {
        let mut vm = crate::image::boot().expect("boot");
        let mut import = zag_compiler::import::Import::default();
        import.add_source(zag_compiler::source::SourceFile::new(
            "PrimitiveProbe.class.st",
            "Class { #name : 'PrimitiveProbe', #superclass : 'Object' }
PrimitiveProbe >> unknown [ <primitive: 9999 error: ec> ^ ec ifNil: [ #body ] ]
PrimitiveProbe >> plugin [ <primitive: 'primitiveFoo' module: 'FooPlugin'> ^ #body ]
PrimitiveProbe >> otherArity: x [ <primitive: 62> ^ #body ]
PrimitiveProbe >> identity: x [ <primitive: 110> ^ #body ]
",
        ));
        crate::vm::loader::load(&mut vm, &import).expect("the probe loads");
        for (source, answer) in [
            ("PrimitiveProbe new unknown", "#body"),
            ("PrimitiveProbe new plugin", "#body"),
            ("PrimitiveProbe new otherArity: 1", "#body"),
            ("PrimitiveProbe new identity: 1", "false"),
        ] {
            let value = vm
                .evaluate(source)
                .unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(vm.describe(value), answer, "{source}");
        }
    }

    #[test]
    fn immediates_are_small_integers_small_floats_and_booleans() {
        let vm = Vm::new();
        let universe = &vm.universe;
        assert_eq!(7i64.immediate(universe), Oop::small_integer(7));
        assert_eq!(
            Oop::SMALL_INTEGER_MAX.immediate(universe),
            Oop::small_integer(Oop::SMALL_INTEGER_MAX)
        );
        assert_eq!((Oop::SMALL_INTEGER_MAX + 1).immediate(universe), None);
        assert_eq!(None::<i64>.immediate(universe), None);
        assert_eq!(1.5f64.immediate(universe), Oop::small_float(1.5));
        assert_eq!(1e300f64.immediate(universe), None);
        assert_eq!(None::<f64>.immediate(universe), None);
        assert_eq!(true.immediate(universe), Some(universe.true_object));
        assert_eq!(false.immediate(universe), Some(universe.false_object));
    }
}
