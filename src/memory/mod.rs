//! Object memory: allocation, garbage collection, and checked access to
//! object contents.
//!
//! Two spaces, plus the static objects compiled into the binary
//! ([`statics`]: nil, true, false and the image's Symbols, literals,
//! CompiledMethods and method ASTs), which are never moved, written or
//! collected:
//! - the **nursery**, a fixed region where objects are made by bumping a
//!   pointer. When it is full (or a stress collection is due), a *scavenge*
//!   copies the live nursery objects into old space, leaving forwarding
//!   words behind, and empties the nursery (Cheney's algorithm with
//!   promotion on first survival).
//! - **old space**, chunks that never move: objects that survived a
//!   scavenge, and everything made while loading code at run time
//!   (symbols, classes, literals, associations), so compiled code can hold
//!   plain pointers to them. It is collected by mark-sweep
//!   ([`Heap::collect_old`]).
//!
//! Roots are the caller's (the VM's stack and registers) plus the
//! *remembered set*: old objects that may point into the nursery, kept by
//! the write barrier ([`Heap::write_barrier`]) that every store into an
//! existing object must call.
//!
//! An object always has room for one slot, which a scavenge overwrites with
//! the forwarding address. The accessors ([`slot`], [`slot_count`],
//! [`bytes`], [`class_index_of`]) are safe: they take any `Oop`, answer
//! nothing for an immediate, and rely on a pointer `Oop` pointing at a
//! live object's header (the VM's rule: an `Oop` held across an allocation
//! is kept where the collector updates it, on the VM's stack). They check
//! indexes against the object's own size, so a Smalltalk program cannot
//! read or write outside an object, and [`bytes`] borrows the [`Heap`], so
//! no collection can move the bytes while they are in use. Storing without
//! the write barrier (`init_slot`, for objects just allocated) is the
//! crate's own business; everything else stores through `Vm::store`.
//!
//! The object model itself (`Oop`, `Header`, `Format`, the fixed class
//! indices) is `crate::object`, the `zag-object` crate; this module knows
//! nothing of the VM.

pub mod limit;
mod old_space;
pub mod statics;
mod weak;

use crate::object::classes;
use crate::object::{Format, Header, Oop, OVERFLOW_MARK};
pub use old_space::OldSpace;

/// Nursery size in words (8 MiB).
pub const NURSERY_WORDS: usize = 1 << 20;
/// Objects of more words than this go straight to old space.
const LARGE_OBJECT_WORDS: usize = NURSERY_WORDS / 8;
/// The format code of a forwarded object (as in Spur).
const FORWARDED_FORMAT: u64 = 7;

/// Where a new object goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// The nursery (may trigger a scavenge).
    Young,
    /// Old space: never moves, never triggers a collection.
    Old,
}

/// Collection statistics.
#[derive(Clone, Copy, Debug, Default)]
pub struct GcStats {
    pub scavenges: u64,
    pub promoted_words: u64,
    /// Old-space (mark-sweep) collections.
    pub full_collections: u64,
}

/// Old space is collected when this many words were allocated in it since
/// the last collection, or twice what was live then if that is more.
const FULL_COLLECTION_WORDS: usize = 4 << 20;

pub struct Heap {
    old: OldSpace,
    /// Old space may grow to this many words (the heap limit less the
    /// nursery); allocation primitives fail beyond it, and the VM signals
    /// OutOfMemory when collections cannot bring old space back below it.
    limit_words: usize,
    /// The limit the VM was given (bytes): the default or `--max-heap`. A
    /// program may lower its limit and raise it again up to this, never
    /// past it (see [`Heap::lower_max_heap`]).
    ceiling_bytes: usize,
    /// OutOfMemory was signalled for old space being past the limit (the
    /// VM signals it once, until a collection finds old space below it).
    pub(crate) low_space_signalled: bool,
    /// The size (slots) of the last allocation refused for the limit: the
    /// signal re-arms only once a collection makes room for it, so that a
    /// program resuming OutOfMemory without making room cannot be refused
    /// (and signalled) for ever.
    pub(crate) refused_slots: usize,
    /// Overrides the full-collection threshold (tests).
    full_collection_words: Option<usize>,
    /// The named-field counts of the weak classes (see [`weak`]).
    weak_classes: weak::WeakClasses,
    nursery: Box<[u64]>,
    nursery_top: usize,
    remembered: Vec<Oop>,
    next_hash: u32,
    allocated_words: usize,
    /// Collect every `n` young allocations (GC stress testing).
    stress: Option<u32>,
    until_stress: u32,
    pub stats: GcStats,
}

impl Default for Heap {
    fn default() -> Heap {
        Heap::new()
    }
}

impl Heap {
    pub fn new() -> Heap {
        let mut heap = Heap {
            old: OldSpace::default(),
            limit_words: 0,
            ceiling_bytes: 0,
            low_space_signalled: false,
            refused_slots: 0,
            full_collection_words: None,
            weak_classes: weak::WeakClasses::default(),
            nursery: vec![0u64; NURSERY_WORDS].into_boxed_slice(),
            nursery_top: 0,
            remembered: Vec::new(),
            next_hash: 0,
            allocated_words: 0,
            stress: None,
            until_stress: 0,
            stats: GcStats::default(),
        };
        heap.set_max_heap(limit::default_max_heap());
        heap
    }

