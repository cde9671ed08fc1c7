//! The kernel's scheduling objects as the VM reads and writes them, as
//! Pharo's VM does: a Process is a Link, a Semaphore and each of the
//! Processor's ready queues (`quiescentProcessLists`, one ProcessList per
//! priority) are LinkedLists of Processes, and a Process's `myList` names
//! the list it is on. The slots are found by name once (see [`Slots`]).

use super::super::classes::ClassIndex;
use super::super::Vm;
use crate::memory::{self, class_index_of};
use crate::object::Oop;

/// Where the variables the scheduler uses are in the kernel's classes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slots {
    pub next_link: usize,
    pub first_link: usize,
    pub last_link: usize,
    pub excess_signals: usize,
    pub suspended_context: usize,
    pub priority: usize,
    pub my_list: usize,
    pub terminating: usize,
    pub vm_handle: usize,
    pub quiescent_lists: usize,
    pub active_process: usize,
    pub semaphore: ClassIndex,
    pub process_list: ClassIndex,
    pub process: ClassIndex,
    pub processor_scheduler: ClassIndex,
    /// The global `Processor`'s binding (an Association in old space,
    /// which never moves and which the globals keep).
    pub processor_binding: Oop,
}

/// Pharo's priorities: 1 (lowest) to 80 (`timingPriority`).
pub const HIGHEST_PRIORITY: i64 = 80;

impl Vm {
    /// The slots, when the kernel defines Process, Semaphore, ProcessList
    /// and ProcessorScheduler (an image without them has no scheduler).
    pub(crate) fn scheduling_slots(&mut self) -> Option<Slots> {
        if let Some(s) = self.scheduler.slots {
            return Some(s);
        }
        let classes = &self.universe.classes;
        let slot = |class: &str, variable: &str| -> Option<usize> {
            classes
                .get(classes.index_of(class)?)?
                .inst_vars
                .iter()
                .position(|v| v == variable)
        };
        let slots = Slots {
            next_link: slot("Process", "nextLink")?,
            first_link: slot("Semaphore", "firstLink")?,
            last_link: slot("Semaphore", "lastLink")?,
            excess_signals: slot("Semaphore", "excessSignals")?,
            suspended_context: slot("Process", "suspendedContext")?,
            priority: slot("Process", "priority")?,
            my_list: slot("Process", "myList")?,
            terminating: slot("Process", "terminating")?,
            vm_handle: slot("Process", "vmHandle")?,
            quiescent_lists: slot("ProcessorScheduler", "quiescentProcessLists")?,
            active_process: slot("ProcessorScheduler", "activeProcess")?,
            semaphore: classes.index_of("Semaphore")?,
            process_list: classes.index_of("ProcessList")?,
            process: classes.index_of("Process")?,
            processor_scheduler: classes.index_of("ProcessorScheduler")?,
            processor_binding: self.universe.nil,
        };
        let slots = Slots {
            processor_binding: self.global_binding("Processor"),
            ..slots
        };
        self.scheduler.slots = Some(slots);
        Some(slots)
    }

    /// The Processor (the global), when it is a ProcessorScheduler.
    pub(crate) fn processor(&self, s: &Slots) -> Option<Oop> {
        let p = memory::slot(s.processor_binding, 1)?;
        (!p.is_immediate() && class_index_of(p) == s.processor_scheduler).then_some(p)
    }

    /// The Process running now, as the Processor records it.
    pub(crate) fn active_process(&self, s: &Slots) -> Option<Oop> {
        let p = memory::slot(self.processor(s)?, s.active_process)?;
        self.is_process(p, s).then_some(p)
    }

    /// Whether `p` is a Process (or of a subclass).
    pub(crate) fn is_process(&self, p: Oop, s: &Slots) -> bool {
        !p.is_immediate()
            && self
                .universe
                .classes
                .inherits_from(class_index_of(p), s.process)
    }

    /// Whether `list` is a Semaphore (or of a subclass).
    pub(crate) fn is_semaphore(&self, list: Oop, s: &Slots) -> bool {
        !list.is_immediate()
            && self
                .universe
                .classes
                .inherits_from(class_index_of(list), s.semaphore)
            && memory::slot(list, s.excess_signals).is_some()
    }

