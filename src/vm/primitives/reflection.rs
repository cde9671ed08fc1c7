//! The entry points of reflection (the machinery is `vm::reflection`):
//! classes (`compiledMethodAt:`, `selectors`, `instSize`, `instVarNames`,
//! `subclasses`, `packageName`, the class variables' bindings), CompiledMethods (`sourceCode`,
//! `methodClass`, `numArgs`, `ast`) and Contexts (`sender`, `isDead`).

use super::{failure, top, Prim, Primitive, BAD_ARGUMENT, BAD_RECEIVER};
use crate::memory::Space;
use crate::object::Oop;
use crate::vm::classes::ClassIndex;
use crate::vm::method::{MethodRef, MethodSource};
use crate::vm::reflection::Holder;
use crate::vm::unwind::Action;
use crate::vm::Vm;
use zag_compiler::tonel::Layout;

pub(super) const PRIMITIVES: &[Primitive] = &[
    // Behavior>>compiledMethodAt: aSymbol (this class's own methods).
    Primitive::named("primitiveCompiledMethodAt", 1, |vm, _, _| {
        let [receiver, selector] = top(vm);
        let Some(class) = vm.universe.classes.index_of_object(receiver) else {
            return failure(BAD_RECEIVER);
        };
        match vm
            .universe
            .classes
            .get(class)
            .and_then(|c| c.methods.get(selector))
        {
            Some(m) => Prim::Value(vm.universe.methods[m as usize].object),
            None => failure(BAD_ARGUMENT),
        }
    }),
    // Class>>classPool's contents: the bindings (Associations) of the
    // class's class variables, the ones its methods read and write, sorted
    // by name.
    Primitive::named("primitiveClassVariableBindings", 0, |vm, _, _| {
        with_class(vm, |vm, class| {
            let mut bindings: Vec<(String, Oop)> =
                vm.universe.classes.get(class).map_or(Vec::new(), |c| {
                    c.class_vars.iter().map(|(n, b)| (n.clone(), *b)).collect()
                });
            bindings.sort_by(|a, b| a.0.cmp(&b.0));
            let values: Vec<Oop> = bindings.into_iter().map(|(_, b)| b).collect();
            vm.new_array(Space::Young, &values)
        })
    }),
    // Behavior>>format: Pharo's format word, the instance specification
    // (bits 16 up) and the number of named instance variables.
    Primitive::named("primitiveClassFormat", 0, |vm, _, _| {
        with_class(vm, |vm, class| {
            let c = vm.universe.classes.get(class).expect("a class");
            let named = c.inst_vars.len() as i64;
            let spec = match c.layout {
                Layout::Fixed if named == 0 => 0,
                Layout::Fixed => 1,
                Layout::Variable if named == 0 => 2,
                Layout::Variable => 3,
                Layout::Weak => 4,
                Layout::Ephemeron => 5,
                Layout::Immediate => 7,
                Layout::DoubleWords => 9,
                Layout::Words => 10,
                Layout::DoubleBytes => 12,
                Layout::Bytes => 16,
                Layout::CompiledMethod => 24,
            };
            Oop::small_integer((spec << 16) + named).expect("formats are small")
        })
    }),
    // Behavior>>selectors: an Array of Symbols.
    Primitive::named("primitiveSelectors", 0, |vm, _, _| {
        with_class(vm, |vm, class| {
            let mut selectors: Vec<Oop> = vm
                .universe
                .classes
                .get(class)
                .map_or(Vec::new(), |c| c.methods.selectors());
            selectors.sort_by_key(|s| vm.symbol_text(*s));
            vm.new_array(Space::Young, &selectors)
        })
    }),
    // Behavior>>instSize: the number of named instance variables.
    Primitive::named("primitiveInstSize", 0, |vm, _, _| {
        with_class(vm, |vm, class| {
            let size = vm
                .universe
                .classes
                .get(class)
                .map_or(0, |c| c.inst_vars.len());
            Oop::small_integer(size as i64).expect("small")
        })
    }),
    // Behavior>>instVarNames: the names this class adds (Symbols).
    Primitive::named("primitiveInstVarNames", 0, |vm, _, _| {
        with_class(vm, |vm, class| {
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
            vm.new_array(Space::Young, &symbols)
        })
    }),
    // Behavior>>subclasses: the direct subclasses, by name.
    Primitive::named("primitiveSubclasses", 0, |vm, _, _| {
        with_class(vm, |vm, class| {
            let mut subclasses: Vec<(String, Oop)> = vm
                .universe
                .classes
                .iter()
                .filter(|(_, c)| c.superclass == Some(class))
                .map(|(_, c)| (c.name.clone(), c.object))
                .collect();
            subclasses.sort_by(|a, b| a.0.cmp(&b.0));
            let objects: Vec<Oop> = subclasses.into_iter().map(|(_, o)| o).collect();
            vm.new_array(Space::Young, &objects)
        })
    }),
    // Behavior>>packageName.
    Primitive::named("primitivePackageName", 0, |vm, _, _| {
        with_class(vm, |vm, class| {
            let name = vm
                .universe
                .classes
                .get(class)
                .map_or(String::new(), |c| c.package.clone());
            vm.new_string(Space::Young, &name)
        })
    }),
    // CompiledMethod>>sourceCode: printed from the AST.
    Primitive::named("primitiveMethodSource", 0, |vm, _, _| {
        with_method(vm, |vm, m| {
            let text = match &vm.universe.methods[m as usize].source {
                MethodSource::Ast(ast) => zag_compiler::printer::print_method(ast),
                MethodSource::Image(text) => text.to_string(),
            };
            Some(vm.new_string(Space::Young, &text))
        })
    }),
    // CompiledMethod>>methodClass
    Primitive::named("primitiveMethodClass", 0, |vm, _, _| {
        with_method(vm, |vm, m| {
            Some(
                vm.universe
                    .class_object(vm.universe.methods[m as usize].class),
            )
        })
    }),
    // CompiledMethod>>numArgs
    Primitive::named("primitiveMethodNumArgs", 0, |vm, _, _| {
        with_method(vm, |vm, m| {
            Oop::small_integer(vm.universe.methods[m as usize].units[0].num_args as i64)
        })
    }),
    // CompiledMethod>>ast: the AST as RB*Node objects.
    Primitive::named("primitiveMethodAst", 0, |vm, _, _| {
        with_method(vm, |vm, m| vm.method_ast_object(m).ok())
    }),
    // RBParser class>>primitiveParse: aString method: aBoolean: the
    // RBMethodNode of a method (true) or of statements (false, under a
    // method DoIt), or { message. offset } for a syntax error (offset
    // counted from 1, as Smalltalk positions are).
    Primitive::named("primitiveParse", 2, |vm, _, _| {
        let [_, source, as_method] = top(vm);
        let Some(text) = super::strings::text_of(vm, source) else {
            return failure(BAD_ARGUMENT);
        };
        let as_method = match vm.universe.as_boolean(as_method) {
            Some(b) => b,
            None => return failure(BAD_ARGUMENT),
        };
        match vm.parsed_ast_object(&text, as_method) {
            Ok(node) => Prim::Value(node),
            Err((message, offset)) => {
                let position = Oop::small_integer(offset as i64 + 1).unwrap_or(vm.universe.nil);
                let message = vm.new_string(Space::Young, &message);
                // Old space: the array's allocation cannot move `message`.
                Prim::Value(vm.new_array(Space::Old, &[message, position]))
            }
        }
    }),
    // Context>>sender: the Context of the activation below, or nil once
    // the receiver's has returned. Fails for a context Smalltalk made.
    Primitive::named("primitiveContextSender", 0, |vm, _, _| {
        let [context] = top(vm);
        let Some(id) = vm.activation_id(context) else {
            return failure(BAD_RECEIVER);
        };
        match vm.locate_activation(id) {
            Some((_, 0)) | None => Prim::Value(vm.universe.nil),
            Some((holder, position)) => Prim::Value(vm.context_in(holder, position - 1)),
        }
    }),
    // Context>>isDead. Fails for a context Smalltalk made.
    Primitive::named("primitiveContextIsDead", 0, |vm, _, _| {
        let [context] = top(vm);
        let Some(id) = vm.activation_id(context) else {
            return failure(BAD_RECEIVER);
        };
        let dead = vm.locate_activation(id).is_none();
        Prim::Value(vm.universe.boolean(dead))
    }),
    // Process>>suspendedContext of a Process that has started and does
    // not run: the Context of the activation it goes on in. Fails for any
    // other (the Smalltalk side answers for those).
    Primitive::named("primitiveProcessSuspendedContext", 0, |vm, _, _| {
        let [process] = top(vm);
        let Some(entry) = vm.stopped_process_entry(process) else {
            return failure(BAD_RECEIVER);
        };
        let holder = Holder::Waiting(entry);
        match vm.process_of(holder).frames.len() {
            0 => failure(BAD_RECEIVER),
            n => Prim::Value(vm.context_in(holder, n - 1)),
        }
    }),
    // Context>>return: value: leaves the frames above the receiver's
    // activation and the activation itself (running their ensure:
    // blocks), its sender receiving value. Fails unless the receiver is an
    // activation of the running Process that has not returned.
    Primitive::named("primitiveContextReturn", 1, |vm, _, _| {
        let [context, value] = top(vm);
        match vm.frame_position(context) {
            Some(position) => {
                let target = vm.process.frame_ref(position);
                Prim::Continue(vm.unwind(target, Action::Return(value)))
            }
            None => failure(BAD_RECEIVER),
        }
    }),
    // Context>>resume: value: leaves the frames above the receiver's
    // activation (running their ensure: blocks), which goes on with value
    // as the answer of the send it is in. Fails unless the receiver is an
    // activation of the running Process below the active one.
    Primitive::named("primitiveContextResume", 1, |vm, _, _| {
        let [context, value] = top(vm);
        match vm.frame_position(context) {
            Some(position) if position + 1 < vm.process.frames.len() => {
                let target = vm.process.frame_ref(position + 1);
                Prim::Continue(vm.unwind(target, Action::Return(value)))
            }
            _ => failure(BAD_RECEIVER),
        }
    }),
    // Context>>home of a block's activation while it runs: the Context of
    // the method activation that made the block (dead if that returned).
    // Fails otherwise.
    Primitive::named("primitiveContextHome", 0, |vm, _, _| {
        let [context] = top(vm);
        let Some((holder, position)) = vm
            .activation_id(context)
            .and_then(|id| vm.locate_activation(id))
        else {
            return failure(BAD_RECEIVER);
        };
        let frame = vm.process_of(holder).frames[position];
        if frame.unit == 0 {
            return failure(BAD_RECEIVER);
        }
        let base = frame.base;
        Prim::Value(
            vm.context_of_activation(frame.home.id, frame.method, move |vm| {
                vm.process_of(holder).stack[base]
            }),
        )
    }),
];

/// A primitive of a class (the receiver, a class object): `answer`'s
/// value for its index; fails for any other receiver.
fn with_class(vm: &mut Vm, answer: impl FnOnce(&mut Vm, ClassIndex) -> Oop) -> Prim {
    let [receiver] = top(vm);
    match vm.universe.classes.index_of_object(receiver) {
        Some(class) => Prim::Value(answer(vm, class)),
        None => failure(BAD_RECEIVER),
    }
}

/// A primitive of a CompiledMethod (the receiver): `answer`'s value for
/// its place in the registry; fails for any other receiver, or when
/// `answer` has none.
fn with_method(vm: &mut Vm, answer: impl FnOnce(&mut Vm, MethodRef) -> Option<Oop>) -> Prim {
    let [receiver] = top(vm);
    match vm.method_index(receiver).and_then(|m| answer(vm, m)) {
        Some(value) => Prim::Value(value),
        None => failure(BAD_RECEIVER),
    }
}
