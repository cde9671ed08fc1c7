//! The virtual machine: a [`Vm`] is the running [`Process`]'s execution
//! state, the [`Universe`] of classes and methods, and the heap.
//!
//! - [`process`]: a Process's stacks, registers and work in progress.
//! - [`universe`]: classes, methods and their info table, Symbols,
//!   globals, bindings, inline caches.
//! - [`abi`]: the fixed layout (registers, frames, instructions, method
//!   infos, caches) that generated code may rely on; [`block`]: the fixed
//!   blocks behind it.
//! - [`interpreter`]: the trampoline and the handlers, by concern.
//! - [`method`]: methods, units and instructions; run-time lowering.
//! - [`classes`], [`method_dictionary`]: the class table and lookups.
//! - [`primitives`]: the primitive table (numbered and named primitives),
//!   by class and concern, and the arithmetic the fast paths share.
//! - [`exceptions`], [`unwind`], [`reflection`]: signals and handlers,
//!   unwinding, contexts and methods as objects.
//! - [`loader`]: installs Tonel packages (classes and methods) at run time.

pub mod abi;
pub mod ast_objects;
pub mod block;
pub mod class_builder;
pub mod classes;
pub mod exceptions;
pub mod identity;
pub mod interpreter;
pub mod interrupts;
pub mod loader;
pub mod method;
pub mod method_dictionary;
pub mod primitives;
pub mod process;
pub mod reflection;
pub mod reshape;
pub mod scheduler;
pub mod stack;
pub mod universe;
pub mod unwind;

use std::fmt;

use zag_compiler::bigint::BigInt;
use zag_compiler::environment::ClassScope;
use zag_compiler::literal::Literal;
use zag_compiler::printer::print_literal;
use zag_compiler::source::Diagnostic;

use crate::memory::{self, class_index_of, Heap, Space};
use crate::object::{Format, Oop};
use classes::ClassIndex;
use method::{Method, MethodRef};
pub use process::{Frame, Process};
pub use universe::Universe;

/// Whether a selector starting with `c` is binary (`+`, `->`, `==`...).
pub fn is_binary_selector_char(c: char) -> bool {
    zag_compiler::lexer::is_binary_char(c)
}

/// A Smalltalk error that reached the VM: its message and the Smalltalk
/// stack (innermost first) when it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct VmError {
    pub message: String,
    pub trace: Vec<String>,
    pub kind: ErrorKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The VM could not go on (no doesNotUnderstand:, recursion too deep,
    /// a compile error...): shown as `Error: message`.
    Vm,
    /// A Smalltalk exception nobody handled: shown as its description
    /// (`ZeroDivide`, `Error: boom`, `MessageNotUnderstood: nil>>foo`).
    Unhandled,
    /// Source that does not compile: the message is the diagnostic
    /// (`file:line:column: message`, the line and a caret), shown as it is.
    Compile,
}

/// Where the text of a do-it comes from, for its compile errors:
/// `text[range]` is the do-it, read from `file`, whose line numbers are
/// `line_offset` more than `text`'s (a chunk of a script taken on its
/// own starts that far into the file).
#[derive(Clone, Debug)]
pub struct Origin<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub range: std::ops::Range<usize>,
    pub line_offset: usize,
}

impl<'a> Origin<'a> {
    /// All of `text`, from `file`.
    pub fn whole(file: &'a str, text: &'a str) -> Origin<'a> {
        Origin {
            file,
            text,
            range: 0..text.len(),
            line_offset: 0,
        }
    }

    /// `message` about the do-it's byte `offset`.
    fn diagnostic(&self, offset: usize, message: String) -> Diagnostic {
        let mut d = Diagnostic::at(self.file, self.text, self.range.start + offset, message);
        d.line += self.line_offset;
        d
    }
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Runaway recursion has a million frames: show both ends.
        const SHOWN: usize = 40;
        match self.kind {
            ErrorKind::Vm => write!(f, "Error: {}", self.message)?,
            ErrorKind::Unhandled | ErrorKind::Compile => write!(f, "{}", self.message)?,
        }
        let n = self.trace.len();
        for (i, frame) in self.trace.iter().enumerate() {
            if n > SHOWN + 10 && i == SHOWN {
                write!(f, "\n  ... {} more frames ...", n - SHOWN - 10)?;
            }
            if n <= SHOWN + 10 || i < SHOWN || i >= n - 10 {
                write!(f, "\n  {frame}")?;
            }
        }
        Ok(())
    }
}

