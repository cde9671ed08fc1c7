//! The universe: everything the running code shares, whichever Process
//! runs it: the class table, the method registry, Symbols, globals, the
//! bindings and inline caches that instructions name by number, the VM's
//! own continuation instructions, and the class environment the run-time
//! compiler resolves names against.
//!
//! Its objects live in old space or in the image's static block, never in
//! the nursery, so a scavenge does not move them; [`Universe::roots`] lists
//! them for a full collection.

use std::collections::{HashMap, HashSet};

use super::block::Block;
use super::classes::{self, ClassIndex, ClassTable};
use super::method::{self, Instr, Method, MethodInfo, MethodRef};
use super::unwind::Continuations;
use crate::memory::{self, class_index_of};
use crate::object::Oop;

/// `#[repr(C)]`: generated code finds `last_activation` at a fixed offset
/// (`vm::abi`).
#[repr(C)]
pub struct Universe {
    pub classes: ClassTable,
    /// Every method ever installed; a [`method::MethodRef`] indexes it.
    pub methods: Vec<Method>,
    /// What sends need of each method, in fixed layout, by the same index
    /// (a block that never moves: code may keep its address).
    pub infos: Block<MethodInfo>,
    /// Code that [`Universe::replace_code`] replaced, kept because frames
    /// may still be running it.
    retired_code: Vec<method::Code>,
    /// Where each code that `replace_code` replaced starts, by where it
    /// ends (for activations still running it to find their place).
    replaced_code: std::collections::BTreeMap<usize, usize>,
    /// Symbols made at run time (old space).
    pub(crate) symbols: HashMap<String, Oop>,
    /// The image's static Symbols and the table of their names.
    pub(crate) static_symbols: StaticSymbols,
    /// Global name → Association (also for names used before definition).
    pub(crate) globals: HashMap<String, Oop>,
    /// Globals that have been given a value (not just referred to).
    pub(crate) defined_globals: HashSet<String>,
    pub nil: Oop,
    pub true_object: Oop,
    pub false_object: Oop,
    /// Bumped whenever a method is defined, invalidating the dispatch
    /// tables.
    pub(crate) epoch: u32,
    /// The inline caches of the send sites, by number (`Instr::site`):
    /// the image's sites first, then those of methods compiled at run
    /// time. They are the VM's, not the instructions', because the image's
    /// instructions are static and shared by every VM in the process. A
    /// block that never moves: code may keep its address.
    pub caches: Block<method::CacheEntry>,
    /// The bindings (Associations of globals, class and pool variables)
    /// instructions name by number, and each one's number.
    pub(crate) bindings: Vec<Oop>,
    pub(crate) binding_numbers: HashMap<u64, u32>,
    /// The invocation count at which the method entry has a method
    /// compiled by the JIT (its threshold plus one); never when there is
    /// no JIT or it is off.
    pub jit_trigger: u64,
    /// The JIT's state (LLVM, made when the first method turns hot).
    #[cfg(feature = "jit")]
    pub jit: crate::jit::Jit,
    /// The last activation id and signal id handed out: ids are unique
    /// across Processes, so a block's home or a signal met in another
    /// Process is never mistaken for one of this Process's.
    pub(crate) last_activation: u64,
    pub(crate) last_signal: u64,
    /// The Context object made for an activation, by activation id, so
    /// that every request answers the same one. Weak: an entry goes when
    /// nothing else refers to its Context (see `Vm::collect_garbage`).
    pub(crate) contexts: HashMap<u64, Oop>,
    /// Ephemerons a collection of old space fired (old objects, so no
    /// scavenge moves them), oldest first, until the program takes them
    /// (`primitiveNextFiredEphemeron`).
    pub(crate) fired_ephemerons: std::collections::VecDeque<Oop>,
    /// Instructions the VM itself returns to (unwinding, handlers).
    pub(crate) continuations: Continuations,
    /// The command-line arguments `Smalltalk arguments` answers.
    pub arguments: Vec<String>,
    /// Whether SIGINT signals UserInterrupt in the running Process
    /// instead of ending the program (the REPL; see `vm::interrupts`).
    pub user_interrupts: bool,
    /// The open files (`primitives::files`).
    pub(crate) files: super::primitives::files::OpenFiles,
    /// When the VM started (the millisecond clock).
    pub(crate) started: std::time::Instant,
    /// Every class loaded so far, as the compiler resolves names against.
    pub environment: zag_compiler::environment::Environment,
}

/// The most methods a VM registers (methods are never freed; the kernel
/// has a few thousand, a large Pharo image about 100,000).
pub const MAX_METHODS: usize = 1 << 20;

