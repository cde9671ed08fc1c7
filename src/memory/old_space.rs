//! Old space: non-moving objects in large chunks, allocated from free lists
//! or by bumping a pointer, reclaimed by mark-sweep.
//!
//! Chunks can be walked object by object: every object starts with its
//! header, or with an overflow word (its slot count, top byte 0xFF) then its
//! header; free blocks have a header of class 0 and format 6 (a code no
//! object uses) and their size in words in the next word. Sweeping turns
//! each run of dead objects and free blocks into one free block.

use super::weak::WeakClasses;
use crate::object::{Format, Header, Oop, OVERFLOW_MARK};

/// Words per chunk (8 MiB); larger objects get a chunk of their own.
pub(crate) const CHUNK_WORDS: usize = 1 << 20;
/// Free blocks up to this many words are kept in exact-size lists.
const SMALL_BLOCK_WORDS: usize = 64;
const FREE_FORMAT: u64 = 6;
const FORMAT_SHIFT: u32 = 24;

pub struct OldSpace {
    chunks: Vec<Box<[u64]>>,
    /// Words of each chunk handed out (the rest of the last one is free).
    used: Vec<usize>,
    /// Free blocks of exactly `i` words.
    small: Vec<Vec<*mut u64>>,
    /// Larger free blocks and their sizes.
    large: Vec<(*mut u64, usize)>,
    /// Words handed out since the last collection.
    pub allocated_since_collection: usize,
    /// Words live after the last collection.
    pub live_after_collection: usize,
}

impl Default for OldSpace {
    fn default() -> OldSpace {
        OldSpace {
            chunks: Vec::new(),
            used: Vec::new(),
            small: vec![Vec::new(); SMALL_BLOCK_WORDS + 1],
            large: Vec::new(),
            allocated_since_collection: 0,
            live_after_collection: 0,
        }
    }
}

/// A chunk of `words` zero words. Zeroed memory comes from the system
/// untouched, so a chunk costs resident memory only as it fills; when the
/// system refuses it, the process ends with a message rather than the
/// allocator's abort.
fn zeroed_chunk(words: usize) -> Box<[u64]> {
    let Ok(layout) = std::alloc::Layout::array::<u64>(words) else {
        super::limit::refused_by_the_system(words.saturating_mul(8));
    };
    // SAFETY: the layout has a non-zero size (a chunk is at least
    // CHUNK_WORDS words).
    let p = unsafe { std::alloc::alloc_zeroed(layout) } as *mut u64;
    if p.is_null() {
        super::limit::refused_by_the_system(words * 8);
    }
    // SAFETY: `p` is a fresh allocation of `words` zeroed u64s with the
    // global allocator and the layout of `[u64; words]`, as a Box of that
    // slice expects.
    unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, words)) }
}

/// A free block of `words` words at `p` (at least 2).
unsafe fn write_free(p: *mut u64, words: usize) {
    *p = FREE_FORMAT << FORMAT_SHIFT;
    *p.add(1) = words as u64;
}

unsafe fn is_free(p: *const u64) -> bool {
    let w = *p;
    w & OVERFLOW_MARK != OVERFLOW_MARK
        && w & 0x3F_FFFF == 0
        && (w >> FORMAT_SHIFT) & 0x1F == FREE_FORMAT
}

/// The words taken by the object or free block starting at `p`, and the
/// address of its header (`None` for a free block).
unsafe fn extent(p: *mut u64) -> (usize, Option<*mut u64>) {
    let w = *p;
    if w & OVERFLOW_MARK == OVERFLOW_MARK {
        let slots = (w & !OVERFLOW_MARK) as usize;
        (slots + 2, Some(p.add(1)))
    } else if is_free(p) {
        (*p.add(1) as usize, None)
    } else {
        let slots = (w >> 56) as usize;
        (slots.max(1) + 1, Some(p))
    }
}

impl OldSpace {
    /// `words` free words (content unspecified).
    pub fn allocate(&mut self, words: usize) -> *mut u64 {
        self.allocated_since_collection += words;
        if let Some(p) = self.take_free(words) {
            return p;
        }
        let fits = self
            .chunks
            .last()
            .zip(self.used.last())
            .is_some_and(|(c, u)| c.len() - u >= words);
        if !fits {
            let size = words.max(CHUNK_WORDS);
            self.chunks.push(zeroed_chunk(size));
            self.used.push(0);
        }
        let last = self.chunks.len() - 1;
        let start = self.used[last];
        self.used[last] += words;
        // SAFETY: `start..start + words` is within the last chunk.
        unsafe { self.chunks[last].as_mut_ptr().add(start) }
    }

    fn take_free(&mut self, words: usize) -> Option<*mut u64> {
        if words <= SMALL_BLOCK_WORDS {
            if let Some(p) = self.small[words].pop() {
                return Some(p);
            }
        }
        // First fit among the large blocks; split off what is left.
        let i = self
            .large
            .iter()
            .position(|&(_, n)| n == words || n >= words + 2)?;
        let (p, n) = self.large.swap_remove(i);
        if n > words {
            // SAFETY: the block has `n` words, so the rest starts inside it.
            unsafe { self.add_free(p.add(words), n - words) };
        }
        Some(p)
    }