/// A virtual machine: the universe of classes and methods, the heap, and
/// the execution state of the Smalltalk Process that is running.
///
/// `#[repr(C)]` with the running Process first, so that the registers
/// handlers and generated code use sit at fixed offsets (see [`abi`]).
/// Parts may touch one another only through the `Vm`: the universe knows
/// no Process, a Process knows no classes, and the heap knows neither (the
/// VM hands it their roots).
#[repr(C)]
pub struct Vm {
    /// The execution state of the running Process.
    pub process: Process,
    /// Classes, methods, symbols, globals, bindings, inline caches.
    pub universe: Universe,
    pub heap: Heap,
    /// The Processes that are not running, and timed signals.
    pub scheduler: scheduler::Scheduler,
}

/// Objects up to this size are made in the heap's reserve whenever the
/// program has been told of OutOfMemory.
const SMALL_OBJECT_SLOTS: usize = 1024;

impl Default for Vm {
    fn default() -> Vm {
        Vm::new()
    }
}

impl Vm {
    pub fn new() -> Vm {
        let universe = Universe::new();
        Vm {
            process: Process::new(universe.nil),
            universe,
            heap: Heap::new(),
            scheduler: scheduler::Scheduler::default(),
        }
    }

    // ----- allocation -------------------------------------------------------
    //
    // A young allocation may collect garbage, which moves young objects: an
    // Oop a Rust variable holds across an allocation must be on the VM's
    // stack (a root) and read back from there afterwards.

    /// Allocates a new object, young unless it is too large for the nursery.
    pub fn allocate(&mut self, class_index: u32, format: Format, slots: usize, fill: u64) -> Oop {
        if let Some(o) = self
            .heap
            .try_allocate_young(class_index, format, slots, fill)
        {
            return o;
        }
        if Heap::fits_nursery(slots) {
            self.collect_garbage();
            if let Some(o) = self
                .heap
                .try_allocate_young(class_index, format, slots, fill)
            {
                return o;
            }
        }
        self.heap.allocate_old(class_index, format, slots, fill)
    }

    fn allocate_in(
        &mut self,
        space: Space,
        class_index: u32,
        format: Format,
        slots: usize,
        fill: u64,
    ) -> Oop {
        match space {
            Space::Young => self.allocate(class_index, format, slots, fill),
            Space::Old => self.heap.allocate_old(class_index, format, slots, fill),
        }
    }

    /// A byte object holding `data`.
    pub fn allocate_bytes(&mut self, space: Space, class_index: u32, data: &[u8]) -> Oop {
        let (format, slots) = memory::byte_shape(data.len());
        let oop = self.allocate_in(space, class_index, format, slots, 0);
        memory::fill_bytes(oop, data);
        oop
    }

    /// Scavenges the nursery; the roots are the running Process's (old
    /// objects pointing young are remembered; the universe holds no young
    /// objects).
    ///
    /// Old space is collected too when it has grown enough, or when it
    /// may be past the heap limit. Past the limit after that, the next
    /// activation signals OutOfMemory (once, until a collection finds old
    /// space below the limit again); past the limit and its reserve, the
    /// program has not stopped allocating: the VM ends it.
    pub fn collect_garbage(&mut self) {
        let Vm {
            heap,
            process,
            scheduler,
            universe,
        } = self;
        heap.scavenge_with_weak_roots(
            |visit| {
                process.visit_roots(visit);
                scheduler.visit_roots(visit);
            },
            |fate| universe.settle_weak_roots(fate),
        );
        if self.heap.wants_full_collection() {
            self.collect_old_space();
        }
        if !self.heap.over_limit() {
            if self.heap.has_room_for(self.heap.refused_slots) {
                self.heap.low_space_signalled = false;
                self.heap.refused_slots = 0;
            }
        } else if self.heap.past_reserve() {
            self.heap_exhausted();
        } else if !self.heap.low_space_signalled {
            self.heap.low_space_signalled = true;
            self.process.stack.alarm.raise(stack::LOW_SPACE);
        }
    }

