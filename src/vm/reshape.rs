//! Redefining a class with other instance variables, as Pharo's class
//! builder does: its methods and its subclasses' methods that use
//! instance variables are compiled again for the new places, and its
//! instances and its subclasses' are migrated (a new object per instance,
//! each variable copied by name, new ones nil; then every reference
//! forwarded to it, `vm::identity`).
//!
//! Everything that can fail is tried before anything changes ([`plan`]):
//! the methods compile, an instance's layout kind (named only, indexed,
//! bytes) stays, and no instance is the receiver of running code that
//! reads its variables by their old places. Only then does the loader
//! define the class and [`apply`] the plan. A change of class-side
//! instance variables migrates the class objects the same way (each the
//! one instance of its metaclass), the VM's own references to them
//! included.

use std::collections::HashSet;

use zag_compiler::environment::Environment;
use zag_compiler::tonel::{ClassDefinition, Layout};

use super::classes::{ClassIndex, Names};
use super::identity::BecomeRefusal;
use super::method::{self, Method, MethodSource};
use super::Vm;
use crate::memory::{self, Space};
use crate::object::{Format, Oop};

/// A class whose instances change shape.
struct Reshaped {
    class: ClassIndex,
    /// All instance variables, inherited first, before and after.
    old_vars: Vec<String>,
    new_vars: Vec<String>,
    layout: Layout,
    instances: Vec<Oop>,
}

/// What redefining a class changes, worked out before anything does.
pub(crate) struct Plan {
    classes: Vec<Reshaped>,
    /// The recompiled methods, each with its protocol (a Symbol or nil).
    methods: Vec<(Method, Oop)>,
}

/// The plan for replacing the class `def` names with `def` (its variables
/// counted in `env`): `Ok(None)` when its shape does not change (or it is
/// new), the reason when it cannot.
pub(crate) fn plan(
    vm: &mut Vm,
    def: &ClassDefinition,
    env: &Environment,
) -> Result<Option<Plan>, String> {
    let name = &def.name;
    let Some(index) = vm.universe.classes.index_of(name) else {
        return Ok(None);
    };
    let Some(existing) = vm.universe.classes.get(index) else {
        return Ok(None);
    };
    let same_vars = |class: ClassIndex, vars: &[String]| {
        vm.universe
            .classes
            .get(class)
            .is_some_and(|c| c.inst_vars.iter().eq(vars.iter().map(String::as_str)))
    };
    let new_vars = env.all_inst_vars(name);
    let same_class_side = same_vars(existing.partner, &env.class_side_inst_vars(name));
    if existing.layout == def.layout && same_vars(index, &new_vars) && same_class_side {
        return Ok(None);
    }
    // The class (with its new layout) and its subclasses.
    let classes = &vm.universe.classes;
    let affected: Vec<(ClassIndex, Layout)> = classes
        .iter()
        .filter(|&(i, c)| !c.is_meta && classes.inherits_from(i, index))
        .map(|(i, c)| (i, if i == index { def.layout } else { c.layout }))
        .collect();
    let all: HashSet<ClassIndex> = affected.iter().map(|&(c, _)| c).collect();
    let mut instances = vm.instances_of(&all);
    let mut classes = Vec::new();
    // The class side: each class object is the one instance of its
    // metaclass, which the VM holds (and lets go of in `apply`).
    for &(class, _) in &affected {
        let Some(c) = vm.universe.classes.get(class) else {
            continue;
        };
        let (meta, object, class_name) = (c.partner, c.object, c.name.clone());
        let Some(m) = vm.universe.classes.get(meta) else {
            continue;
        };
        let old_vars: Vec<String> = m.inst_vars.iter().map(str::to_string).collect();
        let new_vars = env.class_side_inst_vars(&class_name);
        if old_vars != new_vars {
            classes.push(Reshaped {
                class: meta,
                old_vars,
                new_vars,
                layout: Layout::Fixed,
                instances: vec![object],
            });
        }
    }
    for (class, layout) in affected {
        let Some(c) = vm.universe.classes.get(class) else {
            continue;
        };
        let (class_name, old_layout) = (c.name.clone(), c.layout);
        let old_vars: Vec<String> = c.inst_vars.iter().map(str::to_string).collect();
        let new_vars = env.all_inst_vars(&class_name);
        if let Some(why) = layout.problem(&class_name, &new_vars, None) {
            return Err(why);
        }
        if new_vars == old_vars && layout == old_layout {
            continue;
        }
        let instances = instances.remove(&class).unwrap_or_default();
        if !instances.is_empty() && layout != old_layout {
            return Err(format!(
                "{class_name} has instances, which hold {}: its layout cannot become {}",
                old_layout.describe(),
                layout.describe()
            ));
        }
        if !instances.is_empty() && indexed_size(layout, 0).is_none() {
            return Err(format!(
                "{class_name} has instances, which hold {}: they cannot be migrated",
                layout.describe()
            ));
        }
        classes.push(Reshaped {
            class,
            old_vars,
            new_vars,
            layout,
            instances,
        });
    }
    let migrated: Vec<Oop> = classes.iter().flat_map(|c| c.instances.clone()).collect();
    // Class objects are held by the VM until `apply` lets go of them.
    let class_objects: HashSet<Oop> = classes
        .iter()
        .filter(|c| vm.universe.classes.get(c.class).is_some_and(|m| m.is_meta))
        .flat_map(|c| c.instances.clone())
        .collect();
    let instances: Vec<Oop> = migrated
        .iter()
        .copied()
        .filter(|o| !class_objects.contains(o))
        .collect();
    if vm.any_pinned(&instances) {
        return Err(format!(
            "{name} (or a subclass) has instances the system holds (literals, static objects, \
             its own objects): they cannot change shape"
        ));
    }
    if vm.is_receiver_of_running_code(&migrated) {
        return Err(format!(
            "an instance of {name} (or of a subclass) is the receiver of a method or block \
             running now that uses its instance variables: it cannot change shape while it runs"
        ));
    }
    let methods = recompile(vm, &classes, env)?;
    Ok(Some(Plan { classes, methods }))
}