    /// Limits the heap (nursery and old space) to about `bytes` (never
    /// below [`limit::MIN_BYTES`]).
    pub fn set_max_heap(&mut self, bytes: usize) {
        self.ceiling_bytes = bytes.max(limit::MIN_BYTES);
        self.limit_words = self.ceiling_bytes / 8 - NURSERY_WORDS;
    }

    /// Sets the limit as a program may (`maxOldSpaceSize:`): no higher
    /// than the limit the VM was given (the default, or `--max-heap`), so
    /// that the operating system never refuses memory below it; `None`
    /// sets that one again.
    pub fn lower_max_heap(&mut self, bytes: Option<usize>) {
        let ceiling = self.ceiling_bytes;
        let bytes = bytes.map_or(ceiling, |b| b.clamp(limit::MIN_BYTES, ceiling));
        self.limit_words = bytes / 8 - NURSERY_WORDS;
    }

    /// The heap limit in bytes.
    pub fn max_heap(&self) -> usize {
        (self.limit_words + NURSERY_WORDS) * 8
    }

    /// An upper bound of the words old space holds: what was live at the
    /// last collection and everything allocated there since.
    fn old_words_bound(&self) -> usize {
        self.old.live_after_collection + self.old.allocated_since_collection
    }

    /// Whether an object of `slots` slots can be made without taking old
    /// space past the limit (counting it as if it were old already).
    pub fn has_room_for(&self, slots: usize) -> bool {
        self.old_words_bound() + Self::words_for(slots) <= self.limit_words
    }

    /// Whether an object of `slots` slots would fit below the limit in an
    /// empty heap.
    pub fn could_ever_hold(&self, slots: usize) -> bool {
        Self::words_for(slots) <= self.limit_words
    }

    /// Whether an object of `slots` slots fits below the limit plus the
    /// reserve.
    pub fn has_room_in_reserve_for(&self, slots: usize) -> bool {
        self.old_words_bound() + Self::words_for(slots) <= self.limit_with_reserve()
    }

    fn limit_with_reserve(&self) -> usize {
        self.limit_words + self.limit_words / 4
    }

    /// Whether old space may be past the limit (certainly so right after
    /// a full collection).
    pub fn over_limit(&self) -> bool {
        self.old_words_bound() > self.limit_words
    }

    /// Whether old space is past the limit by more than the reserve that
    /// lets a program handle OutOfMemory (a quarter of the limit).
    pub fn past_reserve(&self) -> bool {
        self.old_words_bound() > self.limit_with_reserve()
    }

    /// Collects at every `n`th young allocation (1: every one), or never.
    pub fn set_stress(&mut self, every: Option<u32>) {
        self.stress = every.filter(|n| *n > 0);
        self.until_stress = self.stress.unwrap_or(0);
    }

    /// Words allocated so far, in both spaces (for statistics and tests).
    pub fn allocated_words(&self) -> usize {
        self.allocated_words
    }

    /// Words of old space in use.
    pub fn old_words(&self) -> usize {
        self.old.used_words()
    }

    /// Whether old space has grown enough since its last collection to be
    /// collected (the VM asks after each scavenge).
    pub fn wants_full_collection(&self) -> bool {
        let threshold = self
            .full_collection_words
            .unwrap_or_else(|| FULL_COLLECTION_WORDS.max(2 * self.old.live_after_collection));
        self.old.allocated_since_collection > threshold || self.over_limit()
    }

    /// Collects old space after this many words are allocated there (tests).
    pub fn set_full_collection_threshold(&mut self, words: Option<usize>) {
        self.full_collection_words = words;
    }

    /// Mark-sweep of old space. The nursery must be empty (scavenge
    /// first); `roots` must include every object the VM refers to.
    pub fn collect_old(&mut self, roots: impl Iterator<Item = Oop>) {
        self.collect_old_with(roots, |_| Vec::new(), |_| {});
    }

