//! Indexed access: `at:` (60), `at:put:` (61), `size` (62),
//! `replaceFrom:to:with:startingAt:` (105), and slot access by number,
//! `instVarAt:` (173) and `instVarAt:put:` (174). An object's indexed
//! part is found from its header alone when it has no named slots (an
//! Array, a String); only objects with both need their class.

use super::{
    failure, int, top, Prim, Primitive, BAD_ARGUMENT, BAD_INDEX, BAD_RECEIVER, NO_MODIFICATION,
};
use crate::memory::{self, class_index_of};
use crate::object::{Format, Oop};
use crate::vm::Vm;

pub(super) const PRIMITIVES: &[Primitive] = &[
    Primitive::numbered(60, 1, |vm, _, _| {
        let [receiver, index] = top(vm);
        at(vm, receiver, index)
    }),
    Primitive::numbered(61, 2, |vm, _, _| {
        let [receiver, index, value] = top(vm);
        at_put(vm, receiver, index, value)
    }),
    // `basicSize`/`size`: the number of indexable elements.
    Primitive::numbered(62, 0, |vm, _, _| {
        let [receiver] = top(vm);
        match indexable_size(vm, receiver) {
            Some(n) => int(n as i64),
            None => failure(BAD_RECEIVER),
        }
    }),
    Primitive::numbered(105, 4, |vm, _, _| {
        let [receiver, start, stop, replacement, rep_start] = top(vm);
        replace_from_to(vm, receiver, start, stop, replacement, rep_start)
    }),
    Primitive::numbered(173, 1, |vm, _, _| {
        let [receiver, index] = top(vm);
        inst_var_at(vm, receiver, index, None)
    }),
    Primitive::numbered(174, 2, |vm, _, _| {
        let [receiver, index, value] = top(vm);
        inst_var_at(vm, receiver, index, Some(value))
    }),
];

/// Named instance variables of the receiver's class.
fn fixed_fields(vm: &Vm, oop: Oop) -> usize {
    vm.universe
        .classes
        .get(class_index_of(oop))
        .map_or(0, |c| c.inst_vars.len())
}

/// Where the indexed elements of an object are.
enum Indexed {
    /// Pointer slots `first..first + count` (after the named ones).
    Slots {
        first: usize,
        count: usize,
    },
    /// `len` bytes.
    Bytes(usize),
    /// `len` 32-bit words (a WideString, a WordArray).
    Words32(usize),
    /// `len` 16-bit or 64-bit elements (a DoubleByteArray, a
    /// DoubleWordArray or Float64Array).
    Words16(usize),
    Words64(usize),
}

impl Indexed {
    fn len(&self) -> usize {
        match *self {
            Indexed::Slots { count, .. } => count,
            Indexed::Bytes(len)
            | Indexed::Words16(len)
            | Indexed::Words32(len)
            | Indexed::Words64(len) => len,
        }
    }
}

/// The indexed part of `oop`, None when it has none. An object of
/// indexed slots only (an Array, the common case) is recognised from its
/// header alone; only objects with named slots too need their class.
#[inline(always)]
fn indexed(vm: &Vm, oop: Oop) -> Option<Indexed> {
    if !oop.is_pointer() {
        return None;
    }
    // SAFETY: a pointer Oop is a live object.
    let (header, slots) = unsafe { (memory::header(oop), memory::slot_count(oop)) };
    if header.is_indexable_only() {
        return Some(Indexed::Slots {
            first: 0,
            count: slots,
        });
    }
    indexed_otherwise(vm, oop, header, slots)
}

/// `indexed` of an object other than an Array's shape (kept apart so that
/// the Array case stays small enough to inline into `at:` and `at:put:`).
#[inline(never)]
fn indexed_otherwise(
    vm: &Vm,
    oop: Oop,
    header: crate::object::Header,
    slots: usize,
) -> Option<Indexed> {
    if let Some(unused) = header.unused_bytes() {
        return Some(Indexed::Bytes(slots * 8 - unused as usize));
    }
    if let Some(unused) = header.unused_half_words() {
        return Some(Indexed::Words32(slots * 2 - unused as usize));
    }
    match header.format() {
        Format::Words16(unused) => Some(Indexed::Words16(slots * 4 - unused as usize)),
        Format::Words64 => Some(Indexed::Words64(slots)),
        Format::FixedIndexable | Format::Weak => {
            let first = fixed_fields(vm, oop);
            Some(Indexed::Slots {
                first,
                count: slots - first,
            })
        }
        _ => None,
    }
}

fn indexable_size(vm: &Vm, oop: Oop) -> Option<usize> {
    indexed(vm, oop).map(|i| i.len())
}

/// Element `index` (1-based) of an indexable object.
pub(super) enum Element {
    /// Its absolute slot.
    Slot(usize),
    /// Its byte offset.
    Byte(usize),
    /// Its index among 32-bit words.
    Word32(usize),
    /// Its index among 16-bit or 64-bit elements.
    Word16(usize),
    Word64(usize),
}

