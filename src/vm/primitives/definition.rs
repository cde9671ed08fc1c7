//! The entry points of definitions made while the program runs (the
//! machinery is `vm::class_builder`): `primitiveDefineClass` (a class
//! from its parts), `primitiveCompile` (`Behavior>>compile:`) and
//! `primitiveRemoveSelector` (`Behavior>>removeSelector:`). The first two
//! answer a String saying what is wrong when they cannot do it, for the
//! Smalltalk side to signal; `primitiveCompile` answers the selector and
//! the undeclared variables the method uses, for the Smalltalk side to
//! report.

use super::strings::text_of;
use super::{failure, top, Prim, Primitive, BAD_ARGUMENT, BAD_RECEIVER};
use crate::memory::{self, Space};
use crate::object::Oop;
use crate::vm::class_builder::ClassRequest;
use crate::vm::Vm;

pub(super) const PRIMITIVES: &[Primitive] = &[
    // superclass (or nil) primitiveDefineClass: name layout: aSymbol
    // instVars: names classVars: names classInstVars: names-or-nil
    // package: aString tag: aString-or-nil
    Primitive::named("primitiveDefineClass", 7, |vm, _, _| {
        let [superclass, name, layout, inst_vars, class_vars, class_inst_vars, package, tag] =
            top(vm);
        let superclass = match vm.universe.classes.index_of_object(superclass) {
            Some(index) => Some(vm.universe.classes.name(index)),
            None if superclass == vm.universe.nil => None,
            None => return failure(BAD_RECEIVER),
        };
        // nil: as the class has it (see `ClassRequest`).
        let request = (|| {
            Some(ClassRequest {
                name: text_of(vm, name)?,
                superclass,
                layout: unless_nil(vm, layout, text_of)?,
                inst_vars: unless_nil(vm, inst_vars, names_of)?,
                class_vars: unless_nil(vm, class_vars, names_of)?,
                class_inst_vars: unless_nil(vm, class_inst_vars, names_of)?,
                package: unless_nil(vm, package, text_of)?,
                tag: unless_nil(vm, tag, text_of)?,
            })
        })();
        let Some(request) = request else {
            return failure(BAD_ARGUMENT);
        };
        match vm.define_class_at_run_time(&request) {
            Ok(index) => Prim::Value(vm.universe.class_object(index)),
            Err(why) => Prim::Value(vm.new_string(Space::Young, &why)),
        }
    }),
    // Behavior>>compile: aString: answers the selector.
    Primitive::named("primitiveCompile", 1, |vm, _, _| {
        let [class, source] = top(vm);
        let Some(class) = vm.universe.classes.index_of_object(class) else {
            return failure(BAD_RECEIVER);
        };
        let Some(source) = text_of(vm, source) else {
            return failure(BAD_ARGUMENT);
        };
        match vm.compile_at_run_time(class, &source) {
            Ok((method, undeclared)) => {
                // { selector. the names it uses that are undeclared }
                let selector = vm.universe.methods[method as usize].selector;
                let names: Vec<Oop> = undeclared.iter().map(|n| vm.intern(n)).collect();
                let names = vm.new_array(Space::Old, &names);
                Prim::Value(vm.new_array(Space::Old, &[selector, names]))
            }
            Err(why) => Prim::Value(vm.new_string(Space::Young, &why)),
        }
    }),
    // OpalCompiler>>evaluate: aString: the value of aString as a do-it,
    // run as an ordinary activation of the caller (its exceptions reach
    // the caller's handlers). Fails when it does not compile (the
    // Smalltalk side then asks primitiveCompileError: why).
    Primitive::named("primitiveEvaluate", 1, |vm, args, return_ip| {
        let [_, source] = top(vm);
        let Some(source) = text_of(vm, source) else {
            return failure(BAD_ARGUMENT);
        };
        match vm.compile_doit(&source) {
            Ok(method) => {
                let receiver_at = vm.process.stack.len() - args - 1;
                vm.process.stack.truncate(receiver_at);
                vm.process.stack.push(vm.universe.nil);
                Prim::Continue(vm.invoke_doit(method, return_ip))
            }
            Err(_) => failure(BAD_ARGUMENT),
        }
    }),
    // OpalCompiler>>primitiveCompileError: aString: why aString does not
    // compile as a do-it (nil when it does).
    Primitive::named("primitiveCompileError", 1, |vm, _, _| {
        let [_, source] = top(vm);
        let Some(source) = text_of(vm, source) else {
            return failure(BAD_ARGUMENT);
        };
        match vm.compile_doit(&source) {
            Ok(_) => Prim::Value(vm.universe.nil),
            Err(why) => Prim::Value(vm.new_string(Space::Young, &why)),
        }
    }),
    // Behavior>>removeSelector: aSymbol: answers whether there was one.
    Primitive::named("primitiveRemoveSelector", 1, |vm, _, _| {
        let [class, selector] = top(vm);
        let Some(class) = vm.universe.classes.index_of_object(class) else {
            return failure(BAD_RECEIVER);
        };
        let removed = vm.remove_method(class, selector);
        Prim::Value(vm.universe.boolean(removed))
    }),
];

/// `read` of `object`, or `Some(None)` for nil; `None` when `read` fails.
fn unless_nil<T>(vm: &Vm, object: Oop, read: fn(&Vm, Oop) -> Option<T>) -> Option<Option<T>> {
    if object == vm.universe.nil {
        return Some(None);
    }
    read(vm, object).map(Some)
}

/// The texts of an Array of Strings or Symbols.
fn names_of(vm: &Vm, array: Oop) -> Option<Vec<String>> {
    if memory::class_index_of(array) != crate::vm::classes::ARRAY {
        return None;
    }
    (0..memory::slot_count(array))
        .map(|i| memory::slot(array, i).and_then(|n| text_of(vm, n)))
        .collect()
}