/// The most send sites (inline caches) a VM has: the kernel's code has
/// about 9,000, and code compiled at run time adds its own.
pub const MAX_SEND_SITES: usize = 1 << 22;

/// Static objects, and the Symbols among them by name (sorted).
pub(crate) type StaticSymbols = (
    &'static [memory::statics::Word],
    &'static [(&'static str, u32)],
);

impl Default for Universe {
    fn default() -> Universe {
        Universe::new()
    }
}

impl Universe {
    pub fn new() -> Universe {
        let special = &memory::statics::SPECIAL_OBJECTS;
        Universe {
            classes: ClassTable::new(),
            methods: Vec::new(),
            infos: Block::new(MAX_METHODS),
            retired_code: Vec::new(),
            replaced_code: std::collections::BTreeMap::new(),
            symbols: HashMap::new(),
            static_symbols: (&[], &[]),
            globals: HashMap::new(),
            defined_globals: HashSet::new(),
            nil: special.oop(memory::statics::NIL),
            true_object: special.oop(memory::statics::TRUE),
            false_object: special.oop(memory::statics::FALSE),
            epoch: 1,
            // Site 0 is also the (unused) site of instructions that send
            // nothing.
            caches: {
                let mut caches = Block::new(MAX_SEND_SITES);
                let _ = caches.push(method::CacheEntry::default());
                caches
            },
            bindings: Vec::new(),
            binding_numbers: HashMap::new(),
            jit_trigger: u64::MAX,
            #[cfg(feature = "jit")]
            jit: Default::default(),
            last_activation: 0,
            contexts: HashMap::new(),
            fired_ephemerons: Default::default(),
            last_signal: 0,
            continuations: Continuations::new(),
            arguments: Vec::new(),
            started: std::time::Instant::now(),
            files: Default::default(),
            user_interrupts: false,
            environment: Default::default(),
        }
    }

    /// Has methods compiled by the JIT once their method entry has run
    /// more than `threshold` times (0: at their first call), or never
    /// (None, and always when zag is built without the JIT).
    pub fn set_jit_threshold(&mut self, threshold: Option<u64>) {
        self.jit_trigger = match threshold {
            Some(n) if cfg!(feature = "jit") => n.saturating_add(1),
            _ => u64::MAX,
        };
    }

    /// What sends need of `method`.
    #[inline(always)]
    pub fn info(&self, method: MethodRef) -> &MethodInfo {
        &self.infos[method as usize]
    }

    /// Gives unit `unit` of `method` other code in this VM only (the image's
    /// static code is shared by every VM and stays as it is): every path
    /// that starts running the unit (a send's activation, a block's
    /// `value`, a restart) takes it from then on. The code replaced stays
    /// alive for the frames still running it.
    pub fn replace_code(&mut self, method: MethodRef, unit: u16, code: Box<[Instr]>) {
        let entry = code.as_ptr();
        let old = std::mem::replace(
            &mut self.methods[method as usize].units[unit as usize].code,
            method::Code::Owned(code),
        );
        let range = old.as_ptr_range();
        self.replaced_code
            .insert(range.end as usize, range.start as usize);
        if matches!(old, method::Code::Owned(_)) {
            self.retired_code.push(old);
        }
        if unit == 0 {
            self.infos[method as usize].entry.set(entry);
        }
    }

    /// The start of the replaced code (see `replace_code`) that holds
    /// instruction `ip`, if any.
    pub fn replaced_code_start(&self, ip: *const Instr) -> Option<*const Instr> {
        let (_, &start) = self.replaced_code.range(ip as usize + 1..).next()?;
        (start <= ip as usize).then_some(start as *const Instr)
    }

    /// Every object the universe refers to (roots of a full collection).
    /// Static objects are among them only when they are operands of
    /// run-time code; the collector ignores them.
    pub fn roots(&self, roots: &mut Vec<Oop>) {
        roots.extend([self.nil, self.true_object, self.false_object]);
        roots.extend(self.symbols.values());
        roots.extend(self.globals.values());
        for (_, class) in self.classes.iter() {
            roots.push(class.object);
            roots.extend(class.class_vars.values());
        }
        roots.extend(self.bindings.iter().copied());
        roots.extend(self.fired_ephemerons.iter().copied());
        for method in &self.methods {
            roots.extend([method.selector, method.object, method.ast_object]);
            for unit in &method.units {
                // Operands are 0 or objects (constants, selectors); static
                // code refers only to static objects, which are no roots.
                if let method::Code::Owned(code) = &unit.code {
                    roots.extend(code.iter().map(|i| i.operand_oop()));
                }
            }
        }
        for code in &self.retired_code {
            roots.extend(code.iter().map(|i| i.operand_oop()));
        }
    }