/// Where element `index` (1-based, checked against the size) is.
#[inline(always)]
pub(super) fn element(vm: &Vm, receiver: Oop, index: Oop) -> Result<Element, Prim> {
    let indexed = indexed(vm, receiver).ok_or_else(|| failure(BAD_RECEIVER))?;
    let i = match index.as_small_integer() {
        Some(i) if i >= 1 && (i as usize) <= indexed.len() => i as usize - 1,
        Some(_) => return Err(failure(BAD_INDEX)),
        None => return Err(failure(BAD_ARGUMENT)),
    };
    Ok(match indexed {
        Indexed::Slots { first, .. } => Element::Slot(first + i),
        Indexed::Bytes(_) => Element::Byte(i),
        Indexed::Words32(_) => Element::Word32(i),
        Indexed::Words16(_) => Element::Word16(i),
        Indexed::Words64(_) => Element::Word64(i),
    })
}

fn at(vm: &mut Vm, receiver: Oop, i: Oop) -> Prim {
    match element(vm, receiver, i) {
        Ok(Element::Slot(slot)) => {
            memory::inst_var(receiver, slot).map_or(failure(BAD_INDEX), Prim::Value)
        }
        Ok(Element::Byte(byte)) => {
            // SAFETY: `element` checked the offset against the byte size.
            int(unsafe { *(receiver.bits() as *const u8).add(8 + byte) } as i64)
        }
        Ok(Element::Word32(word)) => memory::words32(&vm.heap, receiver)
            .map_or(failure(BAD_RECEIVER), |w| int(w[word] as i64)),
        // SAFETY (both): `element` checked the index against the size.
        Ok(Element::Word16(i)) => {
            int(unsafe { *(receiver.bits() as *const u16).add(4 + i) } as i64)
        }
        Ok(Element::Word64(i)) => {
            let word = unsafe { *(receiver.bits() as *const u64).add(1 + i) };
            let value = zag_compiler::bigint::BigInt::from_u64(word);
            Prim::Value(vm.integer(crate::memory::Space::Young, &value))
        }
        Err(p) => p,
    }
}

pub(super) fn at_put(vm: &mut Vm, receiver: Oop, i: Oop, value: Oop) -> Prim {
    if is_read_only_object(receiver) {
        return failure(NO_MODIFICATION);
    }
    match element(vm, receiver, i) {
        Ok(Element::Slot(slot)) => {
            if vm.store(receiver, slot, value) {
                Prim::Value(value)
            } else {
                failure(BAD_INDEX)
            }
        }
        Ok(Element::Byte(byte)) => {
            let Some(b) = value.as_small_integer().filter(|b| (0..=255).contains(b)) else {
                return failure(BAD_ARGUMENT);
            };
            // SAFETY: `element` checked the offset against the byte size.
            unsafe { *(receiver.bits() as *mut u8).add(8 + byte) = b as u8 };
            Prim::Value(value)
        }
        Ok(Element::Word32(word)) => {
            let Some(w) = value.as_small_integer().and_then(|w| u32::try_from(w).ok()) else {
                return failure(BAD_ARGUMENT);
            };
            // SAFETY: nothing else refers to the receiver's data now.
            match unsafe { memory::words32_mut(receiver) } {
                Some(words) => {
                    words[word] = w;
                    Prim::Value(value)
                }
                None => failure(BAD_RECEIVER),
            }
        }
        Ok(Element::Word16(i)) => {
            let Some(w) = value.as_small_integer().and_then(|w| u16::try_from(w).ok()) else {
                return failure(BAD_ARGUMENT);
            };
            // SAFETY: `element` checked the index against the size.
            unsafe { *(receiver.bits() as *mut u16).add(4 + i) = w };
            Prim::Value(value)
        }
        Ok(Element::Word64(i)) => {
            let Some(w) = vm
                .integer_value(value)
                .and_then(|v| v.to_i128())
                .and_then(|v| u64::try_from(v).ok())
            else {
                return failure(BAD_ARGUMENT);
            };
            // SAFETY: `element` checked the index against the size.
            unsafe { *(receiver.bits() as *mut u64).add(1 + i) = w };
            Prim::Value(value)
        }
        Err(p) => p,
    }
}

/// `instVarAt:` (173) and `instVarAt:put:` (174): slot `i` (1-based) of
/// a pointer object, its named fields first, then its indexed ones.
fn inst_var_at(vm: &mut Vm, receiver: Oop, i: Oop, value: Option<Oop>) -> Prim {
    let Some(i) = i.as_small_integer() else {
        return failure(BAD_ARGUMENT);
    };
    if i < 1 || memory::bytes(&vm.heap, receiver).is_some() {
        return failure(BAD_INDEX);
    }
    let slot = (i - 1) as usize;
    match value {
        None => memory::inst_var(receiver, slot).map_or(failure(BAD_INDEX), Prim::Value),
        Some(_) if is_read_only_object(receiver) => failure(NO_MODIFICATION),
        Some(v) if vm.store(receiver, slot, v) => Prim::Value(v),
        Some(_) => failure(BAD_INDEX),
    }
}

