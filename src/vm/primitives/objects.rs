//! What every object answers: `==` (110), `class` (111), `identityHash`
//! (75), and read-only objects (`isReadOnlyObject`, 163, and
//! `setIsReadOnlyObject:`, 164); identity across the heap
//! (`elementsExchangeIdentityWith:`, 128, `elementsForwardIdentityTo:`, 72,
//! `elementsForwardIdentityTo:copyHash:`, 249, on Arrays), a class's
//! `allInstances` (177), `pointersTo`, every object (`allObjects`,
//! `someObject`, 138, `nextObject`, 139; see `vm::identity`), and changing
//! an object's class to one of the same shape (`primitiveChangeClassTo:`,
//! 115, `adoptInstance:`, 160).

use super::{
    failure, int, top, Prim, Primitive, BAD_ARGUMENT, BAD_RECEIVER, INAPPROPRIATE, NO_MODIFICATION,
};
use crate::memory::{self, class_index_of, Space};
use crate::object::Oop;
use crate::vm::classes;
use crate::vm::identity::BecomeRefusal;
use crate::vm::Vm;

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive::numbered(75, 0, |vm, _, _| {
        let [receiver] = top(vm);
        int(memory::identity_hash(receiver) as i64)
    }),
    Primitive::numbered(110, 1, |vm, _, _| {
        let [receiver, other] = top(vm);
        Prim::Value(vm.universe.boolean(receiver == other))
    }),
    Primitive::numbered(111, 0, |vm, _, _| {
        let [receiver] = top(vm);
        Prim::Value(vm.universe.class_object(class_index_of(receiver)))
    }),
    Primitive::numbered(163, 0, |vm, _, _| {
        let [receiver] = top(vm);
        Prim::Value(vm.universe.boolean(memory::is_read_only(receiver)))
    }),
    Primitive::numbered(164, 1, |vm, _, _| {
        let [receiver, flag] = top(vm);
        set_read_only(vm, receiver, flag)
    }),
    Primitive::named("primitiveIsImmediate", 0, |vm, _, _| {
        let [receiver] = top(vm);
        Prim::Value(vm.universe.boolean(!receiver.is_pointer()))
    }),
    Primitive::numbered(128, 1, |vm, _, _| become_elements(vm, 1, true, true)),
    Primitive::numbered(72, 1, |vm, _, _| become_elements(vm, 1, false, true)),
    Primitive::numbered(249, 2, |vm, _, _| {
        let [_, _, copy_hash] = top(vm);
        match vm.universe.as_boolean(copy_hash) {
            Some(copy_hash) => become_elements(vm, 2, false, copy_hash),
            None => failure(BAD_ARGUMENT),
        }
    }),
    Primitive::numbered(177, 0, |vm, _, _| {
        let [class] = top(vm);
        let Some(index) = vm.universe.classes.index_of_object(class) else {
            return failure(BAD_RECEIVER);
        };
        let instances = vm.all_instances(index);
        // The instances are old or static (just collected): the Array's
        // allocation moves none of them.
        Prim::Value(vm.new_array(Space::Young, &instances))
    }),
    // SystemNavigation>>allObjects: every live object, the image's static
    // ones included.
    Primitive::named("primitiveAllObjects", 0, |vm, _, _| {
        let objects = vm.all_objects();
        // (Old or static objects, just collected: the allocation moves none.)
        Prim::Value(vm.new_array(Space::Young, &objects))
    }),
    // someObject: the first object of the enumeration.
    Primitive::numbered(138, 0, |vm, _, _| {
        let first = vm.all_objects().first().copied();
        Prim::Value(first.unwrap_or(vm.universe.nil))
    }),
    // nextObject: the object after the receiver in the enumeration (0 after
    // the last); fails for immediates, which are in no enumeration.
    Primitive::numbered(139, 0, |vm, _, _| {
        if !top::<1>(vm)[0].is_pointer() {
            return failure(BAD_RECEIVER);
        }
        let objects = vm.all_objects();
        // The collection may have moved the receiver: read it again.
        let [receiver] = top(vm);
        let next = objects
            .iter()
            .position(|&o| o == receiver)
            .and_then(|at| objects.get(at + 1).copied());
        Prim::Value(next.unwrap_or(Oop::small_integer(0).expect("zero")))
    }),
    // anObject primitiveChangeClassTo: aPrototype (115): the receiver
    // becomes an instance of aPrototype's class.
    Primitive::numbered(115, 1, |vm, _, _| {
        let [receiver, prototype] = top(vm);
        change_class(vm, receiver, class_index_of(prototype))
    }),
    // aClass adoptInstance: anObject (160): anObject becomes an instance
    // of the receiver.
    Primitive::numbered(160, 1, |vm, _, _| {
        let [class, object] = top(vm);
        match vm.universe.classes.index_of_object(class) {
            Some(class) => change_class(vm, object, class),
            None => failure(BAD_RECEIVER),
        }
    }),
    // ProtoObject>>pointersTo: the objects that refer to the receiver.
    Primitive::named("primitivePointersTo", 0, |vm, _, _| {
        let [receiver] = top(vm);
        if !receiver.is_pointer() {
            return failure(BAD_RECEIVER);
        }
        let referrers = vm.objects_pointing_to_top();
        // (Old objects, just collected: the allocation moves none.)
        Prim::Value(vm.new_array(Space::Young, &referrers))
    }),
];