    /// Updates the objects the universe refers to weakly after a
    /// collection (`fate`: where each is now, `None` if reclaimed): the
    /// Context objects of activations, and the streams that own open
    /// files (whose files close with them).
    pub fn settle_weak_roots(&mut self, fate: &mut dyn FnMut(Oop) -> Option<Oop>) {
        self.contexts.retain(|_, context| match fate(*context) {
            Some(now) => {
                *context = now;
                true
            }
            None => false,
        });
        self.files.settle_weak_roots(fate);
    }

    /// The Symbols of the image: static objects, found by name in a table
    /// sorted by name.
    pub fn use_static_symbols(
        &mut self,
        objects: &'static [memory::statics::Word],
        symbols: &'static [(&'static str, u32)],
    ) {
        self.static_symbols = (objects, symbols);
    }

    /// How many Symbols were made at run time (the image's are static).
    pub fn symbols_made_at_run_time(&self) -> usize {
        self.symbols.len()
    }

    /// The Rust bool of true or false; `None` for anything else.
    pub fn as_boolean(&self, object: Oop) -> Option<bool> {
        if object == self.true_object {
            Some(true)
        } else if object == self.false_object {
            Some(false)
        } else {
            None
        }
    }

    pub fn boolean(&self, b: bool) -> Oop {
        if b {
            self.true_object
        } else {
            self.false_object
        }
    }

    /// The class object for a class index (nil when not defined).
    pub fn class_object(&self, index: ClassIndex) -> Oop {
        self.classes.get(index).map_or(self.nil, |c| c.object)
    }

    /// Makes room for `count` more classes (and their globals).
    pub fn reserve_classes(&mut self, count: usize) {
        self.classes.reserve_room(count);
        self.globals.reserve(count);
        self.defined_globals.reserve(count);
    }

    pub fn global(&self, name: &str) -> Option<Oop> {
        self.globals.get(name).and_then(|a| memory::slot(*a, 1))
    }

    /// Whether the global `name` has been defined (by a class definition or
    /// `Smalltalk at:put:`), as opposed to only referred to.
    pub fn has_global(&self, name: &str) -> bool {
        self.defined_globals.contains(name)
            || self
                .globals
                .get(name)
                .and_then(|a| memory::slot(*a, 1))
                .is_some_and(|v| v != self.nil)
    }

    /// The Association of class (or pool) variable `name` of class `owner`.
    pub fn class_variable(&self, owner: &str, name: &str) -> Option<Oop> {
        let index = self.classes.index_of(owner)?;
        self.classes.get(index)?.class_vars.get(name).copied()
    }

    /// The value of a Float (SmallFloat64 or BoxedFloat64).
    pub fn float_value(&self, oop: Oop) -> Option<f64> {
        if let Some(f) = oop.as_small_float() {
            return Some(f);
        }
        if class_index_of(oop) == classes::BOXED_FLOAT {
            return memory::word(oop, 0).map(f64::from_bits);
        }
        None
    }

    /// A new send site's inline cache, and its number.
    pub(crate) fn new_send_site(&mut self) -> Result<u32, String> {
        self.add_send_sites(1)?;
        Ok((self.caches.len() - 1) as u32)
    }

    /// `count` more send sites (the image's, numbered from 1).
    pub(crate) fn add_send_sites(&mut self, count: u32) -> Result<(), String> {
        let sites = self.caches.len() + count as usize;
        if !self.caches.resize(sites, method::CacheEntry::default()) {
            return Err(format!(
                "too many send sites: the VM holds at most {MAX_SEND_SITES}"
            ));
        }
        Ok(())
    }

    /// The number of `binding` (an Association) in the table of bindings,
    /// which it joins if it is not there yet.
    pub(crate) fn binding_number(&mut self, binding: Oop) -> u32 {
        match self.binding_numbers.get(&binding.bits()) {
            Some(&number) => number,
            None => self.add_binding(binding),
        }
    }

    /// Adds `binding` to the table of bindings under the next number (the
    /// image's static code counts on its order), which it answers.
    pub(crate) fn add_binding(&mut self, binding: Oop) -> u32 {
        let number = self.bindings.len() as u32;
        self.bindings.push(binding);
        self.binding_numbers.entry(binding.bits()).or_insert(number);
        number
    }

    /// Forgets every lookup, as a new method may change any: empties the
    /// inline caches (a few microseconds for the kernel's 9,000 sites,
    /// which keeps a cache hit to one comparison) and, through the epoch,
    /// the dispatch tables.
    pub(crate) fn invalidate_lookups(&mut self) {
        self.caches.fill(method::CacheEntry::default());
        self.epoch = self.epoch.wrapping_add(1).max(1);
    }
}