    /// [`Heap::collect_old`] with roots the caller holds on a condition,
    /// and others it holds weakly. After each round of marking,
    /// `conditional_roots` (given a test of whether an object was reached
    /// so far) answers more roots, those the caller keeps only while some
    /// object lives (a Process's stack while its Process object is
    /// reached), until it answers none. At the end, `weak_roots` learns the
    /// fate of each object the caller refers to weakly: itself when it
    /// lives on, `None` when nothing else reached it and it is reclaimed.
    ///
    /// Ephemerons (format `Ephemeron`: a key, then what goes with it) hold
    /// their slots only while their key is reached otherwise. Once nothing
    /// more is reached, an ephemeron whose key was not is *fired*: it and
    /// its slots are kept after all (the key with them), and the answer
    /// lists it, for the caller to tell the program (finalization); it is
    /// an ordinary object from then on, so it fires once. One fires at a
    /// time, marking from it before the next is looked at, so
    /// of several ephemerons on one key, one fires per collection.
    pub fn collect_old_with(
        &mut self,
        roots: impl Iterator<Item = Oop>,
        mut conditional_roots: impl FnMut(&dyn Fn(Oop) -> bool) -> Vec<Oop>,
        weak_roots: impl FnOnce(&mut dyn FnMut(Oop) -> Option<Oop>),
    ) -> Vec<Oop> {
        debug_assert_eq!(self.nursery_top, 0, "scavenge before collecting old space");
        self.stats.full_collections += 1;
        let mut found = old_space::Found::default();
        old_space::mark(roots, &self.weak_classes, &mut found);
        let mut fired = Vec::new();
        loop {
            // Ephemerons whose keys are reached now hold their slots.
            let waiting = std::mem::take(&mut found.ephemerons);
            let (live, unreached): (Vec<Oop>, Vec<Oop>) = waiting
                .into_iter()
                .partition(|&e| reached(slot(e, 0).unwrap_or(e)));
            found.ephemerons = unreached;
            let mut more: Vec<Oop> = live.iter().flat_map(|&e| slots_of(e)).collect();
            more.extend(conditional_roots(&|value| reached(value)));
            if more.is_empty() {
                // Nothing else can be reached: fire one ephemeron.
                let Some(ephemeron) = found.ephemerons.pop() else {
                    break;
                };
                // It fires once: from now on it is an ordinary object.
                // SAFETY: `ephemeron` is a live heap object (it was marked).
                unsafe {
                    let p = ephemeron.bits() as *mut Header;
                    *p = (*p).with_format(Format::Fixed);
                }
                fired.push(ephemeron);
                more = slots_of(ephemeron);
            }
            old_space::mark(more.into_iter(), &self.weak_classes, &mut found);
        }
        // Before the sweep clears the marks: an unmarked object dies.
        let mut fate = |value: Oop| reached(value).then_some(value);
        for object in found.weak_objects {
            self.weak_classes.settle(object, fate);
        }
        weak_roots(&mut fate);
        self.old.sweep();
        fired
    }

    /// Tells the heap that instances of class `class_index` are weak
    /// objects with `named` strong fields before their weak ones.
    pub fn note_weak_class(&mut self, class_index: u32, named: usize) {
        self.weak_classes.note(class_index, named);
    }

    /// Calls `f` with every old-space object (live or not yet swept); with
    /// an empty nursery, every heap object.
    pub fn for_each_old_object(&self, f: impl FnMut(Oop)) {
        self.old.for_each_object(f);
    }

    /// Whether the nursery holds no object (after a scavenge).
    pub fn nursery_is_empty(&self) -> bool {
        self.nursery_top == 0
    }

    /// Whether `oop` is an old-space object (tests).
    pub fn is_old(&self, oop: Oop) -> bool {
        self.old.contains(oop)
    }

    fn words_for(slots: usize) -> usize {
        slots.max(1) + 1 + (slots as u64 >= Header::OVERFLOW_SLOTS) as usize
    }

    fn next_hash(&mut self) -> u32 {
        self.next_hash = self.next_hash.wrapping_add(1) & Header::MAX_HASH;
        self.next_hash.max(1)
    }

    /// Allocates in old space: never moves, never collects.
    pub fn allocate_old(
        &mut self,
        class_index: u32,
        format: Format,
        slots: usize,
        fill: u64,
    ) -> Oop {
        let words = Self::words_for(slots);
        self.allocated_words += words;
        let p = self.old.allocate(words);
        let hash = self.next_hash();
        // SAFETY: old space handed out `words` words at `p`.
        let room = unsafe { std::slice::from_raw_parts_mut(p, words) };
        write_object(room, class_index, format, slots, fill, hash)
    }

    /// Allocates in the nursery; `None` when it is full or a stress
    /// collection is due (the caller collects and tries again), or when the
    /// object is too large for the nursery (the caller uses old space).
    pub fn try_allocate_young(
        &mut self,
        class_index: u32,
        format: Format,
        slots: usize,
        fill: u64,
    ) -> Option<Oop> {
        let words = Self::words_for(slots);
        if words > LARGE_OBJECT_WORDS || self.nursery_top + words > self.nursery.len() {
            return None;
        }
        if self.stress.is_some() {
            if self.until_stress == 0 {
                self.until_stress = self.stress.unwrap_or(1);
                return None;
            }
            self.until_stress -= 1;
        }
        let start = self.nursery_top;
        self.nursery_top += words;
        self.allocated_words += words;
        let hash = self.next_hash();
        Some(write_object(
            &mut self.nursery[start..start + words],
            class_index,
            format,
            slots,
            fill,
            hash,
        ))
    }

    /// Whether a young allocation of `slots` can ever fit the nursery.
    pub fn fits_nursery(slots: usize) -> bool {
        Self::words_for(slots) <= LARGE_OBJECT_WORDS
    }

    /// The nursery's addresses (it never moves), for code that tests
    /// youth itself (the JIT's write barrier).
    pub fn nursery_range(&self) -> std::ops::Range<u64> {
        let start = self.nursery.as_ptr() as u64;
        start..start + (self.nursery.len() * 8) as u64
    }

    pub fn is_young(&self, oop: Oop) -> bool {
        oop.is_pointer() && self.nursery_range().contains(&oop.bits())
    }

    /// Must follow every store of `value` into `object` (other than the
    /// initialization of a just-allocated young object): remembers old
    /// objects that come to point into the nursery.
    pub fn write_barrier(&mut self, object: Oop, value: Oop) {
        if self.is_young(value) && !self.is_young(object) && object.is_pointer() {
            // SAFETY: a pointer Oop is a live object; old objects are writable.
            unsafe {
                let p = object.bits() as *mut u64;
                let h = Header::from_bits(*p);
                if !h.is_remembered() {
                    *p = h.with_remembered(true).bits();
                    self.remembered.push(object);
                }
            }
        }
    }