    /// Whether an object of `slots` slots may be made, after collecting
    /// everything if need be: allocation primitives ask first, and fail
    /// with `#'insufficient object memory'` when not, for the Smalltalk
    /// side to signal OutOfMemory. Once that was signalled, the program
    /// may use the reserve beyond the limit (to handle it, or to go on if
    /// resumed), small objects always (signalling OutOfMemory makes some);
    /// an object that does not fit even there ends the program, as does
    /// old space past the reserve after a collection (`collect_garbage`).
    pub fn make_room(&mut self, slots: usize) -> bool {
        if self.heap.has_room_for(slots) {
            return true;
        }
        if !self.heap.could_ever_hold(slots) {
            // Bigger than the whole heap: refused, every time, whatever
            // else happens (no collection can help).
            return false;
        }
        let full_collections = self.heap.stats.full_collections;
        self.collect_garbage();
        if !self.heap.has_room_for(slots) && self.heap.stats.full_collections == full_collections {
            self.collect_old_space();
        }
        if self.heap.has_room_for(slots) {
            return true;
        }
        if self.heap.low_space_signalled {
            // Still past the limit (a collection below it would have
            // re-armed the signal).
            if slots <= SMALL_OBJECT_SLOTS || self.heap.has_room_in_reserve_for(slots) {
                return true;
            }
            self.heap_exhausted();
        }
        // The primitive's failure signals OutOfMemory; the next activation
        // need not.
        self.heap.low_space_signalled = true;
        self.heap.refused_slots = slots;
        self.process.stack.alarm.clear(stack::LOW_SPACE);
        false
    }

    /// The heap is past its limit and its reserve: the program went on
    /// allocating after OutOfMemory. Ends the process with the Smalltalk
    /// stack trace (exit status 1), before the system's allocator fails.
    #[cold]
    fn heap_exhausted(&mut self) -> ! {
        let error = VmError {
            message: format!(
                "OutOfMemory: the heap passed its limit of {} MB (--max-heap) and \
                 the program went on allocating",
                self.heap.max_heap() >> 20
            ),
            trace: self.trace(&self.process),
            kind: ErrorKind::Unhandled,
        };
        self.end_process(&error, 1)
    }

    /// Ends the process from inside a computation, as an unhandled error
    /// ends it: the Transcript's output flushed, `error` and its trace on
    /// standard error, exit `status`.
    #[cold]
    pub(crate) fn end_process(&mut self, error: &VmError, status: i32) -> ! {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        eprintln!("{error}");
        self.exit(status)
    }

    /// The VM is done, and so is the process: stops the JIT's thread (as
    /// [`Vm::exit`] does) and leaves the heap, the tables and the code to
    /// the operating system, which takes them back at once (freeing them
    /// piece by piece cost a sixth of `zag eval '3 + 4'`).
    pub fn abandon(mut self) {
        #[cfg(feature = "jit")]
        crate::jit::stop_compiling(&mut self);
        std::mem::forget(self);
    }

    /// Ends the process with `status` (`Smalltalk exit:`), the Transcript's
    /// output flushed.
    pub(crate) fn exit(&mut self, status: i32) -> ! {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // LLVM's global state goes at exit: its thread must not be in the
        // middle of a compile then.
        #[cfg(feature = "jit")]
        crate::jit::stop_compiling(self);
        std::process::exit(status)
    }

    /// Mark-sweep of old space (after a scavenge: the nursery is empty).
    /// The roots are everything the universe and the Process refer to.
    pub fn collect_old_space(&mut self) {
        let mut roots: Vec<Oop> = Vec::with_capacity(self.process.stack.len() + 4096);
        self.process.visit_roots(&mut |r| roots.push(*r));
        self.scheduler
            .visit_roots_but_collectable(&mut |r| roots.push(*r));
        self.universe.roots(&mut roots);
        let Vm {
            heap,
            universe,
            scheduler,
            ..
        } = self;
        // A Process that does not run is kept, with its stack, only if its
        // Process object is reached (from a Semaphore's list, a ready
        // queue, a variable...).
        let mut visited = Vec::new();
        let fired = heap.collect_old_with(
            roots.into_iter(),
            |reached| scheduler.roots_of_reached(reached, &mut visited),
            |fate| universe.settle_weak_roots(fate),
        );
        scheduler.forget_unreached(&visited, universe.nil);
        // Fired ephemerons wait for the program, which learns of them by
        // its Semaphore at the next safepoint.
        if !fired.is_empty() {
            self.universe.fired_ephemerons.extend(fired);
            if let Some(semaphore) = self.scheduler.finalization_semaphore {
                self.signal_at_next_safepoint(semaphore);
            }
        }
    }

