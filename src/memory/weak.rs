//! Weak references, Pharo's weak layout (`WeakArray`, `WeakMessageSend`):
//! an object of format `Weak` holds its named fields strongly and its
//! indexed ones weakly. A collection does not trace through the weak
//! slots; once it has found everything reachable otherwise, each weak slot
//! whose object it did not find is set to nil, and the object is
//! reclaimed. Both collections do so: a scavenge for young referents, the
//! mark-sweep of old space for old ones.
//!
//! A header does not say how many named fields its object has, so the VM
//! tells the heap for each weak class whose instances it makes
//! ([`super::Heap::note_weak_class`]); an object of format `Weak` of a
//! class the heap was not told of is held strongly, which is always safe.

use std::collections::HashMap;

use super::{header, slot_count, statics};
use crate::object::{Format, Header, Oop};

/// The number of named (strong) fields of each weak class, by class index.
#[derive(Default)]
pub(super) struct WeakClasses {
    named: HashMap<u32, usize>,
}

impl WeakClasses {
    pub(super) fn note(&mut self, class_index: u32, named: usize) {
        self.named.insert(class_index, named);
    }

    /// How many of the `count` slots of an object with `header` a
    /// collection traces (all of them, unless it is a weak object of a
    /// known class), and whether it is such a weak object, to be settled
    /// once the collection has traced everything else.
    #[inline]
    pub(super) fn traced_slots(&self, header: Header, count: usize) -> (usize, bool) {
        if !header.has_format(Format::Weak) {
            return (count, false);
        }
        match self.named.get(&header.class_index()) {
            Some(&named) => (named.min(count), true),
            None => (count, false),
        }
    }