    /// Empties the nursery: every young object reachable from the roots
    /// (all visited by `visit_roots`) or from remembered old objects moves
    /// to old space, and the roots are updated.
    pub fn scavenge(&mut self, visit_roots: impl FnOnce(&mut dyn FnMut(&mut Oop))) {
        self.scavenge_with_weak_roots(visit_roots, |_| {});
    }

    /// [`Heap::scavenge`], then `weak_roots` with the fate of each object
    /// the caller refers to weakly: where it is now when it lives on,
    /// `None` when nothing else reached it and it is reclaimed.
    pub fn scavenge_with_weak_roots(
        &mut self,
        visit_roots: impl FnOnce(&mut dyn FnMut(&mut Oop)),
        weak_roots: impl FnOnce(&mut dyn FnMut(Oop) -> Option<Oop>),
    ) {
        self.stats.scavenges += 1;
        let mut queue = Vec::new();
        let mut weak_objects = Vec::new();
        visit_roots(&mut |slot: &mut Oop| *slot = self.forward(*slot, &mut queue));
        for object in std::mem::take(&mut self.remembered) {
            // SAFETY: remembered objects are live old objects.
            unsafe {
                let p = object.bits() as *mut u64;
                *p = Header::from_bits(*p).with_remembered(false).bits();
            }
            self.scan(object, &mut queue, &mut weak_objects);
        }
        while let Some(object) = queue.pop() {
            self.scan(object, &mut queue, &mut weak_objects);
        }
        // Everything reachable has moved: a young object weakly referred
        // to that did not is dead.
        for object in weak_objects {
            self.weak_classes
                .settle(object, |value| self.survivor(value));
        }
        weak_roots(&mut |value| self.survivor(value));
        self.nursery_top = 0;
    }

    /// Where `oop` is after a scavenge's tracing: itself if it is not
    /// young, its copy if it was reached, `None` if it was not.
    fn survivor(&self, oop: Oop) -> Option<Oop> {
        if !self.is_young(oop) {
            return Some(oop);
        }
        // SAFETY: a young Oop is a young object or a forwarded one.
        let p = oop.bits() as *const u64;
        unsafe { ((*p >> 24) & 0x1F == FORWARDED_FORMAT).then(|| Oop::from_bits(*p.add(1))) }
    }

    /// Updates the young pointers in `object`'s slots (those of its strong
    /// slots, for a weak object, which goes to `weak_objects`).
    fn scan(&mut self, object: Oop, queue: &mut Vec<Oop>, weak_objects: &mut Vec<Oop>) {
        // SAFETY: `object` is a live old object.
        let (h, count) = unsafe { (header(object), slot_count(object)) };
        if !h.has_pointer_slots() {
            return;
        }
        let (count, weak) = self.weak_classes.traced_slots(h, count);
        if weak {
            weak_objects.push(object);
        }
        let slots = object.bits() as *mut u64;
        for i in 0..count {
            // SAFETY: `i` is below the object's slot count.
            unsafe {
                let slot = slots.add(1 + i);
                let value = Oop::from_bits(*slot);
                if self.is_young(value) {
                    *slot = self.forward(value, queue).bits();
                }
            }
        }
    }

    /// The old-space copy of a young object (made on first visit).
    fn forward(&mut self, oop: Oop, queue: &mut Vec<Oop>) -> Oop {
        if !self.is_young(oop) {
            return oop;
        }
        let p = oop.bits() as *mut u64;
        // SAFETY: `oop` is in the nursery, so it is a young object or a
        // forwarded one, with at least one slot of room.
        unsafe {
            if (*p >> 24) & 0x1F == FORWARDED_FORMAT {
                return Oop::from_bits(*p.add(1));
            }
            let slots = slot_count(oop);
            let overflow = (slots as u64 >= Header::OVERFLOW_SLOTS) as usize;
            let words = Self::words_for(slots);
            let to = self.old.allocate(words);
            self.stats.promoted_words += words as u64;
            std::ptr::copy_nonoverlapping(p.sub(overflow), to, words);
            let new = Oop::from_pointer(to.add(overflow) as *const u64);
            *p = FORWARDED_FORMAT << 24;
            *p.add(1) = new.bits();
            queue.push(new);
            new
        }
    }
}

/// Lays out an object in `words` (which has exactly the room it needs).
fn write_object(
    words: &mut [u64],
    class_index: u32,
    format: Format,
    slots: usize,
    fill: u64,
    hash: u32,
) -> Oop {
    let mut at = 0;
    if slots as u64 >= Header::OVERFLOW_SLOTS {
        words[0] = slots as u64 | OVERFLOW_MARK;
        at = 1;
    }
    words[at] = Header::new(class_index, format, slots as u64, hash).bits();
    words[at + 1..].fill(if slots == 0 { 0 } else { fill });
    Oop::from_pointer(&words[at] as *const u64)
}

/// Reads the header of a pointer object.
///
/// # Safety
/// `oop` must be a pointer to a live object (heap or static).
pub unsafe fn header(oop: Oop) -> Header {
    let p = oop.bits() as *const Header;
    *p
}