    /// Collects every `n` young allocations (GC stress testing), or never.
    pub fn set_gc_stress(&mut self, every: Option<u32>) {
        self.heap.set_stress(every);
    }

    /// Stores into slot `index` of an existing object, with the write
    /// barrier; `false` when out of bounds.
    pub fn store(&mut self, object: Oop, index: usize, value: Oop) -> bool {
        // Static objects are shared by every VM and never written.
        debug_assert!(
            !memory::statics::is_static(object),
            "a store into a static object"
        );
        if !memory::init_slot(object, index, value) {
            return false;
        }
        self.heap.write_barrier(object, value);
        true
    }

    /// The unique Symbol named `name`: the image's static one, or one made
    /// in old space.
    pub fn intern(&mut self, name: &str) -> Oop {
        let (objects, table) = self.universe.static_symbols;
        if let Ok(i) = table.binary_search_by(|(n, _)| n.as_bytes().cmp(name.as_bytes())) {
            return memory::statics::object_at(objects, table[i].1 as usize);
        }
        if let Some(s) = self.universe.symbols.get(name) {
            return *s;
        }
        let symbol = self.new_text(Space::Old, name, classes::BYTE_SYMBOL, classes::WIDE_SYMBOL);
        // SAFETY: just made in old space. Symbols are read-only, as in Pharo.
        unsafe { memory::set_read_only(symbol, true) };
        self.universe.symbols.insert(name.to_string(), symbol);
        symbol
    }

    /// The text of a Symbol or String (Latin-1 bytes or 32-bit code
    /// points); "?" when it is not text.
    pub fn symbol_text(&self, symbol: Oop) -> String {
        memory::text(&self.heap, symbol).unwrap_or_else(|| "?".to_string())
    }

    /// An Array of `values`, which must not be young when `space` is
    /// Young (a collection could move them; see `allocate`).
    pub fn new_array(&mut self, space: Space, values: &[Oop]) -> Oop {
        let nil = self.universe.nil.bits();
        let array = self.allocate_in(space, classes::ARRAY, Format::Indexable, values.len(), nil);
        for (i, v) in values.iter().enumerate() {
            self.store(array, i, *v);
        }
        array
    }

    /// A String of `text`: a ByteString when every character is below
    /// 256, else a WideString, as Pharo has them.
    pub fn new_string(&mut self, space: Space, text: &str) -> Oop {
        self.new_text(space, text, classes::BYTE_STRING, classes::WIDE_STRING)
    }

    /// An instance of `byte_class` holding `text` in Latin-1, or of
    /// `wide_class` holding its code points when it has a character past
    /// Latin-1.
    fn new_text(&mut self, space: Space, text: &str, byte_class: u32, wide_class: u32) -> Oop {
        match memory::encode_text(text) {
            memory::Encoded::Latin1(bytes) => self.allocate_bytes(space, byte_class, &bytes),
            memory::Encoded::Wide(words) => {
                let (format, slots) = memory::words32_shape(words.len());
                let oop = self.allocate_in(space, wide_class, format, slots, 0);
                memory::fill_words32(oop, &words);
                oop
            }
        }
    }

    /// The Association holding a global (made, with value nil, on first use).
    pub fn global_binding(&mut self, name: &str) -> Oop {
        if let Some(a) = self.universe.globals.get(name) {
            return *a;
        }
        let key = self.intern(name);
        let association = self.new_association(key, self.universe.nil);
        self.universe.globals.insert(name.to_string(), association);
        association
    }

    /// An Association in old space (bindings of globals and variables).
    pub fn new_association(&mut self, key: Oop, value: Oop) -> Oop {
        let a = self.heap.allocate_old(
            classes::ASSOCIATION,
            Format::Fixed,
            2,
            self.universe.nil.bits(),
        );
        self.store(a, 0, key);
        self.store(a, 1, value);
        a
    }

    pub fn set_global(&mut self, name: &str, value: Oop) {
        let a = self.global_binding(name);
        self.store(a, 1, value);
        self.universe.defined_globals.insert(name.to_string());
    }

    /// Sends `initialize` to each class in `classes` whose class side
    /// defines it (Pharo's class initialization on load), in that order.
    pub fn initialize_classes(&mut self, classes: &[ClassIndex]) -> Result<(), VmError> {
        let initialize = self.intern("initialize");
        for &class in classes {
            let Some(c) = self.universe.classes.get(class) else {
                continue;
            };
            let defines = self
                .universe
                .classes
                .get(c.partner)
                .is_some_and(|meta| meta.methods.contains(initialize));
            if defines {
                let object = c.object;
                self.send(object, "initialize", &[])?;
            }
        }
        Ok(())
    }