    /// Updates or clears the weak slots of `object` after a collection:
    /// `fate` answers what becomes of the object a slot refers to (its new
    /// address, itself, or `None` when it was not found and dies); a dead
    /// one is replaced by nil.
    pub(super) fn settle(&self, object: Oop, mut fate: impl FnMut(Oop) -> Option<Oop>) {
        // SAFETY: `object` is a live object (it was traced).
        let h = unsafe { header(object) };
        let count = slot_count(object);
        let (first_weak, _) = self.traced_slots(h, count);
        let nil = statics::SPECIAL_OBJECTS.oop(statics::NIL);
        let slots = object.bits() as *mut u64;
        for i in first_weak..count {
            // SAFETY: `i` is below the object's slot count.
            unsafe {
                let slot = slots.add(1 + i);
                let value = Oop::from_bits(*slot);
                *slot = fate(value).unwrap_or(nil).bits();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{init_slot, slot, statics, Heap};
    use crate::object::{Format, Oop};

    const WEAK_CLASS: u32 = 77;
    const ARRAY_CLASS: u32 = 3;

    fn nil() -> Oop {
        statics::SPECIAL_OBJECTS.oop(statics::NIL)
    }

    fn young(heap: &mut Heap, class: u32, format: Format, slots: usize) -> Oop {
        heap.try_allocate_young(class, format, slots, nil().bits())
            .expect("room in the nursery")
    }

    #[test]
    fn a_scavenge_clears_the_weak_slots_of_objects_nothing_else_reaches() {
        let mut heap = Heap::new();
        heap.note_weak_class(WEAK_CLASS, 1);
        let named = young(&mut heap, ARRAY_CLASS, Format::Indexable, 1);
        let kept = young(&mut heap, ARRAY_CLASS, Format::Indexable, 1);
        let dropped = young(&mut heap, ARRAY_CLASS, Format::Indexable, 1);
        let weak = young(&mut heap, WEAK_CLASS, Format::Weak, 4);
        let five = Oop::small_integer(5).unwrap();
        for (i, value) in [named, kept, dropped, five].into_iter().enumerate() {
            init_slot(weak, i, value);
        }
        let mut roots = [weak, kept];
        heap.scavenge(|visit| roots.iter_mut().for_each(visit));
        let [weak, kept] = roots;
        let named = slot(weak, 0).unwrap();
        assert!(
            named != nil() && !heap.is_young(named),
            "a named field is strong"
        );
        assert_eq!(slot(weak, 1), Some(kept), "moved with what reaches it");
        assert_eq!(slot(weak, 2), Some(nil()), "reached only weakly: gone");
        assert_eq!(slot(weak, 3), Some(five));
        // The weak object (1 + 4 words), named and kept (2 words each).
        assert_eq!(heap.stats.promoted_words, 9);
    }

    #[test]
    fn an_old_space_collection_clears_the_weak_slots_of_dead_objects() {
        let mut heap = Heap::new();
        heap.note_weak_class(WEAK_CLASS, 0);
        let weak = heap.allocate_old(WEAK_CLASS, Format::Weak, 3, nil().bits());
        let dead = heap.allocate_old(ARRAY_CLASS, Format::Indexable, 1, 0);
        let live = heap.allocate_old(ARRAY_CLASS, Format::Indexable, 1, 0);
        init_slot(weak, 0, dead);
        init_slot(weak, 1, live);
        init_slot(weak, 2, nil());
        heap.collect_old([weak, live].into_iter());
        assert_eq!(slot(weak, 0), Some(nil()));
        assert_eq!(slot(weak, 1), Some(live));
        assert_eq!(slot(weak, 2), Some(nil()), "static objects stay");
    }

    #[test]
    fn a_weak_object_of_a_class_the_heap_was_not_told_of_holds_strongly() {
        let mut heap = Heap::new();
        let weak = young(&mut heap, WEAK_CLASS + 1, Format::Weak, 1);
        let referent = young(&mut heap, ARRAY_CLASS, Format::Indexable, 1);
        init_slot(weak, 0, referent);
        let mut roots = [weak];
        heap.scavenge(|visit| roots.iter_mut().for_each(visit));
        let referent = slot(roots[0], 0).unwrap();
        assert!(referent != nil() && !heap.is_young(referent));
        heap.collect_old(roots.into_iter());
        assert_eq!(slot(roots[0], 0), Some(referent));
    }

    #[test]
    fn weak_roots_follow_their_objects_or_learn_they_are_gone() {
        let mut heap = Heap::new();
        let kept = young(&mut heap, ARRAY_CLASS, Format::Indexable, 1);
        let dropped = young(&mut heap, ARRAY_CLASS, Format::Indexable, 1);
        let mut table = vec![Some(kept), Some(dropped)];
        let mut roots = [kept];
        heap.scavenge_with_weak_roots(
            |visit| roots.iter_mut().for_each(visit),
            |fate| table.iter_mut().for_each(|e| *e = e.and_then(&mut *fate)),
        );
        assert_eq!(table, vec![Some(roots[0]), None]);
        assert!(!heap.is_young(roots[0]));
        heap.collect_old_with(
            std::iter::empty(),
            |_| Vec::new(),
            |fate| table.iter_mut().for_each(|e| *e = e.and_then(&mut *fate)),
        );
        assert_eq!(table, vec![None, None], "nothing else refers to it now");
    }

    #[test]
    fn ephemerons_hold_their_slots_while_their_key_lives_and_fire_once() {
        const EPHEMERON_CLASS: u32 = 78;
        let mut heap = Heap::new();
        let old = |heap: &mut Heap, class, format, slots| {
            heap.allocate_old(class, format, slots, nil().bits())
        };
        let live_key = old(&mut heap, ARRAY_CLASS, Format::Indexable, 1);
        let dead_key = old(&mut heap, ARRAY_CLASS, Format::Indexable, 1);
        let value = old(&mut heap, ARRAY_CLASS, Format::Indexable, 1);
        let holding = old(&mut heap, EPHEMERON_CLASS, Format::Ephemeron, 2);
        init_slot(holding, 0, live_key);
        init_slot(holding, 1, value);
        let first = old(&mut heap, EPHEMERON_CLASS, Format::Ephemeron, 2);
        let second = old(&mut heap, EPHEMERON_CLASS, Format::Ephemeron, 2);
        init_slot(first, 0, dead_key);
        init_slot(second, 0, dead_key);
        let roots = [holding, first, second, live_key];
        let fired = heap.collect_old_with(roots.into_iter(), |_| Vec::new(), |_| {});
        assert_eq!(
            fired.len(),
            1,
            "firing one keeps the key: the other does not fire"
        );
        assert!(slot(value, 0).is_some(), "held while its key lives");
        assert_eq!(
            slot(fired[0], 0),
            Some(dead_key),
            "the key kept for the executor"
        );
        // The fired one is an ordinary object now, which holds its key until
        // the program, done with it, lets go.
        init_slot(fired[0], 0, nil());
        let again = heap.collect_old_with(roots.into_iter(), |_| Vec::new(), |_| {});
        assert_eq!(again.len(), 1, "the other one, now");
        assert_ne!(again[0], fired[0], "a fired ephemeron never fires again");
        let none = heap.collect_old_with(roots.into_iter(), |_| Vec::new(), |_| {});
        assert!(none.is_empty());
    }
}