    /// Makes `words` words at `p` a free block and lists it.
    unsafe fn add_free(&mut self, p: *mut u64, words: usize) {
        write_free(p, words);
        if words <= SMALL_BLOCK_WORDS {
            self.small[words].push(p);
        } else {
            self.large.push((p, words));
        }
    }

    /// Words of old space in use (handed out, not free).
    pub fn used_words(&self) -> usize {
        let free: usize = self
            .small
            .iter()
            .enumerate()
            .map(|(n, v)| n * v.len())
            .sum::<usize>()
            + self.large.iter().map(|(_, n)| n).sum::<usize>();
        self.used.iter().sum::<usize>() - free
    }

    /// Frees every object whose header is not marked and clears the marks
    /// of the others; answers the live words.
    pub fn sweep(&mut self) -> usize {
        for list in &mut self.small {
            list.clear();
        }
        self.large.clear();
        let mut live = 0;
        for c in 0..self.chunks.len() {
            let base = self.chunks[c].as_mut_ptr();
            let used = self.used[c];
            let mut i = 0;
            let mut run: Option<(usize, usize)> = None;
            while i < used {
                // SAFETY: `i` is an object or free-block start below `used`.
                let (words, header) = unsafe { extent(base.add(i)) };
                let live_object = header.filter(|h| unsafe { Header::from_bits(**h).is_marked() });
                match live_object {
                    Some(h) => {
                        // SAFETY: `h` is a live object's header.
                        unsafe { *h = Header::from_bits(*h).with_marked(false).bits() };
                        live += words;
                        if let Some((start, n)) = run.take() {
                            unsafe { self.add_free(base.add(start), n) };
                        }
                    }
                    None => {
                        run = Some(match run {
                            Some((start, n)) => (start, n + words),
                            None => (i, words),
                        });
                    }
                }
                i += words;
            }
            if let Some((start, n)) = run {
                unsafe { self.add_free(base.add(start), n) };
            }
        }
        self.allocated_since_collection = 0;
        self.live_after_collection = live;
        live
    }

    /// Calls `f` with every object in old space, live or not yet swept.
    pub fn for_each_object(&self, mut f: impl FnMut(Oop)) {
        for (chunk, &used) in self.chunks.iter().zip(&self.used) {
            let base = chunk.as_ptr().cast_mut();
            let mut i = 0;
            while i < used {
                // SAFETY: `i` is an object or free-block start below `used`
                // (read only).
                let (words, header) = unsafe { extent(base.add(i)) };
                if let Some(h) = header {
                    // SAFETY: the header of an object in old space.
                    f(unsafe { Oop::from_bits(h as u64) });
                }
                i += words;
            }
        }
    }

    /// Whether `oop` is inside old space (for tests and assertions).
    pub fn contains(&self, oop: Oop) -> bool {
        self.chunks.iter().zip(&self.used).any(|(c, u)| {
            let start = c.as_ptr() as u64;
            (start..start + (*u as u64) * 8).contains(&oop.bits())
        })
    }
}

/// What marking found that the collection must look at again.
#[derive(Default)]
pub(super) struct Found {
    /// Weak objects, whose weak slots marking did not follow.
    pub weak_objects: Vec<Oop>,
    /// Ephemerons whose key was not reached (yet): marking followed none
    /// of their slots.
    pub ephemerons: Vec<Oop>,
}

/// Marks everything reachable from `roots` (old objects only; the nursery
/// must be empty), setting header mark bits, and notes in `found` the weak
/// objects and the ephemerons whose keys were not reached. Static objects
/// are neither marked nor scanned: they point only at other static
/// objects.
pub(super) fn mark(
    roots: impl Iterator<Item = Oop>,
    weak_classes: &WeakClasses,
    found: &mut Found,
) {
    let mut stack: Vec<Oop> = Vec::new();
    let visit = |oop: Oop, stack: &mut Vec<Oop>| {
        // Immediates, and 0 (no object: an instruction without operand).
        if !oop.is_pointer() || oop.bits() == 0 {
            return;
        }
        // SAFETY: a pointer Oop is a live object.
        unsafe {
            let p = oop.bits() as *mut u64;
            let h = Header::from_bits(*p);
            if !h.is_marked() && !h.is_static() {
                *p = h.with_marked(true).bits();
                stack.push(oop);
            }
        }
    };
    for root in roots {
        visit(root, &mut stack);
    }
    while let Some(object) = stack.pop() {
        // SAFETY: `object` is live and marked.
        let (h, count) = unsafe { (super::header(object), super::slot_count(object)) };
        if !h.has_pointer_slots() {
            continue;
        }
        if h.has_format(Format::Ephemeron)
            && count > 0
            // SAFETY: slot 0 (the key) is below the slot count.
            && !super::reached(unsafe { Oop::from_bits(*(object.bits() as *const u64).add(1)) })
        {
            found.ephemerons.push(object);
            continue;
        }
        let (count, weak) = weak_classes.traced_slots(h, count);
        if weak {
            found.weak_objects.push(object);
        }
        for i in 0..count {
            // SAFETY: `i` is below the slot count.
            let value = unsafe { Oop::from_bits(*(object.bits() as *const u64).add(1 + i)) };
            visit(value, &mut stack);
        }
    }
}
