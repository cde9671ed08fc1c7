//! What every object answers: `==` (110), `class` (111), `identityHash`
//! (75), and read-only objects (`isReadOnlyObject`, 163, and
//! `setIsReadOnlyObject:`, 164).

use super::{failure, int, top, Prim, Primitive, BAD_ARGUMENT, NO_MODIFICATION};
use crate::memory::{self, class_index_of};
use crate::object::Oop;
use crate::vm::Vm;

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive::numbered(75, 0, |vm, _, _| {
        let [receiver] = top(vm);
        int(identity_hash(receiver))
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
];

fn identity_hash(oop: Oop) -> i64 {
    if oop.is_pointer() {
        // SAFETY: a pointer Oop is a live object.
        unsafe { memory::header(oop).hash() as i64 }
    } else {
        (oop.bits() >> 3) as i64 & 0x3F_FFFF
    }
}

/// `setIsReadOnlyObject:` (164): answers whether the receiver was
/// read-only. Immediates stay read-only, and so do the image's static
/// objects, which every VM in the process shares.
fn set_read_only(vm: &mut Vm, receiver: Oop, flag: Oop) -> Prim {
    let on = if flag == vm.universe.true_object {
        true
    } else if flag == vm.universe.false_object {
        false
    } else {
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