/// The number of slots (words after the header) of an object; 0 for an
/// immediate.
pub fn slot_count(oop: Oop) -> usize {
    if !oop.is_pointer() {
        return 0;
    }
    // SAFETY: every pointer Oop the VM creates points at a live object's
    // header, preceded by the overflow word when the count is large.
    unsafe {
        let h = header(oop);
        if h.slots_field() == Header::OVERFLOW_SLOTS {
            (*(oop.bits() as *const u64).sub(1) & !OVERFLOW_MARK) as usize
        } else {
            h.slots_field() as usize
        }
    }
}

/// Whether `oop` is an object whose slots hold objects (not an immediate,
/// not bytes or words: reading those as objects would forge pointers).
#[inline]
pub fn has_pointer_slots(oop: Oop) -> bool {
    // SAFETY: a pointer Oop points at a live object's header.
    oop.is_pointer() && unsafe { header(oop) }.has_pointer_slots()
}

/// Slot `index` (0-based), or `None` out of bounds, for immediates, and
/// for objects of raw data (bytes, words: a Smalltalk program may put one
/// where the VM expects pointers, as in an ExceptionSet's list).
pub fn slot(oop: Oop, index: usize) -> Option<Oop> {
    if !has_pointer_slots(oop) || index >= slot_count(oop) {
        return None;
    }
    // SAFETY: a pointer Oop (an immediate has no slots) to a live object
    // whose slots are pointers, and `index` is below its slot count.
    unsafe { Some(Oop::from_bits(*(oop.bits() as *const u64).add(1 + index))) }
}

/// Slot `index` of an object whose layout is known to hold pointers: an
/// instance variable read by a method of the receiver's class (the class
/// table has no class with named instance variables and raw data, so the
/// receiver of such a method holds pointers), a slot of a temp vector the
/// VM made or of a BlockClosure being activated, an element of an object
/// whose header said it has indexed pointers. `None` out of bounds or for immediates, as `slot`; the
/// interpreter's hottest reads skip `slot`'s format test this way.
#[inline]
pub fn inst_var(oop: Oop, index: usize) -> Option<Oop> {
    if index >= slot_count(oop) {
        return None;
    }
    // SAFETY: a pointer Oop to a live object, `index` below its slot count;
    // its slots hold pointers (above).
    unsafe { Some(Oop::from_bits(*(oop.bits() as *const u64).add(1 + index))) }
}

/// Slots `first..first + N` of an object whose layout is known to hold
/// pointers (as for [`inst_var`]), with one bounds check.
pub fn inst_vars<const N: usize>(oop: Oop, first: usize) -> Option<[Oop; N]> {
    if first + N > slot_count(oop) {
        return None;
    }
    // SAFETY: as in `inst_var`, for each of the N slots below the count.
    Some(std::array::from_fn(|i| unsafe {
        Oop::from_bits(*(oop.bits() as *const u64).add(1 + first + i))
    }))
}

/// Word `index` (0-based) of any object as raw data (a BoxedFloat64's
/// bits), or `None` out of bounds or for immediates. Never an object.
pub fn word(oop: Oop, index: usize) -> Option<u64> {
    if index >= slot_count(oop) {
        return None;
    }
    // SAFETY: as in `slot`; the word is answered as data.
    unsafe { Some(*(oop.bits() as *const u64).add(1 + index)) }
}

/// Stores into slot `index` *without the write barrier*; `false` when out
/// of bounds or for immediates. For filling in an object just allocated,
/// which nothing old points at yet; any other store must go through
/// `Vm::store`, which calls this and then [`Heap::write_barrier`].
pub(crate) fn init_slot(oop: Oop, index: usize, value: Oop) -> bool {
    if !has_pointer_slots(oop) || index >= slot_count(oop) {
        return false;
    }
    // SAFETY: as in `slot`; heap chunks are writable memory.
    unsafe { *(oop.bits() as *mut u64).add(1 + index) = value.bits() };
    true
}

/// Stores `values` into slots `first..` *without the write barrier*, as
/// [`init_slot`] does, with one check; `false` (nothing stored) when they
/// do not all fit.
pub(crate) fn init_slots(oop: Oop, first: usize, values: &[Oop]) -> bool {
    if !has_pointer_slots(oop) || first + values.len() > slot_count(oop) {
        return false;
    }
    // SAFETY: as in `init_slot`, for each slot below the count. An Oop is
    // its bits (`repr(transparent)`).
    unsafe {
        std::ptr::copy_nonoverlapping(
            values.as_ptr().cast::<u64>(),
            (oop.bits() as *mut u64).add(1 + first),
            values.len(),
        )
    };
    true
}

/// The bytes of a byte object (String, Symbol, ByteArray, LargeInteger).
///
/// The slice borrows `_heap`, the heap the object lives in (or any heap,
/// for a static object): collecting moves young objects and frees dead old
/// ones, and allocating may collect, and all of those need `&mut Heap`, so
/// the bytes stay where they are for as long as they are borrowed. (The
/// bytes themselves must not be written meanwhile: `fill_bytes` is for
/// objects just allocated.)
pub fn bytes(_heap: &Heap, oop: Oop) -> Option<&[u8]> {
    if !oop.is_pointer() {
        return None;
    }
    // SAFETY: a live byte object has `slots` words of data after its header,
    // of which the format says how many trailing bytes are unused.
    unsafe {
        let unused = header(oop).unused_bytes()?;
        let len = slot_count(oop) * 8 - unused as usize;
        Some(std::slice::from_raw_parts(
            (oop.bits() as *const u8).add(8),
            len,
        ))
    }
}