    /// The object for a literal value: in old space (compiled code points
    /// at it) and read-only, as Pharo's compiler makes literals.
    pub fn literal(&mut self, literal: &Literal) -> Result<Oop, String> {
        let object = self.literal_object(literal)?;
        let made = matches!(
            literal,
            Literal::Integer(_)
                | Literal::String(_)
                | Literal::Array(_)
                | Literal::ByteArray(_)
                | Literal::LargeInteger(_)
                | Literal::Float(_)
                | Literal::ScaledDecimal { .. }
        );
        if made && object.is_pointer() {
            // SAFETY: a literal object just made in old space.
            unsafe { memory::set_read_only(object, true) };
        }
        Ok(object)
    }

    fn literal_object(&mut self, literal: &Literal) -> Result<Oop, String> {
        Ok(match literal {
            Literal::Nil => self.universe.nil,
            Literal::True => self.universe.true_object,
            Literal::False => self.universe.false_object,
            Literal::Integer(i) => self.integer(Space::Old, &BigInt::from_i64(*i)),
            Literal::LargeInteger(b) => self.integer(Space::Old, b),
            Literal::Float(f) => self.float(Space::Old, f.0),
            Literal::Character(c) => Oop::character(*c),
            Literal::String(s) => self.new_string(Space::Old, s),
            Literal::Symbol(s) => self.intern(s),
            Literal::Array(items) => {
                let values = items
                    .iter()
                    .map(|l| self.literal(l))
                    .collect::<Result<Vec<_>, _>>()?;
                self.new_array(Space::Old, &values)
            }
            Literal::ByteArray(bytes) => {
                self.allocate_bytes(Space::Old, classes::BYTE_ARRAY, bytes)
            }
            Literal::ScaledDecimal {
                mantissa,
                decimals,
                scale,
            } => self.scaled_decimal(mantissa, *decimals, *scale)?,
        })
    }

    /// A ScaledDecimal literal, `mantissa / 10^decimals` shown with `scale`
    /// decimals, in old space: the class's instance variables numerator,
    /// denominator and scale hold the reduced fraction and the scale.
    fn scaled_decimal(
        &mut self,
        mantissa: &BigInt,
        decimals: u32,
        scale: u32,
    ) -> Result<Oop, String> {
        let (numerator, denominator) = zag_compiler::number::scaled_fraction(mantissa, decimals);
        let slots = self.universe.classes.get(classes::SCALED_DECIMAL).map(|c| {
            let at = |name| c.inst_vars.position(name);
            (
                c.inst_vars.len(),
                at("numerator"),
                at("denominator"),
                at("scale"),
            )
        });
        let Some((3, Some(n), Some(d), Some(s))) = slots else {
            return Err(
                "ScaledDecimal literals need the class ScaledDecimal with the instance variables \
                 numerator, denominator and scale"
                    .to_string(),
            );
        };
        let numerator = self.integer(Space::Old, &numerator);
        let denominator = self.integer(Space::Old, &denominator);
        let nil = self.universe.nil.bits();
        let object = self.allocate_in(Space::Old, classes::SCALED_DECIMAL, Format::Fixed, 3, nil);
        self.store(object, n, numerator);
        self.store(object, d, denominator);
        self.store(
            object,
            s,
            Oop::small_integer(scale as i64).expect("a small scale"),
        );
        Ok(object)
    }

    /// A SmallInteger, or a LargePositive/NegativeInteger (little-endian
    /// magnitude bytes, as in Pharo).
    pub fn integer(&mut self, space: Space, value: &BigInt) -> Oop {
        if let Some(small) = value.to_i64().and_then(Oop::small_integer) {
            return small;
        }
        let class = if value.is_negative() {
            classes::LARGE_NEGATIVE_INTEGER
        } else {
            classes::LARGE_POSITIVE_INTEGER
        };
        self.allocate_bytes(space, class, &value.magnitude_bytes())
    }

    /// A SmallFloat64, or a BoxedFloat64 outside the immediate range.
    pub fn float(&mut self, space: Space, value: f64) -> Oop {
        Oop::small_float(value).unwrap_or_else(|| {
            self.allocate_in(
                space,
                classes::BOXED_FLOAT,
                Format::Words64,
                1,
                value.to_bits(),
            )
        })
    }

