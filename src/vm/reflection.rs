//! Methods and activations as objects: CompiledMethod objects for the
//! methods, and Context objects for `thisContext`.
//!
//! A CompiledMethod object (kernel class `CompiledMethod`: `selector`,
//! `index`) stands for every registered method; `index` is the method's
//! place in the VM's registry, through which primitives reach its class,
//! code and source. The image's methods are static objects (build.rs lays
//! them out); a method compiled at run time gets one in old space.
//!
//! A Context (kernel class `Context`: `frame`, `method`, `receiver`,
//! `closureOrNil`) is made on demand by `thisContext` and by `sender`; it
//! names its frame by id, so a context whose activation has returned
//! answers nil as its sender. Contexts are snapshots: asking twice for the
//! same frame answers two equal, not identical, objects.

use super::classes;
use super::method::MethodRef;
use super::primitives::{failure, named_numbers::*, Prim, BAD_ARGUMENT, BAD_RECEIVER};
use super::Vm;
use crate::memory::{self, Space};
use crate::object::{Format, Oop};

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

    /// The registry index of a CompiledMethod object.
    fn method_index(&self, object: Oop) -> Option<MethodRef> {
        let slot = self.slot_in(classes::COMPILED_METHOD, "index")?;
        let index = memory::slot(object, slot)?.as_small_integer()?;
        (0..self.universe.methods.len() as i64)
            .contains(&index)
            .then_some(index as MethodRef)
    }

    /// A Context object for the frame at `position` (nil when the kernel
    /// has no Context class).
    pub(crate) fn make_context(&mut self, position: usize) -> Oop {
        let Some(class) = self.universe.classes.index_of("Context") else {
            return self.universe.nil;
        };
        let frame = self.process.frames[position];
        let slots = self
            .universe
            .classes
            .get(class)
            .map_or(0, |c| c.inst_vars.len());
        let context = self.allocate(class, Format::Fixed, slots, self.universe.nil.bits());
        let method = self.universe.methods[frame.method as usize].object;
        let receiver = self.process.stack[frame.base];
        let id = Oop::small_integer(frame.id as i64).expect("frame ids fit");
        for (variable, value) in [("frame", id), ("method", method), ("receiver", receiver)] {
            if let Some(slot) = self.slot_of("Context", variable) {
                memory::init_slot(context, slot, value);
            }
        }
        context
    }

    /// The frame a Context object names, if it is still active.
    fn frame_position(&self, context: Oop) -> Option<usize> {
        let slot = self.slot_of("Context", "frame")?;
        let id = memory::slot(context, slot)?.as_small_integer()? as u64;
        self.process.frames.iter().rposition(|f| f.id == id)
    }
}

