//! Whole-heap operations on object identity, as Pharo's primitives do
//! them: the instances of a class (`allInstances`), the objects that
//! refer to one (`pointersTo`), and exchanging or
//! forwarding identities (`elementsExchangeIdentityWith:`, which
//! `become:` uses, and `elementsForwardIdentityTo:`, which
//! `becomeForward:` uses).
//!
//! Both first collect the whole heap (a scavenge promotes what survives,
//! then old space is swept), so every heap object is live and in old
//! space, which does not move and can be walked object by object. A become then rewrites every reference in old
//! space and in the running Process's roots (its stack, registers,
//! signals and unwinds): everything that can refer to an ordinary object.
//! The VM also refers to objects outside the heap (class objects, global
//! and class-variable bindings, CompiledMethods and the literals their code
//! holds); those, read-only objects (literals, Symbols), the image's static
//! objects and immediates cannot change identity, and the primitive fails
//! for them, so no reference is ever left behind. Nor can the receiver of
//! a running method or of a block whose code uses its instance variables
//! become an object of another class: the code reads them by their places
//! in its class.

use std::collections::{HashMap, HashSet};

use super::classes::{self, ClassIndex};
use super::interpreter::{CLOSURE_METHOD, CLOSURE_RECEIVER};
use super::Vm;
use crate::memory::{self, class_index_of};
use crate::object::Oop;

/// Why a become is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BecomeRefusal {
    /// The two Arrays differ in size, or an object appears twice.
    BadArguments,
    /// An object that cannot change identity (see the module comment).
    Pinned,
    /// References to the receiver of a running method or of a block would
    /// change to an object of another class: the method's code reads its
    /// receiver's variables by their places in the old class.
    ActiveReceiver,
}

impl Vm {
    /// Every object of class `class` (after a full collection, so only
    /// live ones), the image's static objects included.
    pub(crate) fn all_instances(&mut self, class: ClassIndex) -> Vec<Oop> {
        self.instances_of(&HashSet::from([class]))
            .remove(&class)
            .unwrap_or_default()
    }

    /// The heap objects that refer to `target` in one of their slots
    /// (after a full collection, so only live ones; the stacks are not
    /// objects and do not count), as Pharo's `pointersTo` answers them.
    /// `target` is read from the top of the stack, where the caller keeps
    /// it across the collection.
    pub(crate) fn objects_pointing_to_top(&mut self) -> Vec<Oop> {
        self.collect_everything();
        let target = *self.process.stack.last().expect("the target");
        let mut found = Vec::new();
        self.heap.for_each_old_object(|o| {
            if memory::has_pointer_slots(o)
                && (0..memory::slot_count(o)).any(|i| memory::slot(o, i) == Some(target))
            {
                found.push(o);
            }
        });
        found
    }

    /// The instances of each of `classes` (one collection, one walk).
    pub(crate) fn instances_of(
        &mut self,
        classes: &HashSet<ClassIndex>,
    ) -> HashMap<ClassIndex, Vec<Oop>> {
        let mut found: HashMap<ClassIndex, Vec<Oop>> = HashMap::new();
        self.for_each_object(|o| {
            let class = class_index_of(o);
            if classes.contains(&class) {
                found.entry(class).or_default().push(o);
            }
        });
        found
    }

    /// Every live object, static ones first, in an order that stays the
    /// same while nothing is allocated (`someObject`, `nextObject`).
    pub(crate) fn all_objects(&mut self) -> Vec<Oop> {
        let mut all = Vec::new();
        self.for_each_object(|o| all.push(o));
        all
    }

    /// Calls `visit` on every live object (after a full collection), the
    /// image's static objects first.
    fn for_each_object(&mut self, mut visit: impl FnMut(Oop)) {
        self.collect_everything();
        memory::statics::for_each_object(&memory::statics::SPECIAL_OBJECTS.0, &mut visit);
        memory::statics::for_each_object(self.universe.static_symbols.0, &mut visit);
        self.heap.for_each_old_object(visit);
    }