/// The 32-bit words of an object of `Format::Words32` (a WideString), or
/// None.
pub fn words32(_heap: &Heap, oop: Oop) -> Option<&[u32]> {
    if !oop.is_pointer() {
        return None;
    }
    // SAFETY: a live object of 32-bit words has `slots` words of data
    // after its header, of which the format says how many trailing
    // half-words are unused; the data is 8-byte aligned.
    unsafe {
        let unused = header(oop).unused_half_words()?;
        let len = slot_count(oop) * 2 - unused as usize;
        Some(std::slice::from_raw_parts(
            (oop.bits() as *const u32).add(2),
            len,
        ))
    }
}

/// The 32-bit words of an object of `Format::Words32`, to write.
///
/// # Safety
/// No other reference to the object's data may be alive.
pub unsafe fn words32_mut<'a>(oop: Oop) -> Option<&'a mut [u32]> {
    if !oop.is_pointer() {
        return None;
    }
    // SAFETY: as in `words32`; the caller rules out aliases.
    unsafe {
        let unused = header(oop).unused_half_words()?;
        let len = slot_count(oop) * 2 - unused as usize;
        Some(std::slice::from_raw_parts_mut(
            (oop.bits() as *mut u32).add(2),
            len,
        ))
    }
}

/// The format and slot count of an object of `len` 32-bit words.
pub fn words32_shape(len: usize) -> (Format, usize) {
    let slots = len.div_ceil(2);
    (Format::Words32((slots * 2 - len) as u8), slots)
}