/// The reflection primitives.
pub(crate) fn primitive(vm: &mut Vm, name: u32, args: usize) -> Prim {
    let len = vm.process.stack.len();
    let receiver = vm.process.stack[len - args - 1];
    let arg = if args > 0 {
        vm.process.stack[len - 1]
    } else {
        vm.universe.nil
    };
    match name {
        // Behavior>>compiledMethodAt: aSymbol (this class's own methods).
        COMPILED_METHOD_AT => {
            let Some(class) = vm.universe.classes.index_of_object(receiver) else {
                return failure(BAD_RECEIVER);
            };
            match vm
                .universe
                .classes
                .get(class)
                .and_then(|c| c.methods.get(arg))
            {
                Some(m) => Prim::Value(vm.universe.methods[m as usize].object),
                None => failure(BAD_ARGUMENT),
            }
        }
        // Behavior>>selectors: an Array of Symbols.
        SELECTORS => {
            let Some(class) = vm.universe.classes.index_of_object(receiver) else {
                return failure(BAD_RECEIVER);
            };
            let mut selectors: Vec<Oop> = vm
                .universe
                .classes
                .get(class)
                .map_or(Vec::new(), |c| c.methods.selectors());
            selectors.sort_by_key(|s| vm.symbol_text(*s));
            Prim::Value(vm.new_array(Space::Young, &selectors))
        }
        // Behavior>>instSize: the number of named instance variables.
        INST_SIZE => match vm.universe.classes.index_of_object(receiver) {
            Some(class) => Prim::Value(
                Oop::small_integer(
                    vm.universe
                        .classes
                        .get(class)
                        .map_or(0, |c| c.inst_vars.len()) as i64,
                )
                .expect("small"),
            ),
            None => failure(BAD_RECEIVER),
        },
        // Behavior>>instVarNames: the names this class adds (Symbols).
        INST_VAR_NAMES => {
            let Some(class) = vm.universe.classes.index_of_object(receiver) else {
                return failure(BAD_RECEIVER);
            };
            let inherited = vm
                .universe
                .classes
                .get(class)
                .and_then(|c| c.superclass)
                .and_then(|s| vm.universe.classes.get(s))
                .map_or(0, |s| s.inst_vars.len());
            let names: Vec<String> = vm.universe.classes.get(class).map_or(Vec::new(), |c| {
                c.inst_vars
                    .iter()
                    .skip(inherited)
                    .map(str::to_string)
                    .collect()
            });
            let symbols: Vec<Oop> = names.iter().map(|n| vm.intern(n)).collect();
            Prim::Value(vm.new_array(Space::Young, &symbols))
        }
        // Behavior>>subclasses: the direct subclasses, by name.
        SUBCLASSES => {
            let Some(class) = vm.universe.classes.index_of_object(receiver) else {
                return failure(BAD_RECEIVER);
            };
            let mut subclasses: Vec<(String, Oop)> = vm
                .universe
                .classes
                .iter()
                .filter(|(_, c)| c.superclass == Some(class))
                .map(|(_, c)| (c.name.clone(), c.object))
                .collect();
            subclasses.sort_by(|a, b| a.0.cmp(&b.0));
            let objects: Vec<Oop> = subclasses.into_iter().map(|(_, o)| o).collect();
            Prim::Value(vm.new_array(Space::Young, &objects))
        }
        // Behavior>>packageName.
        PACKAGE_NAME => match vm.universe.classes.index_of_object(receiver) {
            Some(class) => {
                let name = vm
                    .universe
                    .classes
                    .get(class)
                    .map_or(String::new(), |c| c.package.clone());
                Prim::Value(vm.new_string(Space::Young, &name))
            }
            None => failure(BAD_RECEIVER),
        },
        // CompiledMethod>>sourceCode: printed from the AST.
        METHOD_SOURCE => match vm.method_index(receiver) {
            Some(m) => {
                let text = match &vm.universe.methods[m as usize].source {
                    super::method::MethodSource::Ast(ast) => {
                        zag_compiler::printer::print_method(ast)
                    }
                    super::method::MethodSource::Image(text) => text.to_string(),
                };
                Prim::Value(vm.new_string(Space::Young, &text))
            }
            None => failure(BAD_RECEIVER),
        },
        // CompiledMethod>>methodClass
        METHOD_CLASS => match vm.method_index(receiver) {
            Some(m) => Prim::Value(
                vm.universe
                    .class_object(vm.universe.methods[m as usize].class),
            ),
            None => failure(BAD_RECEIVER),
        },
        // CompiledMethod>>numArgs
        METHOD_NUM_ARGS => match vm.method_index(receiver) {
            Some(m) => Prim::Value(
                Oop::small_integer(vm.universe.methods[m as usize].units[0].num_args as i64)
                    .expect("small"),
            ),
            None => failure(BAD_RECEIVER),
        },
        // CompiledMethod>>ast: the AST as RB*Node objects.
        METHOD_AST => match vm.method_index(receiver) {
            Some(m) => match vm.method_ast_object(m) {
                Ok(ast) => Prim::Value(ast),
                Err(_) => failure(BAD_RECEIVER),
            },
            None => failure(BAD_RECEIVER),
        },
        // Context>>sender: the context of the frame below, or nil.
        CONTEXT_SENDER => match vm.frame_position(receiver) {
            Some(0) | None => Prim::Value(vm.universe.nil),
            Some(position) => Prim::Value(vm.make_context(position - 1)),
        },
        // Context>>isDead
        CONTEXT_IS_DEAD => {
            let dead = vm.frame_position(receiver).is_none();
            Prim::Value(vm.universe.boolean(dead))
        }
        _ => failure(BAD_RECEIVER),
    }
}

/// `thisContext`: the current frame as a Context.
pub(crate) fn this_context(vm: &mut Vm) -> Oop {
    let top = vm.process.frames.len() - 1;
    vm.make_context(top)
}