    /// Makes every reference to `from[i]` refer to `to[i]` and, when
    /// `two_way`, every reference to `to[i]` refer to `from[i]`. A two-way
    /// exchange swaps the identity hashes too (each reference keeps the
    /// hash it saw); a forward one gives `to[i]` the hash of `from[i]` when
    /// `copy_hash`. The heap must have just been collected (see
    /// [`Vm::collect_everything`]).
    pub(crate) fn exchange_identities(
        &mut self,
        from: &[Oop],
        to: &[Oop],
        two_way: bool,
        copy_hash: bool,
    ) -> Result<(), BecomeRefusal> {
        debug_assert!(self.heap.nursery_is_empty(), "become with young objects");
        if from.len() != to.len() {
            return Err(BecomeRefusal::BadArguments);
        }
        let changing = if two_way {
            [from, to].concat()
        } else {
            from.to_vec()
        };
        if self.any_pinned(&changing) {
            return Err(BecomeRefusal::Pinned);
        }
        let mut map: HashMap<Oop, Oop> = HashMap::with_capacity(changing.len());
        for (&a, &b) in from.iter().zip(to) {
            if map.insert(a, b).is_some() || (two_way && map.insert(b, a).is_some()) {
                return Err(BecomeRefusal::BadArguments);
            }
        }
        if self.changes_class_of_a_receiver(&map) {
            return Err(BecomeRefusal::ActiveReceiver);
        }
        let redirect = |r: &mut Oop| {
            if let Some(&new) = map.get(r) {
                *r = new;
            }
        };
        self.heap.for_each_old_object(|object| {
            if !memory::has_pointer_slots(object) {
                return;
            }
            for i in 0..memory::slot_count(object) {
                let mut value = memory::slot(object, i).expect("in bounds");
                let before = value;
                redirect(&mut value);
                if value != before {
                    // Both old: no barrier is due (the nursery is empty).
                    memory::init_slot(object, i, value);
                }
            }
        });
        self.process.visit_roots(&mut |r| redirect(r));
        self.scheduler.visit_roots(&mut |r| redirect(r));
        // What the VM holds weakly (the Contexts of activations, the streams
        // that own files) follows too.
        self.universe.settle_weak_roots(&mut |mut r| {
            redirect(&mut r);
            Some(r)
        });
        for (&a, &b) in from.iter().zip(to) {
            if two_way {
                let (hash_a, hash_b) = (memory::identity_hash(a), memory::identity_hash(b));
                memory::set_identity_hash(a, hash_b);
                memory::set_identity_hash(b, hash_a);
            } else if copy_hash && !memory::is_read_only(b) && !memory::statics::is_static(b) {
                memory::set_identity_hash(b, memory::identity_hash(a));
            }
        }
        Ok(())
    }

    /// Whether one of `objects` cannot change identity: an immediate, a
    /// static or read-only object, or one the VM holds outside the heap.
    pub(crate) fn any_pinned(&self, objects: &[Oop]) -> bool {
        let mut held = Vec::new();
        self.universe.roots(&mut held);
        let held: HashSet<Oop> = held.into_iter().collect();
        objects.iter().any(|o| {
            !o.is_pointer()
                || memory::statics::is_static(*o)
                || memory::is_read_only(*o)
                || held.contains(o)
        })
    }

    /// Whether redirecting references by `map` would give a running
    /// method or block whose code uses its receiver's instance variables
    /// a receiver of another class.
    fn changes_class_of_a_receiver(&self, map: &HashMap<Oop, Oop>) -> bool {
        let changing: Vec<Oop> = map
            .iter()
            .filter(|(&old, &new)| class_index_of(new) != class_index_of(old))
            .map(|(&old, _)| old)
            .collect();
        self.is_receiver_of_running_code(&changing)
    }

    /// Whether one of `objects` is the receiver of a running method (a
    /// frame's) or of a block (a closure's) whose code uses its receiver's
    /// instance variables: that code reads them by their places in the
    /// receiver's class as it is now.
    pub(crate) fn is_receiver_of_running_code(&self, objects: &[Oop]) -> bool {
        if objects.is_empty() {
            return false;
        }
        let objects: HashSet<Oop> = objects.iter().copied().collect();
        let methods = &self.universe.methods;
        let uses_inst_vars = |method: Option<i64>| {
            let method = method.and_then(|m| usize::try_from(m).ok());
            method
                .and_then(|m| methods.get(m))
                .is_some_and(|m| m.uses_inst_vars())
        };
        let running = std::iter::once(&self.process)
            .chain(self.scheduler.waiting_processes())
            .any(|process| {
                process.frames.iter().any(|f| {
                    objects.contains(&process.stack[f.base])
                        && uses_inst_vars(Some(f.method as i64))
                })
            });
        if running {
            return true;
        }
        let mut found = false;
        self.heap.for_each_old_object(|o| {
            found = found
                || (class_index_of(o) == classes::BLOCK_CLOSURE
                    && memory::slot(o, CLOSURE_RECEIVER).is_some_and(|r| objects.contains(&r))
                    && uses_inst_vars(
                        memory::slot(o, CLOSURE_METHOD).and_then(Oop::as_small_integer),
                    ));
        });
        found
    }

    /// Collects the whole heap: the nursery's survivors go to old space,
    /// which then holds every heap object, and only live ones (a walk
    /// meets no dead closure).
    pub(crate) fn collect_everything(&mut self) {
        self.collect_garbage();
        self.collect_old_space();
    }
}