/// The characters of a string or symbol object: a byte object holds code
/// points below 256 (Latin-1, as Pharo's ByteString), an object of 32-bit
/// words any code point (a WideString). None for other objects; code
/// points that are no Unicode scalar value read as U+FFFD.
pub fn text(heap: &Heap, oop: Oop) -> Option<String> {
    if let Some(bytes) = bytes(heap, oop) {
        return Some(bytes.iter().map(|&b| b as char).collect());
    }
    let words = words32(heap, oop)?;
    Some(
        words
            .iter()
            .map(|&w| char::from_u32(w).unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
    )
}

/// How `text` is stored in a string object: as bytes (every character
/// below 256), else as 32-bit code points.
pub enum Encoded {
    Latin1(Vec<u8>),
    Wide(Vec<u32>),
}

pub fn encode_text(text: &str) -> Encoded {
    if text.chars().all(|c| (c as u32) < 256) {
        Encoded::Latin1(text.chars().map(|c| c as u8).collect())
    } else {
        Encoded::Wide(text.chars().map(|c| c as u32).collect())
    }
}

/// Copies `data` into a just-allocated object of `data.len()` 32-bit
/// words.
pub fn fill_words32(oop: Oop, data: &[u32]) {
    // SAFETY: the caller allocated `oop` with `words32_shape(data.len())`.
    unsafe {
        std::ptr::copy_nonoverlapping(data.as_ptr(), (oop.bits() as *mut u32).add(2), data.len());
    }
}

/// The format and slot count of a byte object of `len` bytes.
pub fn byte_shape(len: usize) -> (Format, usize) {
    let slots = len.div_ceil(8);
    (Format::Bytes((slots * 8 - len) as u8), slots)
}

/// Copies `data` into a just-allocated byte object of `data.len()` bytes.
pub fn fill_bytes(oop: Oop, data: &[u8]) {
    // SAFETY: the caller allocated `oop` with `byte_shape(data.len())`.
    unsafe {
        std::ptr::copy_nonoverlapping(data.as_ptr(), (oop.bits() as *mut u8).add(8), data.len());
    }
}

/// Allocates a byte object holding `data` in old space.
pub fn allocate_bytes_old(heap: &mut Heap, class_index: u32, data: &[u8]) -> Oop {
    let (format, slots) = byte_shape(data.len());
    let oop = heap.allocate_old(class_index, format, slots, 0);
    fill_bytes(oop, data);
    oop
}

/// Whether `oop` is read-only (Pharo's `isReadOnlyObject`): immediates
/// always are; a heap object when its immutable bit is set. Primitives
/// fail and instance-variable stores are refused on a read-only object.
pub fn is_read_only(oop: Oop) -> bool {
    // SAFETY: a pointer Oop points at a live object.
    !oop.is_pointer() || unsafe { header(oop).is_immutable() }
}

/// The identity hash of any value (`identityHash`): an object's is in its
/// header, an immediate's derives from its bits.
pub fn identity_hash(oop: Oop) -> u32 {
    if oop.is_pointer() {
        // SAFETY: a pointer Oop points at a live object.
        unsafe { header(oop).hash() }
    } else {
        (oop.bits() >> 3) as u32 & 0x3F_FFFF
    }
}

/// Gives a heap object (not a static one) the identity hash `hash`, as
/// `become:` does; `false` for immediates and static objects.
pub(crate) fn set_identity_hash(oop: Oop, hash: u32) -> bool {
    if !oop.is_pointer() || statics::is_static(oop) {
        return false;
    }
    let p = oop.bits() as *mut Header;
    // SAFETY: a live heap object's header, which the heap lets us write.
    unsafe { *p = (*p).with_hash(hash) };
    true
}

/// Gives a heap object (not a static one) another class, whose instances
/// have its shape (the caller checks); `false` for immediates and static
/// objects.
pub(crate) fn set_class_index(oop: Oop, class_index: u32) -> bool {
    if !oop.is_pointer() || statics::is_static(oop) {
        return false;
    }
    let p = oop.bits() as *mut Header;
    // SAFETY: a live heap object's header, which the heap lets us write.
    unsafe { *p = (*p).with_class_index(class_index) };
    true
}

/// Sets or clears the immutable bit of a heap object.
///
/// # Safety
/// `oop` must be a pointer to a live object that is not static.
pub unsafe fn set_read_only(oop: Oop, on: bool) {
    let p = oop.bits() as *mut Header;
    *p = (*p).with_immutable(on);
}

/// The slots of a pointer object, as roots to mark from.
fn slots_of(object: Oop) -> Vec<Oop> {
    (0..slot_count(object))
        .filter_map(|i| slot(object, i))
        .collect()
}

/// During a collection of old space, after marking: whether `value`
/// was reached (immediates and static objects always are).
fn reached(value: Oop) -> bool {
    !value.is_pointer()
        || value.bits() == 0
        // SAFETY: a pointer Oop held by the VM or by a live object is a
        // live object.
        || unsafe { header(value).is_marked() || header(value).is_static() }
}

/// The class index of any value, immediates included.
pub fn class_index_of(oop: Oop) -> u32 {
    if oop.is_small_integer() {
        classes::SMALL_INTEGER
    } else if oop.is_character() {
        classes::CHARACTER
    } else if oop.is_small_float() {
        classes::SMALL_FLOAT
    } else {
        // SAFETY: a pointer Oop points at a live object.
        unsafe { header(oop).class_index() }
    }
}

#[cfg(test)]
mod tests {
    use super::old_space::CHUNK_WORDS;
    use super::*;

    fn int(i: i64) -> Oop {
        Oop::small_integer(i).unwrap()
    }

    #[test]
    fn pointer_objects_are_checked() {
        let mut heap = Heap::new();
        let o = heap.allocate_old(42, Format::Indexable, 3, int(7).bits());
        assert_eq!(class_index_of(o), 42);
        assert_eq!(slot_count(o), 3);
        assert_eq!(slot(o, 2), Some(int(7)));
        assert_eq!(slot(o, 3), None);
        assert!(init_slot(o, 0, Oop::character('x')));
        assert_eq!(slot(o, 0), Some(Oop::character('x')));
        assert!(!init_slot(o, 3, Oop::character('x')));
        assert_eq!(slot(int(1), 0), None);
    }

    #[test]
    fn large_objects_use_the_overflow_word() {
        let mut heap = Heap::new();
        let o = heap.allocate_old(5, Format::Indexable, 100_000, 0);
        assert_eq!(slot_count(o), 100_000);
        assert!(init_slot(o, 99_999, int(1)));
        assert!(!init_slot(o, 100_000, int(1)));
        let big = heap.allocate_old(5, Format::Indexable, 3 * CHUNK_WORDS, 0);
        assert_eq!(slot_count(big), 3 * CHUNK_WORDS);
        assert!(heap
            .try_allocate_young(5, Format::Indexable, NURSERY_WORDS, 0)
            .is_none());
    }

    #[test]
    fn byte_objects_keep_their_exact_length() {
        let mut heap = Heap::new();
        for data in [&b""[..], b"a", b"12345678", b"hello world"] {
            let o = allocate_bytes_old(&mut heap, 9, data);
            assert_eq!(bytes(&heap, o), Some(data));
        }
        let words = heap.allocate_old(9, Format::Indexable, 1, 0);
        assert_eq!(bytes(&heap, words), None);
    }

    #[test]
    fn identity_hashes_are_assigned() {
        let mut heap = Heap::new();
        let a = heap.allocate_old(1, Format::Empty, 0, 0);
        let b = heap.try_allocate_young(1, Format::Empty, 0, 0).unwrap();
        let (ha, hb) = unsafe { (header(a).hash(), header(b).hash()) };
        assert!(ha != 0 && hb != 0 && ha != hb);
    }

    #[test]
    fn a_scavenge_moves_what_is_reachable_and_nothing_else() {
        let mut heap = Heap::new();
        let child = heap.try_allocate_young(3, Format::Indexable, 2, 0).unwrap();
        init_slot(child, 0, int(41));
        let parent = heap.try_allocate_young(3, Format::Indexable, 2, 0).unwrap();
        init_slot(parent, 0, child);
        init_slot(parent, 1, child);
        for _ in 0..100 {
            heap.try_allocate_young(3, Format::Indexable, 10, 0)
                .unwrap(); // garbage
        }
        let hash = unsafe { header(parent).hash() };
        let mut roots = [parent, int(5), parent];
        heap.scavenge(|visit| roots.iter_mut().for_each(visit));
        let [p, five, p2] = roots;
        assert!(!heap.is_young(p) && p == p2, "both roots see the one copy");
        assert_eq!(five, int(5));
        assert_eq!(unsafe { header(p).hash() }, hash, "identity hash survives");
        let c = slot(p, 0).unwrap();
        assert!(
            !heap.is_young(c) && slot(p, 1) == Some(c),
            "shared child copied once"
        );
        assert_eq!(slot(c, 0), Some(int(41)));
        // Only the two live objects were promoted (3 words each).
        assert_eq!(heap.stats.promoted_words, 6);
    }

    #[test]
    fn remembered_old_objects_keep_young_ones_alive() {
        let mut heap = Heap::new();
        let old = heap.allocate_old(3, Format::Indexable, 1, 0);
        let young = heap
            .try_allocate_young(3, Format::Indexable, 300, 0)
            .unwrap();
        init_slot(young, 299, int(9));
        init_slot(old, 0, young);
        heap.write_barrier(old, young);
        heap.scavenge(|_| {});
        let moved = slot(old, 0).unwrap();
        assert!(!heap.is_young(moved));
        assert_eq!(slot_count(moved), 300);
        assert_eq!(slot(moved, 299), Some(int(9)));
        assert!(unsafe { !header(old).is_remembered() });
    }

    #[test]
    fn stress_mode_asks_for_a_collection_every_n_allocations() {
        let mut heap = Heap::new();
        heap.set_stress(Some(3));
        let results: Vec<bool> = (0..8)
            .map(|_| heap.try_allocate_young(1, Format::Empty, 0, 0).is_some())
            .collect();
        assert_eq!(results, [true, true, true, false, true, true, true, false]);
    }

    #[test]
    fn old_space_collection_frees_the_unreachable_and_reuses_it() {
        let mut heap = Heap::new();
        let keep = heap.allocate_old(3, Format::Indexable, 2, int(0).bits());
        let child = heap.allocate_old(3, Format::Indexable, 300, int(7).bits());
        init_slot(keep, 0, child);
        for _ in 0..1000 {
            heap.allocate_old(3, Format::Indexable, 10, 0); // garbage
        }
        let before = heap.old_words();
        heap.collect_old([keep].into_iter());
        let after = heap.old_words();
        assert_eq!(after, 3 + 302, "only the two reachable objects remain");
        assert!(after < before);
        assert_eq!(slot(keep, 0), Some(child));
        assert_eq!(slot(child, 299), Some(int(7)));
        assert!(unsafe { !header(keep).is_marked() && !header(child).is_marked() });
        // The freed space (one coalesced block) is used again.
        for _ in 0..1000 {
            heap.allocate_old(3, Format::Indexable, 10, 0);
        }
        assert_eq!(heap.old_words(), after + 1000 * 11);
        heap.collect_old([keep].into_iter());
        assert_eq!(heap.old_words(), after);
    }

    #[test]
    fn the_heap_limit_counts_old_space_until_a_collection_frees_it() {
        let mut heap = Heap::new();
        heap.set_max_heap(1);
        assert_eq!(heap.max_heap(), limit::MIN_BYTES, "never below the minimum");
        let limit_words = limit::MIN_BYTES / 8 - NURSERY_WORDS;
        assert!(heap.has_room_for(limit_words - 2));
        assert!(!heap.has_room_for(limit_words));
        let keep = heap.allocate_old(3, Format::Indexable, limit_words / 2 - 10, 0);
        heap.allocate_old(3, Format::Indexable, limit_words / 2 - 10, 0); // garbage
        assert!(!heap.over_limit() && !heap.has_room_for(100));
        heap.allocate_old(3, Format::Indexable, limit_words / 8, 0);
        assert!(heap.over_limit() && !heap.past_reserve());
        assert!(
            heap.wants_full_collection(),
            "past the limit, old space is collected"
        );
        assert!(heap.has_room_in_reserve_for(10));
        heap.allocate_old(3, Format::Indexable, limit_words / 4, 0);
        assert!(heap.past_reserve());
        heap.collect_old([keep].into_iter());
        assert!(!heap.over_limit() && heap.has_room_for(limit_words / 4));
    }

    #[test]
    fn a_program_may_lower_the_limit_but_not_raise_it_past_the_vms() {
        let mut heap = Heap::new();
        heap.set_max_heap(1 << 30);
        let given = heap.max_heap();
        heap.lower_max_heap(Some(256 << 20));
        assert_eq!(heap.max_heap(), 256 << 20);
        heap.lower_max_heap(Some(1 << 40));
        assert_eq!(heap.max_heap(), given, "no higher than the VM's limit");
        heap.lower_max_heap(Some(1));
        assert_eq!(heap.max_heap(), limit::MIN_BYTES);
        heap.lower_max_heap(None);
        assert_eq!(heap.max_heap(), given);
    }

    #[test]
    fn promoted_objects_are_collected_once_unreachable() {
        let mut heap = Heap::new();
        let mut root = [heap
            .try_allocate_young(3, Format::Indexable, 4, int(1).bits())
            .unwrap()];
        heap.scavenge(|visit| root.iter_mut().for_each(visit));
        assert!(heap.is_old(root[0]));
        let promoted = heap.old_words();
        heap.collect_old(std::iter::empty());
        assert_eq!(heap.old_words(), 0);
        assert!(promoted > 0);
    }
}
