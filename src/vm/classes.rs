//! The class table: every class and metaclass, by index.
//!
//! Objects name their class by index (in the header, or by tag for
//! immediates). The classes the VM itself must know (to make integers,
//! strings, closures, messages...) have fixed indices; the others are
//! numbered as they are defined. Each class has a metaclass (its class
//! side); `Foo class superclass` is `Foo superclass class`, and the root
//! class's metaclass inherits from `Class`, as in Pharo.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use zag_compiler::ast_objects::NodeClass;
use zag_compiler::tonel::Layout;

use super::method::MethodRef;
use super::method_dictionary::MethodDictionary;
use crate::object::Oop;

// The fixed class indices (SMALL_INTEGER, ARRAY...) and `ClassIndex`.
pub use crate::object::classes::*;

/// First index given to classes the VM does not know by name.
pub(crate) const FIRST_FREE: ClassIndex = 33;

/// The classes the VM knows by name, with their fixed indices.
const WELL_KNOWN: &[(&str, ClassIndex)] = &[
    ("SmallInteger", SMALL_INTEGER),
    ("Character", CHARACTER),
    ("SmallFloat64", SMALL_FLOAT),
    ("UndefinedObject", UNDEFINED_OBJECT),
    ("True", TRUE),
    ("False", FALSE),
    ("ByteSymbol", BYTE_SYMBOL),
    ("ByteString", BYTE_STRING),
    ("Array", ARRAY),
    ("BlockClosure", BLOCK_CLOSURE),
    ("Message", MESSAGE),
    ("Association", ASSOCIATION),
    ("Metaclass", METACLASS),
    ("LargePositiveInteger", LARGE_POSITIVE_INTEGER),
    ("LargeNegativeInteger", LARGE_NEGATIVE_INTEGER),
    ("BoxedFloat64", BOXED_FLOAT),
    ("ByteArray", BYTE_ARRAY),
    ("CompiledMethod", COMPILED_METHOD),
    ("ScaledDecimal", SCALED_DECIMAL),
    ("WideSymbol", WIDE_SYMBOL),
    ("WideString", WIDE_STRING),
];

const _: () = assert!(FIRST_AST_NODE_CLASS + NodeClass::ALL.len() as ClassIndex <= SCALED_DECIMAL);
const _: () = assert!(SCALED_DECIMAL < WIDE_SYMBOL && WIDE_STRING < FIRST_FREE);

/// The index of an AST node class.
pub const fn ast_node_class(class: NodeClass) -> ClassIndex {
    FIRST_AST_NODE_CLASS + class as ClassIndex
}

/// The fixed index of a class the VM knows by name.
pub fn well_known_index(name: &str) -> Option<ClassIndex> {
    let known = WELL_KNOWN.iter().find(|(n, _)| *n == name).map(|(_, i)| *i);
    known.or_else(|| {
        let node = NodeClass::ALL.into_iter().find(|c| c.name() == name);
        node.map(ast_node_class)
    })
}

pub struct Class {
    /// `Foo` for a class, `Foo class` for its metaclass.
    pub name: String,
    pub superclass: Option<ClassIndex>,
    pub is_meta: bool,
    /// The metaclass of a class, or the class of a metaclass.
    pub partner: ClassIndex,
    pub layout: Layout,
    /// All instance variable names, inherited first.
    pub inst_vars: Names,
    /// The package that defines the class (`Kernel`, `Collections`...).
    pub package: String,
    pub methods: MethodDictionary,
    /// The class as a Smalltalk object (an instance of its metaclass).
    pub object: Oop,
    /// Class variables defined here: name → Association.
    pub class_vars: HashMap<String, Oop>,
    /// Dispatch table: selector → method, inherited ones included, filled
    /// on a miss; valid for the method epoch it records.
    pub dispatch: std::cell::RefCell<(u32, SelectorMap)>,
}

/// Instance variable names: the image's (static) or a class's defined at
/// run time.
pub enum Names {
    Static(&'static [&'static str]),
    Owned(Vec<String>),
}

impl Names {
    pub fn len(&self) -> usize {
        match self {
            Names::Static(names) => names.len(),
            Names::Owned(names) => names.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, index: usize) -> Option<&str> {
        match self {
            Names::Static(names) => names.get(index).copied(),
            Names::Owned(names) => names.get(index).map(String::as_str),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.iter().position(|n| n == name)
    }
}

/// Selector → method. Selectors are interned Symbols compared by
/// identity, so their address is the key (a dispatch-table probe is on
/// every inline-cache miss).
pub type SelectorMap = HashMap<Oop, MethodRef, BuildHasherDefault<AddressHasher>>;

/// Hashes object addresses (identity keys) with one multiply instead of
/// SipHash: the keys are not attacker-chosen, and these maps are probed on
/// hot paths (sends that miss the inline cache, `basicNew`).
#[derive(Default)]
pub struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, word: u64) {
        // Fibonacci hashing; the fold brings the well-mixed high bits down
        // to the bucket-index bits.
        let h = (self.0 ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Default)]
pub struct ClassTable {
    classes: Vec<Option<Class>>,
    by_name: HashMap<String, ClassIndex>,
    by_object: HashMap<u64, ClassIndex, BuildHasherDefault<AddressHasher>>,
    next_free: ClassIndex,
}

impl ClassTable {
    pub fn new() -> ClassTable {
        ClassTable {
            next_free: FIRST_FREE,
            ..ClassTable::default()
        }
    }