    /// The value of an integer object, small or large.
    pub fn integer_value(&self, oop: Oop) -> Option<BigInt> {
        if let Some(i) = oop.as_small_integer() {
            return Some(BigInt::from_i64(i));
        }
        let negative = match class_index_of(oop) {
            classes::LARGE_POSITIVE_INTEGER => false,
            classes::LARGE_NEGATIVE_INTEGER => true,
            _ => return None,
        };
        memory::bytes(&self.heap, oop).map(|b| BigInt::from_magnitude_bytes(negative, b))
    }

    /// A short description for VM-level messages (not Smalltalk printString).
    pub fn describe(&self, oop: Oop) -> String {
        if let Some(i) = oop.as_small_integer() {
            return i.to_string();
        }
        if let Some(c) = oop.as_character_code() {
            return char::from_u32(c)
                .map_or_else(|| format!("Character value: {c}"), |c| format!("${c}"));
        }
        if let Some(f) = self.universe.float_value(oop) {
            return zag_compiler::number::pharo_float_print_string(f);
        }
        if oop == self.universe.nil {
            return "nil".into();
        }
        if oop == self.universe.true_object {
            return "true".into();
        }
        if oop == self.universe.false_object {
            return "false".into();
        }
        let class = class_index_of(oop);
        match class {
            classes::BYTE_SYMBOL | classes::WIDE_SYMBOL => {
                print_literal(&Literal::Symbol(self.symbol_text(oop)))
            }
            classes::BYTE_STRING | classes::WIDE_STRING => {
                print_literal(&Literal::String(self.symbol_text(oop)))
            }
            classes::LARGE_POSITIVE_INTEGER | classes::LARGE_NEGATIVE_INTEGER => self
                .integer_value(oop)
                .map_or_else(String::new, |b| b.to_string()),
            _ => {
                if let Some(index) = self.universe.classes.index_of_object(oop) {
                    return self.universe.classes.name(index);
                }
                let name = self.universe.classes.name(class);
                let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) {
                    "an"
                } else {
                    "a"
                };
                format!("{article} {name}")
            }
        }
    }

    /// Sends `selector` to `receiver` with `args` and runs to completion.
    pub fn send(&mut self, receiver: Oop, selector: &str, args: &[Oop]) -> Result<Oop, VmError> {
        let selector = self.intern(selector);
        let (depth, height) = (self.process.frames.len(), self.process.stack.len());
        self.process.stack.push(receiver);
        self.process.stack.extend_from_slice(args);
        let ip = self.send_selector(selector, args.len(), std::ptr::null(), None, None);
        let result = self.run_invoked(ip);
        self.settle(depth, height);
        result
    }

    /// Runs what an invocation from Rust (return ip null) started: a null
    /// `ip` means the method answered at once (a primitive or a quick
    /// method, its result on the stack) or failed.
    fn run_invoked(&mut self, ip: interpreter::Ip) -> Result<Oop, VmError> {
        if !ip.is_null() {
            let _running = interrupts::Running::enter(self);
            return self.run_scheduled(ip);
        }
        match self.process.error.take() {
            Some(e) => Err(e),
            None => Ok(self.process.stack.pop().expect("the immediate answer")),
        }
    }

    /// Compiles `source` as a do-it (statements, optional `| temps |`) with
    /// nil as the receiver, and runs it.
    pub fn evaluate(&mut self, source: &str) -> Result<Oop, VmError> {
        self.evaluate_from(&Origin::whole("<eval>", source))
    }

    /// Evaluates the do-it `origin` names; a compile error says where,
    /// in `origin`'s file.
    pub fn evaluate_from(&mut self, origin: &Origin) -> Result<Oop, VmError> {
        let method_ref = self.compile_doit_from(origin).map_err(|d| VmError {
            message: d.to_string(),
            trace: Vec::new(),
            kind: ErrorKind::Compile,
        })?;
        let (depth, height) = (self.process.frames.len(), self.process.stack.len());
        self.process.stack.push(self.universe.nil);
        let ip = self.invoke_doit(method_ref, std::ptr::null());
        let result = self.run_invoked(ip);
        self.settle(depth, height);
        result
    }

    /// Compiles `source` as a do-it (a method of UndefinedObject, not
    /// installed) and registers it; answers why not (`line:column:
    /// message`) when it does not compile.
    pub(crate) fn compile_doit(&mut self, source: &str) -> Result<MethodRef, String> {
        self.compile_doit_from(&Origin::whole("", source))
            .map_err(|d| match d.line {
                0 => d.message,
                line => format!("{line}:{}: {}", d.column, d.message),
            })
    }

    /// Compiles the do-it `origin` names and registers it; answers the
    /// diagnostic when it does not compile.
    fn compile_doit_from(&mut self, origin: &Origin) -> Result<MethodRef, Diagnostic> {
        let source = &origin.text[origin.range.clone()];
        let sequence = zag_compiler::parser::parse_doit(source)
            .map_err(|e| origin.diagnostic(e.offset, e.message))?;
        let ast = zag_compiler::convert::convert_doit(&sequence, &ClassScope::empty())
            .map_err(|e| origin.diagnostic(e.offset, e.message))?;
        let unplaced = |message: String| Diagnostic::file(origin.file, message);
        let threaded = zag_compiler::threaded::compile_method(&ast).map_err(unplaced)?;
        let class = self
            .universe
            .classes
            .index_of("UndefinedObject")
            .unwrap_or(classes::UNDEFINED_OBJECT);
        let method = method::lower(self, &threaded, class, ast).map_err(unplaced)?;
        self.register(method).map_err(unplaced)
    }

    /// Activates the do-it `method` on the receiver on top of the stack,
    /// returning to `return_ip`.
    pub(crate) fn invoke_doit(
        &mut self,
        method: MethodRef,
        return_ip: interpreter::Ip,
    ) -> interpreter::Ip {
        self.process.sent_selector = self.universe.methods[method as usize].selector;
        self.invoke(method, 0, return_ip)
    }

    /// Back to the state before a computation from Rust: after an error,
    /// whatever it left (frames, stack, unwinds, signals) is abandoned.
    fn settle(&mut self, depth: usize, height: usize) {
        self.process.frames.truncate(depth);
        self.process.stack.truncate(height);
        self.process.sync_base();
        self.leave_overflow_reserve();
        if self.process.frames.len() == depth {
            self.process.unwinds.clear();
        }
        self.forget_dead_signals();
        self.forget_finished_default_actions();
    }

    /// Adds a method to the registry (not to any class).
    pub(crate) fn register(&mut self, method: Method) -> Result<MethodRef, String> {
        self.register_as(method, None)
    }

    /// Registers a method whose CompiledMethod object, if given, already
    /// exists (the image's static ones). Fails when the registry is full
    /// ([`universe::MAX_METHODS`]: methods are never freed).
    pub(crate) fn register_as(
        &mut self,
        mut method: Method,
        object: Option<Oop>,
    ) -> Result<MethodRef, String> {
        let r = self.universe.methods.len() as MethodRef;
        // The entry instruction counts invocations in the method it names
        // (build.rs numbered the image's methods in registration order).
        if let Some(method::Code::Owned(code)) = method.units.first_mut().map(|u| &mut u.code) {
            if let Some(entry) = code.first_mut() {
                entry.a = r;
            }
        }
        if !self.universe.infos.push(method::MethodInfo::of(&method)) {
            return Err(format!(
                "too many methods: the VM holds at most {}",
                universe::MAX_METHODS
            ));
        }
        self.universe.methods.push(method);
        self.universe.methods[r as usize].object = match object {
            Some(object) => object,
            None => self.make_method_object(r),
        };
        Ok(r)
    }

    /// Installs a method in its class, replacing any with the same
    /// selector, and invalidates the lookups made so far.
    pub fn install(&mut self, method: Method) -> Result<MethodRef, String> {
        let r = self.add_method(method)?;
        self.universe.invalidate_lookups();
        Ok(r)
    }

    /// Installs a method in its class without invalidating the lookups
    /// made so far: for installing many at once, after which the caller
    /// calls [`Universe::invalidate_lookups`] before any Smalltalk code runs.
    pub(crate) fn add_method(&mut self, method: Method) -> Result<MethodRef, String> {
        let (class, selector) = (method.class, method.selector);
        let r = self.register(method)?;
        if let Some(c) = self.universe.classes.get_mut(class) {
            c.methods.insert(selector, r);
        }
        Ok(r)
    }

    /// The value stack's depth (for tests of stack discipline).
    pub fn stack_depth(&self) -> usize {
        self.process.stack.len()
    }
}