/// The methods of the reshaped classes (or class sides) that use
/// instance variables, compiled again from their source for the new
/// places.
fn recompile(
    vm: &mut Vm,
    classes: &[Reshaped],
    env: &Environment,
) -> Result<Vec<(Method, Oop)>, String> {
    let mut compiled = Vec::new();
    let mut problems = Vec::new();
    for reshaped in classes {
        let Some(class) = vm.universe.classes.get(reshaped.class) else {
            continue;
        };
        let class_name = class.name.clone();
        let scope = vm.scope_of(reshaped.class, env);
        let selectors = class.methods.selectors();
        for selector in selectors {
            let Some(r) = vm
                .universe
                .classes
                .get(reshaped.class)
                .and_then(|c| c.methods.get(selector))
            else {
                continue;
            };
            let old = &vm.universe.methods[r as usize];
            // A method inherited from a trait or defined in a superclass
            // is compiled in its own class.
            if old.class != reshaped.class || !old.uses_inst_vars() {
                continue;
            }
            let source = match &old.source {
                MethodSource::Ast(ast) => zag_compiler::printer::print_method(ast),
                MethodSource::Image(text) => text.to_string(),
            };
            let method = zag_compiler::parser::parse_method(&source)
                .map_err(|e| e.message)
                .and_then(|p| {
                    zag_compiler::convert::convert_method(&p, &scope).map_err(|e| e.message)
                })
                .and_then(|ast| {
                    let threaded = zag_compiler::threaded::compile_method(&ast)?;
                    method::lower(vm, &threaded, reshaped.class, ast)
                });
            let protocol = vm.protocol(r);
            match method {
                Ok(m) => compiled.push((m, protocol)),
                Err(e) => problems.push(format!(
                    "{class_name}>>{} does not compile for the new instance variables: {e}",
                    vm.symbol_text(selector)
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(compiled)
    } else {
        Err(problems.join("\n"))
    }
}

/// Carries out `plan` once the loader has redefined the class: the
/// subclasses get their new variables, the methods their new code, and
/// the instances their new shape.
pub(crate) fn apply(vm: &mut Vm, plan: Plan) -> Result<(), String> {
    for reshaped in &plan.classes {
        if let Some(c) = vm.universe.classes.get_mut(reshaped.class) {
            c.inst_vars = Names::Owned(reshaped.new_vars.clone());
        }
    }
    for (m, protocol) in plan.methods {
        let r = vm.add_method(m)?;
        vm.set_protocol(r, protocol);
    }
    let mut from = Vec::new();
    let mut to = Vec::new();
    for reshaped in &plan.classes {
        for &old in &reshaped.instances {
            let new = migrated(vm, reshaped, old);
            // A class object: the VM holds the new one from now on.
            let meta = vm.universe.classes.get(reshaped.class);
            if let Some(class) = meta.filter(|m| m.is_meta).map(|m| m.partner) {
                vm.universe.classes.set_object(class, new);
            }
            from.push(old);
            to.push(new);
        }
    }
    if from.is_empty() {
        return Ok(());
    }
    // The new objects are old-space ones only Rust holds: an Array on the
    // stack keeps them through the collection a become starts from.
    let holder = vm.new_array(Space::Old, &to);
    vm.process.stack.push(holder);
    vm.collect_everything();
    let result = vm.exchange_identities(&from, &to, false, true);
    vm.process.stack.pop();
    match result {
        Ok(()) => Ok(()),
        Err(BecomeRefusal::ActiveReceiver) => {
            Err("an instance is the receiver of running code: it keeps its shape".to_string())
        }
        Err(_) => Err("the instances could not be migrated".to_string()),
    }
}

/// The size `instance_shape` takes for an instance of a pointer layout
/// with `indexed` indexed slots; `None` for layouts whose instances are
/// not migrated.
fn indexed_size(layout: Layout, indexed: usize) -> Option<Option<usize>> {
    match layout {
        Layout::Fixed => Some(None),
        Layout::Variable | Layout::Weak => Some(Some(indexed)),
        _ => None,
    }
}

/// A copy of `old` in its class's new shape (in old space): each named
/// variable by name, the indexed ones as they were.
fn migrated(vm: &mut Vm, reshaped: &Reshaped, old: Oop) -> Oop {
    let nil = vm.universe.nil;
    let old_named = reshaped.old_vars.len();
    let indexed = memory::slot_count(old).saturating_sub(old_named);
    let new_named = reshaped.new_vars.len();
    // `plan` made sure the layout is one of those.
    let shape = indexed_size(reshaped.layout, indexed)
        .and_then(|size| super::primitives::instance_shape(reshaped.layout, new_named, size, nil));
    let Some((format, slots, fill)) = shape else {
        return old;
    };
    if format == Format::Weak {
        vm.heap.note_weak_class(reshaped.class, new_named);
    }
    let new = vm.heap.allocate_old(reshaped.class, format, slots, fill);
    for (j, var) in reshaped.new_vars.iter().enumerate() {
        let value = reshaped
            .old_vars
            .iter()
            .position(|v| v == var)
            .and_then(|i| memory::slot(old, i))
            .unwrap_or(nil);
        memory::init_slot(new, j, value);
    }
    for k in 0..indexed {
        if let Some(value) = memory::slot(old, old_named + k) {
            memory::init_slot(new, new_named + k, value);
        }
    }
    new
}