/// Makes `object` an instance of `class`, when the two classes give their
/// instances the same shape (layout and named slots) and the VM gives
/// neither's instances a meaning of its own (closures, methods, contexts,
/// Processes, Symbols, classes...): changing those would forge them. Fails
/// for immediates and static objects.
fn change_class(vm: &mut Vm, object: Oop, class: u32) -> Prim {
    let from = class_index_of(object);
    let classes = &vm.universe.classes;
    let (Some(old), Some(new)) = (classes.get(from), classes.get(class)) else {
        return failure(BAD_ARGUMENT);
    };
    let meaningful = |index: u32, c: &crate::vm::classes::Class| {
        c.is_meta
            || index < classes::FIRST_FREE
                && !matches!(
                    index,
                    classes::ARRAY | classes::ASSOCIATION | classes::BYTE_ARRAY
                )
            || matches!(
                c.name.as_str(),
                "Context" | "Process" | "Semaphore" | "ProcessList" | "ProcessorScheduler"
            )
    };
    if meaningful(from, old) || meaningful(class, new) || classes.index_of_object(object).is_some()
    {
        return failure(INAPPROPRIATE);
    }
    if old.layout != new.layout || old.inst_vars.len() != new.inst_vars.len() {
        return failure(BAD_ARGUMENT);
    }
    if !memory::set_class_index(object, class) {
        return failure(NO_MODIFICATION);
    }
    Prim::Value(object)
}

/// The identity primitives on two Arrays (the receiver and the first of
/// `args` arguments): see [`Vm::exchange_identities`]. Answers the receiver.
fn become_elements(vm: &mut Vm, args: usize, two_way: bool, copy_hash: bool) -> Prim {
    let at = vm.process.stack.len() - 1 - args;
    let arrays = |vm: &Vm| (vm.process.stack[at], vm.process.stack[at + 1]);
    let (receiver, other) = arrays(vm);
    if class_index_of(receiver) != classes::ARRAY || class_index_of(other) != classes::ARRAY {
        return failure(BAD_ARGUMENT);
    }
    vm.collect_everything();
    // The scavenge may have moved the Arrays: read them again.
    let (receiver, other) = arrays(vm);
    let elements = |array: Oop| -> Vec<Oop> {
        (0..memory::slot_count(array))
            .map_while(|i| memory::slot(array, i))
            .collect()
    };
    let (from, to) = (elements(receiver), elements(other));
    match vm.exchange_identities(&from, &to, two_way, copy_hash) {
        Ok(()) => Prim::Value(receiver),
        Err(BecomeRefusal::BadArguments) => failure(BAD_ARGUMENT),
        Err(BecomeRefusal::Pinned) => failure(NO_MODIFICATION),
        Err(BecomeRefusal::ActiveReceiver) => failure(INAPPROPRIATE),
    }
}

/// `setIsReadOnlyObject:` (164): answers whether the receiver was
/// read-only. Immediates stay read-only, and so do the image's static
/// objects, which every VM in the process shares.
fn set_read_only(vm: &mut Vm, receiver: Oop, flag: Oop) -> Prim {
    let Some(on) = vm.universe.as_boolean(flag) else {
        return failure(BAD_ARGUMENT);
    };
    let was = memory::is_read_only(receiver);
    if was != on {
        if !receiver.is_pointer() || memory::statics::is_static(receiver) {
            return failure(NO_MODIFICATION);
        }
        // SAFETY: a pointer Oop to a live object that is not static.
        unsafe { memory::set_read_only(receiver, on) };
    }
    Prim::Value(vm.universe.boolean(was))
}
