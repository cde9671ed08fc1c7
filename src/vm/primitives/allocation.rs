//! Making objects: `basicNew` (70) and `basicNew:` (71) on a class, and
//! `shallowCopy` (148). An allocation that would take the heap past its
//! limit (after a full collection) fails with `#'insufficient object
//! memory'`, for the Smalltalk side to signal OutOfMemory, instead of
//! aborting.

use super::{failure, top, Prim, Primitive, BAD_ARGUMENT, BAD_RECEIVER, INSUFFICIENT_MEMORY};
use crate::memory;
use crate::object::{Format, Oop};
use crate::vm::Vm;
use zag_compiler::tonel::Layout;

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive::numbered(70, 0, |vm, _, _| {
        let [class] = top(vm);
        basic_new(vm, class, None)
    }),
    Primitive::numbered(71, 1, |vm, _, _| {
        let [class, size] = top(vm);
        match size.as_small_integer() {
            Some(n) if n >= 0 => basic_new(vm, class, Some(n as usize)),
            _ => failure(BAD_ARGUMENT),
        }
    }),
    Primitive::numbered(148, 0, |vm, _, _| {
        let [object] = top(vm);
        shallow_copy(vm, object)
    }),
];

/// The header format, slot count and fill word of an instance of a class
/// of `layout` with `fixed` named variables and `size` indexed ones (none:
/// `basicNew`). Pointer slots start nil, bytes zero. `None` for a layout
/// the VM does not make instances of, or a size where it takes none.
pub(crate) fn instance_shape(
    layout: Layout,
    fixed: usize,
    size: Option<usize>,
    nil: Oop,
) -> Option<(Format, usize, u64)> {
    let nil = nil.bits();
    Some(match (layout, size) {
        (Layout::Fixed, None) if fixed == 0 => (Format::Empty, 0, nil),
        (Layout::Fixed, None) => (Format::Fixed, fixed, nil),
        (Layout::Variable, n) if fixed == 0 => (Format::Indexable, n.unwrap_or(0), nil),
        (Layout::Variable, n) => (Format::FixedIndexable, fixed + n.unwrap_or(0), nil),
        (Layout::Weak, n) => (Format::Weak, fixed + n.unwrap_or(0), nil),
        (Layout::Ephemeron, None) if fixed > 0 => (Format::Ephemeron, fixed, nil),
        (Layout::Bytes, n) => {
            let (format, slots) = memory::byte_shape(n.unwrap_or(0));
            (format, slots, 0)
        }
        (Layout::Words, n) => {
            let (format, slots) = memory::words32_shape(n.unwrap_or(0));
            (format, slots, 0)
        }
        (Layout::DoubleBytes, n) => {
            let n = n.unwrap_or(0);
            let slots = n.div_ceil(4);
            (Format::Words16((slots * 4 - n) as u8), slots, 0)
        }
        (Layout::DoubleWords, n) => (Format::Words64, n.unwrap_or(0), 0),
        _ => return None,
    })
}

/// `basicNew` (no size) and `basicNew:` on a class object.
fn basic_new(vm: &mut Vm, class_object: Oop, size: Option<usize>) -> Prim {
    let Some(index) = vm.universe.classes.index_of_object(class_object) else {
        return failure(BAD_RECEIVER);
    };
    let class = vm
        .universe
        .classes
        .get(index)
        .expect("indexed class exists");
    let named = class.inst_vars.len();
    let Some((format, slots, fill)) = instance_shape(class.layout, named, size, vm.universe.nil)
    else {
        return failure(BAD_RECEIVER);
    };
    if !vm.make_room(slots) {
        return failure(INSUFFICIENT_MEMORY);
    }
    if format == Format::Weak {
        vm.heap.note_weak_class(index, named);
    }
    Prim::Value(vm.allocate(index, format, slots, fill))
}

/// `shallowCopy` (148): a new object of the same class, format and size
/// with the same contents. Immediates copy to themselves.
fn shallow_copy(vm: &mut Vm, object: Oop) -> Prim {
    if !object.is_pointer() {
        return Prim::Value(object);
    }
    // SAFETY: a pointer Oop is a live object.
    let (header, slots) = unsafe { (memory::header(object), memory::slot_count(object)) };
    if matches!(header.format(), Format::CompiledMethod(_)) {
        return failure(BAD_RECEIVER);
    }
    if !vm.make_room(slots) {
        return failure(INSUFFICIENT_MEMORY);
    }
    // The original stays on the stack (a root) across the allocation.
    let copy = vm.allocate(header.class_index(), header.format(), slots, 0);
    let object = *vm.process.stack.last().expect("the receiver");
    // SAFETY: both objects have `slots` words after their headers.
    unsafe {
        std::ptr::copy_nonoverlapping(
            (object.bits() as *const u64).add(1),
            (copy.bits() as *mut u64).add(1),
            slots,
        )
    };
    Prim::Value(copy)
}