    /// A Process's priority, clamped to Pharo's range.
    pub(crate) fn priority_of(&self, p: Oop, s: &Slots) -> i64 {
        memory::slot(p, s.priority)
            .and_then(Oop::as_small_integer)
            .unwrap_or(40)
            .clamp(1, HIGHEST_PRIORITY)
    }

    /// The ready queue of `priority`.
    pub(crate) fn ready_list(&self, priority: i64, s: &Slots) -> Option<Oop> {
        self.ready_list_in(self.ready_lists(s)?, priority, s)
    }

    /// The Processor's ready queues (an Array, by priority).
    fn ready_lists(&self, s: &Slots) -> Option<Oop> {
        memory::slot(self.processor(s)?, s.quiescent_lists)
    }

    fn ready_list_in(&self, lists: Oop, priority: i64, s: &Slots) -> Option<Oop> {
        let list = memory::slot(lists, (priority - 1) as usize)?;
        memory::slot(list, s.first_link).map(|_| list)
    }

    /// Whether `list` is one of the Processor's ready queues.
    pub(crate) fn is_ready_list(&self, list: Oop, s: &Slots) -> bool {
        !list.is_immediate() && class_index_of(list) == s.process_list
    }

    fn link_slot(&self, object: Oop, index: usize) -> Oop {
        memory::slot(object, index).unwrap_or(self.universe.nil)
    }

    /// Adds `p` at the end (or the front) of `list` and records the list
    /// in `p`.
    pub(crate) fn add_link(&mut self, list: Oop, p: Oop, at_front: bool, s: &Slots) {
        let nil = self.universe.nil;
        let (first, last) = (
            self.link_slot(list, s.first_link),
            self.link_slot(list, s.last_link),
        );
        if first == nil {
            self.store(p, s.next_link, nil);
            self.store(list, s.first_link, p);
            self.store(list, s.last_link, p);
        } else if at_front {
            self.store(p, s.next_link, first);
            self.store(list, s.first_link, p);
        } else {
            self.store(p, s.next_link, nil);
            self.store(last, s.next_link, p);
            self.store(list, s.last_link, p);
        }
        self.store(p, s.my_list, list);
    }

    /// Removes and answers the first Process of `list` (its `myList`
    /// cleared).
    pub(crate) fn remove_first_link(&mut self, list: Oop, s: &Slots) -> Option<Oop> {
        let nil = self.universe.nil;
        let first = self.link_slot(list, s.first_link);
        if first == nil || first.is_immediate() {
            return None;
        }
        let next = self.link_slot(first, s.next_link);
        self.store(list, s.first_link, next);
        if next == nil {
            self.store(list, s.last_link, nil);
        }
        self.store(first, s.next_link, nil);
        self.store(first, s.my_list, nil);
        Some(first)
    }

    /// Removes `p` from the list it is on, if any; answers that list.
    pub(crate) fn unlink(&mut self, p: Oop, s: &Slots) -> Option<Oop> {
        let nil = self.universe.nil;
        let list = self.link_slot(p, s.my_list);
        if list == nil || list.is_immediate() {
            return None;
        }
        let mut previous = nil;
        let mut link = self.link_slot(list, s.first_link);
        // (Bounded: a list made circular by hand must not hang the VM.)
        let mut steps = 0usize;
        while link != nil && link != p && !link.is_immediate() && steps < 1 << 24 {
            previous = link;
            link = self.link_slot(link, s.next_link);
            steps += 1;
        }
        if link == p {
            let next = self.link_slot(p, s.next_link);
            if previous == nil {
                self.store(list, s.first_link, next);
            } else {
                self.store(previous, s.next_link, next);
            }
            if self.link_slot(list, s.last_link) == p {
                self.store(list, s.last_link, previous);
            }
        }
        self.store(p, s.next_link, nil);
        self.store(p, s.my_list, nil);
        Some(list)
    }

    /// Whether `list` has no Process.
    pub(crate) fn list_is_empty(&self, list: Oop, s: &Slots) -> bool {
        let first = self.link_slot(list, s.first_link);
        first == self.universe.nil || first.is_immediate()
    }

    /// The highest priority with a ready Process.
    pub(crate) fn highest_ready_priority(&self, s: &Slots) -> Option<i64> {
        let lists = self.ready_lists(s)?;
        (1..=HIGHEST_PRIORITY).rev().find(|&p| {
            self.ready_list_in(lists, p, s)
                .is_some_and(|l| !self.list_is_empty(l, s))
        })
    }
}