    /// Makes room for `count` more classes and their metaclasses.
    pub fn reserve_room(&mut self, count: usize) {
        let indices = FIRST_FREE as usize + 2 * count;
        self.classes
            .reserve(indices.saturating_sub(self.classes.len()));
        self.by_name.reserve(2 * count);
        self.by_object.reserve(2 * count);
    }

    /// An index for a new class named `name` (well-known or the next free).
    pub fn reserve(&mut self, name: &str) -> ClassIndex {
        if let Some(i) = self.by_name.get(name) {
            return *i;
        }
        let index = well_known_index(name).unwrap_or_else(|| {
            let i = self.next_free;
            self.next_free += 1;
            i
        });
        self.by_name.insert(name.to_string(), index);
        index
    }

    pub fn insert(&mut self, index: ClassIndex, class: Class) {
        let i = index as usize;
        if self.classes.len() <= i {
            self.classes.resize_with(i + 1, || None);
        }
        self.by_object.insert(class.object.bits(), index);
        if class.is_meta {
            self.by_name.insert(class.name.clone(), index);
        }
        self.classes[i] = Some(class);
    }

    /// Makes `object` the class object of `index` (a class object
    /// migrated to a new shape).
    pub fn set_object(&mut self, index: ClassIndex, object: Oop) {
        let Some(class) = self
            .classes
            .get_mut(index as usize)
            .and_then(Option::as_mut)
        else {
            return;
        };
        self.by_object.remove(&class.object.bits());
        class.object = object;
        self.by_object.insert(object.bits(), index);
    }

    pub fn get(&self, index: ClassIndex) -> Option<&Class> {
        self.classes.get(index as usize).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, index: ClassIndex) -> Option<&mut Class> {
        self.classes
            .get_mut(index as usize)
            .and_then(Option::as_mut)
    }

    /// Every defined class with its index.
    pub fn iter(&self) -> impl Iterator<Item = (ClassIndex, &Class)> {
        self.classes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|c| (i as ClassIndex, c)))
    }

    pub fn index_of(&self, name: &str) -> Option<ClassIndex> {
        self.by_name
            .get(name)
            .copied()
            .filter(|i| self.get(*i).is_some())
    }

    /// The class index a class object stands for.
    pub fn index_of_object(&self, object: Oop) -> Option<ClassIndex> {
        self.by_object.get(&object.bits()).copied()
    }

    /// The name of a class, or a placeholder for an undefined index.
    /// The name of a class; for a well-known index not (yet) defined, the
    /// name it is reserved for.
    pub fn name(&self, index: ClassIndex) -> String {
        if let Some(c) = self.get(index) {
            return c.name.clone();
        }
        match WELL_KNOWN.iter().find(|(_, i)| *i == index) {
            Some((name, _)) => name.to_string(),
            None => format!("<class {index}>"),
        }
    }

    /// The method `class` runs for `selector`: from its dispatch table, or
    /// looked up through the superclasses and remembered there. `epoch` is
    /// the VM's method epoch (a new definition empties every table).
    pub fn dispatch(&self, class: ClassIndex, selector: Oop, epoch: u32) -> Option<MethodRef> {
        let c = self.get(class)?;
        let mut table = c.dispatch.borrow_mut();
        if table.0 != epoch {
            *table = (epoch, SelectorMap::default());
        }
        if let Some(m) = table.1.get(&selector) {
            return Some(*m);
        }
        let found = self.lookup(class, selector)?;
        table.1.insert(selector, found);
        Some(found)
    }

    /// Looks `selector` up from `class` through its superclasses.
    pub fn lookup(&self, mut class: ClassIndex, selector: Oop) -> Option<MethodRef> {
        for _ in 0..10_000 {
            let c = self.get(class)?;
            if let Some(m) = c.methods.get(selector) {
                return Some(m);
            }
            class = c.superclass?;
        }
        None
    }

    /// Whether `class` is `ancestor` or inherits from it.
    pub fn inherits_from(&self, mut class: ClassIndex, ancestor: ClassIndex) -> bool {
        for _ in 0..10_000 {
            if class == ancestor {
                return true;
            }
            match self.get(class).and_then(|c| c.superclass) {
                Some(s) => class = s,
                None => return false,
            }
        }
        false
    }
}
