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
//! `stackp`, `method`, `closureOrNil`, `receiver`) is made for an
//! activation on the first request (`thisContext`, `sender`, a block's
//! `home`, an exception's `signalerContext`), and the same object answers
//! every later one: `Universe::contexts` maps activation ids to them, a
//! weak table (an entry goes when nothing else refers to its Context). Its
//! `sender` slot holds the activation's id, a SmallInteger, as a married
//! context of Cog holds its frame pointer there: the `sender` message finds
//! the frame below by it, and a context whose activation has returned is
//! dead and answers nil. A block's activation has a CompiledBlock (the
//! method and the code unit) as its `method`. A Context that Smalltalk
//! makes (`sender:receiver:method:arguments:`) holds a Context or nil in
//! `sender`, and the primitives leave it to the Smalltalk side.

use super::classes;
use super::method::MethodRef;
use super::process::Process;
use super::Vm;
use crate::memory;
use crate::object::{Format, Oop};

/// The slot of a Context that holds the id of its activation.
const ACTIVATION_SLOT: &str = "sender";

/// Which Process's execution state: the running one, or that of a
/// scheduler entry whose Process does not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    Running,
    Waiting(usize),
}

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

    /// The Context object of the running Process's frame at `position`:
    /// one per activation (`thisContext == thisContext`), made on the
    /// first request. nil when the kernel has no Context class.
    pub(crate) fn make_context(&mut self, position: usize) -> Oop {
        self.context_in(Holder::Running, position)
    }

    /// The Context of the frame at `position` of the Process `holder`.
    pub(crate) fn context_in(&mut self, holder: Holder, position: usize) -> Oop {
        let frame = self.process_of(holder).frames[position];
        let base = frame.base;
        self.context_of(frame.id, frame.method, frame.unit, move |vm| {
            vm.process_of(holder).stack[base]
        })
    }

    /// The Context of activation `id` of unit 0 of `method` (which may
    /// have returned: the Context is then dead); its receiver is what
    /// `receiver` reads if it must be made (after the allocations, which
    /// may move it).
    pub(crate) fn context_of_activation(
        &mut self,
        id: u64,
        method: MethodRef,
        receiver: impl Fn(&Vm) -> Oop,
    ) -> Oop {
        match self.locate_activation(id) {
            Some((holder, position)) => self.context_in(holder, position),
            None => self.context_of(id, method, 0, receiver),
        }
    }

    /// The Process whose stack holds activation `id`, and its frame's
    /// index, while the activation has not returned.
    pub(crate) fn locate_activation(&self, id: u64) -> Option<(Holder, usize)> {
        if let Some(position) = self.process.frame_index(id) {
            return Some((Holder::Running, position));
        }
        let (entry, position) = self.scheduler.find_saved_activation(id)?;
        Some((Holder::Waiting(entry), position))
    }

    /// The execution state `holder` names.
    pub(crate) fn process_of(&self, holder: Holder) -> &Process {
        match holder {
            Holder::Running => &self.process,
            Holder::Waiting(entry) => self
                .scheduler
                .saved_process(entry)
                .expect("a Process that does not run"),
        }
    }

    /// The Context of activation `id`: the one made before, as long as
    /// something refers to it (the table is weak), else a new one.
    fn context_of(
        &mut self,
        id: u64,
        method: MethodRef,
        unit: u16,
        receiver: impl Fn(&Vm) -> Oop,
    ) -> Oop {
        if let Some(&context) = self.universe.contexts.get(&id) {
            return context;
        }
        let context = self.new_context(id, method, unit, receiver);
        if context != self.universe.nil {
            self.universe.contexts.insert(id, context);
        }
        context
    }

    /// A new Context for activation `id` of code unit `unit` of `method`:
    /// its `method` is the CompiledMethod, or a CompiledBlock (the method
    /// and the unit) for a block's activation.
    fn new_context(
        &mut self,
        id: u64,
        method: MethodRef,
        unit: u16,
        receiver: impl Fn(&Vm) -> Oop,
    ) -> Oop {
        let nil = self.universe.nil;
        let Some(class) = self.universe.classes.index_of("Context") else {
            return nil;
        };
        let method_object = self.universe.methods[method as usize].object;
        let code = if unit == 0 {
            method_object
        } else {
            self.new_compiled_block(method_object, unit)
        };
        // The CompiledBlock stays on the stack (a root) while the Context
        // is made.
        self.process.stack.push(code);
        let definition = self.universe.classes.get(class).expect("a class");
        let shape = super::primitives::instance_shape(
            definition.layout,
            definition.inst_vars.len(),
            Some(0),
            nil,
        );
        let context = match shape {
            Some((format, slots, fill)) => self.allocate(class, format, slots, fill),
            None => nil,
        };
        let code = self.process.stack.pop().expect("pushed above");
        if context == nil {
            return nil;
        }
        let id = Oop::small_integer(id as i64).expect("activation ids fit");
        for (variable, value) in [
            (ACTIVATION_SLOT, id),
            ("method", code),
            ("receiver", receiver(self)),
        ] {
            if let Some(slot) = self.slot_of("Context", variable) {
                memory::init_slot(context, slot, value);
            }
        }
        context
    }

    /// A CompiledBlock for code unit `unit` of the method `method` (nil
    /// when the kernel has no CompiledBlock class).
    fn new_compiled_block(&mut self, method: Oop, unit: u16) -> Oop {
        let nil = self.universe.nil;
        let Some(class) = self.universe.classes.index_of("CompiledBlock") else {
            return nil;
        };
        let slots = self
            .universe
            .classes
            .get(class)
            .map_or(0, |c| c.inst_vars.len());
        let block = self.allocate(class, Format::Fixed, slots, nil.bits());
        let unit = Oop::small_integer(unit as i64).expect("small");
        for (variable, value) in [("method", method), ("codeUnit", unit)] {
            if let Some(slot) = self.slot_in(class, variable) {
                memory::init_slot(block, slot, value);
            }
        }
        block
    }

    /// The id of the activation a Context object was made for (its
    /// `sender` slot holds it); `None` for a Context that Smalltalk made.
    pub(super) fn activation_id(&self, context: Oop) -> Option<u64> {
        let slot = self.slot_of("Context", ACTIVATION_SLOT)?;
        Some(memory::slot(context, slot)?.as_small_integer()? as u64)
    }

    /// The running Process's frame a Context object names, if it is still
    /// active.
    pub(super) fn frame_position(&self, context: Oop) -> Option<usize> {
        self.process.frame_index(self.activation_id(context)?)
    }
}

/// `thisContext`: the current frame as a Context.
pub(crate) fn this_context(vm: &mut Vm) -> Oop {
    let top = vm.process.frames.len() - 1;
    vm.make_context(top)
}