/// A heap object that refuses stores (an immediate fails the primitive
/// for being an immediate instead, as in Pharo).
fn is_read_only_object(o: Oop) -> bool {
    o.is_pointer() && memory::is_read_only(o)
}

/// `replaceFrom: start to: stop with: replacement startingAt: repStart`
/// (105) between objects of the same kind (both bytes, or both pointers),
/// every index checked.
fn replace_from_to(
    vm: &mut Vm,
    receiver: Oop,
    start: Oop,
    stop: Oop,
    replacement: Oop,
    rep_start: Oop,
) -> Prim {
    if is_read_only_object(receiver) {
        return failure(NO_MODIFICATION);
    }
    let (Some(start), Some(stop), Some(rep_start)) = (
        start.as_small_integer(),
        stop.as_small_integer(),
        rep_start.as_small_integer(),
    ) else {
        return failure(BAD_ARGUMENT);
    };
    let (Some(size), Some(rep_size)) = (
        indexable_size(vm, receiver),
        indexable_size(vm, replacement),
    ) else {
        return failure(BAD_RECEIVER);
    };
    let count = stop - start + 1;
    if count == 0 && start >= 1 {
        return Prim::Value(receiver);
    }
    let in_range = start >= 1
        && count > 0
        && stop as usize <= size
        && rep_start >= 1
        && (rep_start + count - 1) as usize <= rep_size;
    if !in_range {
        return failure(BAD_INDEX);
    }
    let (start, rep_start, count) = (
        (start - 1) as usize,
        (rep_start - 1) as usize,
        count as usize,
    );
    match (kind(vm, receiver), kind(vm, replacement)) {
        (Kind::Bytes, Kind::Bytes) => {
            let source = memory::bytes(&vm.heap, replacement).expect("bytes")
                [rep_start..rep_start + count]
                .to_vec();
            // SAFETY: the range was checked against the receiver's byte size.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    source.as_ptr(),
                    (receiver.bits() as *mut u8).add(8 + start),
                    count,
                )
            };
            Prim::Value(receiver)
        }
        // (A WideString takes a ByteString's characters, widened.)
        (Kind::Words32, Kind::Words32 | Kind::Bytes) => {
            let source: Vec<u32> = match memory::words32(&vm.heap, replacement) {
                Some(words) => words[rep_start..rep_start + count].to_vec(),
                None => memory::bytes(&vm.heap, replacement).expect("bytes")
                    [rep_start..rep_start + count]
                    .iter()
                    .map(|&b| b as u32)
                    .collect(),
            };
            // SAFETY: nothing else refers to the receiver's data now; the
            // range was checked against its size.
            let words = unsafe { memory::words32_mut(receiver) }.expect("words");
            words[start..start + count].copy_from_slice(&source);
            Prim::Value(receiver)
        }
        (Kind::Raw(width), Kind::Raw(other)) if width == other => {
            // SAFETY: the ranges were checked against both sizes, in
            // elements of `width` bytes after the headers; `copy` allows
            // the two to overlap (the same object).
            unsafe {
                std::ptr::copy(
                    (replacement.bits() as *const u8).add(8 + rep_start * width),
                    (receiver.bits() as *mut u8).add(8 + start * width),
                    count * width,
                )
            };
            Prim::Value(receiver)
        }
        (Kind::Slots, Kind::Slots) => {
            let (dst_fixed, src_fixed) =
                (fixed_fields(vm, receiver), fixed_fields(vm, replacement));
            let values: Vec<Oop> = (0..count)
                .filter_map(|i| memory::slot(replacement, src_fixed + rep_start + i))
                .collect();
            for (i, v) in values.into_iter().enumerate() {
                vm.store(receiver, dst_fixed + start + i, v);
            }
            Prim::Value(receiver)
        }
        _ => failure(BAD_ARGUMENT),
    }
}

/// What an indexable object's elements are.
enum Kind {
    Bytes,
    Words32,
    /// 16-bit or 64-bit elements, of this many bytes each.
    Raw(usize),
    Slots,
}

fn kind(vm: &Vm, oop: Oop) -> Kind {
    match indexed(vm, oop) {
        Some(Indexed::Bytes(_)) => Kind::Bytes,
        Some(Indexed::Words32(_)) => Kind::Words32,
        Some(Indexed::Words16(_)) => Kind::Raw(2),
        Some(Indexed::Words64(_)) => Kind::Raw(8),
        _ => Kind::Slots,
    }
}
