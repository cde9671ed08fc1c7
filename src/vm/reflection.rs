//! Methods and activations as objects: CompiledMethod objects for the
//! methods, and Context objects for `thisContext`.
//!
//! A CompiledMethod object (kernel class `CompiledMethod`: `selector`,
//! `index`) stands for every registered method; `index` is the method's
//! place in the VM's registry, through which primitives reach its class,
//! code and source. The image's methods are static objects (build.rs lays
//! them out); a method compiled at run time gets one in old space.
//!
//! A Context (kernel class `Context`, with Pharo's slots: `sender`, `pc`,
//! `stackp`, `method`, `closureOrNil`, `receiver`) is made on demand by
//! `thisContext` and by `sender`. Its `sender` slot holds the id of its
//! activation, a SmallInteger, as a married context of Cog holds its frame
//! pointer there: the `sender` message finds the frame below by it, and a
//! context whose activation has returned answers nil. Contexts are
//! snapshots: asking twice for the same frame answers two equal, not
//! identical, objects.

use super::classes;
use super::method::MethodRef;
use super::Vm;
use crate::memory;
use crate::object::{Format, Oop};

/// The slot of a Context that holds the id of its activation.
const ACTIVATION_SLOT: &str = "sender";

impl Vm {
    /// The slot of `variable` in instances of the kernel class `class`.
    fn slot_of(&self, class: &str, variable: &str) -> Option<usize> {
        self.slot_in(self.universe.classes.index_of(class)?, variable)
    }

    /// The slot of `variable` in instances of class `class`.
    fn slot_in(&self, class: classes::ClassIndex, variable: &str) -> Option<usize> {
        self.universe
            .classes
            .get(class)?
            .inst_vars
            .iter()
            .position(|v| v == variable)
    }

    /// Makes the CompiledMethod object of a registered method (nil when
    /// the kernel has no CompiledMethod class).
    pub(crate) fn make_method_object(&mut self, method: MethodRef) -> Oop {
        let class = classes::COMPILED_METHOD;
        let Some(slots) = self.universe.classes.get(class).map(|c| c.inst_vars.len()) else {
            return self.universe.nil;
        };
        let object = self
            .heap
            .allocate_old(class, Format::Fixed, slots, self.universe.nil.bits());
        let selector = self.universe.methods[method as usize].selector;
        for (variable, value) in [
            ("selector", selector),
            ("index", Oop::small_integer(method as i64).expect("small")),
        ] {
            if let Some(slot) = self.slot_in(class, variable) {
                memory::init_slot(object, slot, value);
            }
        }
        object
    }

    /// The protocol (a Symbol, or nil) of a registered method, as its
    /// CompiledMethod object records it.
    pub(crate) fn protocol(&self, method: MethodRef) -> Oop {
        let object = self.universe.methods[method as usize].object;
        self.slot_in(classes::COMPILED_METHOD, "protocol")
            .and_then(|slot| memory::slot(object, slot))
            .unwrap_or(self.universe.nil)
    }

    /// Records the protocol of a method compiled at run time (the image's
    /// have theirs in their static objects).
    pub(crate) fn set_protocol(&mut self, method: MethodRef, protocol: Oop) {
        let object = self.universe.methods[method as usize].object;
        if memory::statics::is_static(object) {
            return;
        }
        if let Some(slot) = self.slot_in(classes::COMPILED_METHOD, "protocol") {
            self.store(object, slot, protocol);
        }
    }

    /// The registry index of a CompiledMethod object.
    pub(super) fn method_index(&self, object: Oop) -> Option<MethodRef> {
        let slot = self.slot_in(classes::COMPILED_METHOD, "index")?;
        let index = memory::slot(object, slot)?.as_small_integer()?;
        (0..self.universe.methods.len() as i64)
            .contains(&index)
            .then_some(index as MethodRef)
    }

    /// A Context object for the frame at `position` (nil when the kernel
    /// has no Context class).
    pub(crate) fn make_context(&mut self, position: usize) -> Oop {
        let frame = self.process.frames[position];
        let method = self.universe.methods[frame.method as usize].object;
        let receiver = self.process.stack[frame.base];
        self.context_of_activation(frame.id, method, receiver)
    }

    /// A Context object for activation `id` (which may have returned: the
    /// Context is then dead) of `method` on `receiver`; nil when the kernel
    /// has no Context class.
    pub(crate) fn context_of_activation(&mut self, id: u64, method: Oop, receiver: Oop) -> Oop {
        let Some(class) = self.universe.classes.index_of("Context") else {
            return self.universe.nil;
        };
        let slots = self
            .universe
            .classes
            .get(class)
            .map_or(0, |c| c.inst_vars.len());
        let context = self.allocate(class, Format::Fixed, slots, self.universe.nil.bits());
        let id = Oop::small_integer(id as i64).expect("activation ids fit");
        for (variable, value) in [
            (ACTIVATION_SLOT, id),
            ("method", method),
            ("receiver", receiver),
        ] {
            if let Some(slot) = self.slot_of("Context", variable) {
                memory::init_slot(context, slot, value);
            }
        }
        context
    }

    /// The frame a Context object names, if it is still active.
    pub(super) fn frame_position(&self, context: Oop) -> Option<usize> {
        let slot = self.slot_of("Context", ACTIVATION_SLOT)?;
        let id = memory::slot(context, slot)?.as_small_integer()? as u64;
        self.process.frame_index(id)
    }
}

/// `thisContext`: the current frame as a Context.
pub(crate) fn this_context(vm: &mut Vm) -> Oop {
    let top = vm.process.frames.len() - 1;
    vm.make_context(top)
}
