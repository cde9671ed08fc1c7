//! Installs imported Tonel packages in a running VM: creates the classes
//! (superclasses first, across packages) with their metaclasses, class
//! objects, class variables and global bindings, then compiles and installs
//! every method, extensions included.

use std::collections::HashMap;

use zag_compiler::import::{convert_all, Import};
use zag_compiler::tonel::ClassDefinition;

use super::classes::{self, Class, ClassIndex};
use super::{method, Vm};
use crate::object::Format;

/// Loads everything `import` read. Answers every problem found; what could
/// be loaded is loaded.
pub fn load(vm: &mut Vm, import: &Import) -> Result<(), Vec<String>> {
    let mut problems: Vec<String> = import.errors.iter().map(|d| d.headline()).collect();
    // Names resolve against the classes already loaded and the new ones.
    let mut diagnostics = Vec::new();
    let mut env = vm.environment.clone();
    import.extend_environment(&mut env, &mut diagnostics);
    problems.extend(diagnostics.iter().map(|d| d.headline()));

    let definitions: Vec<&ClassDefinition> = import.classes().map(|(_, c)| c).collect();
    for c in &definitions {
        if !c.traits.uses.is_empty() || !c.class_traits.uses.is_empty() {
            problems.push(format!("{}: traits are not supported yet", c.name));
        }
    }
    for def in superclasses_first(&definitions, vm, &mut problems) {
        define_class(vm, def, &env);
    }
    connect_root_metaclasses(vm);

    let mut diagnostics = Vec::new();
    let methods = convert_all(import, &env, &mut diagnostics);
    problems.extend(diagnostics.iter().map(|d| d.headline()));
    for m in methods {
        let owner = &m.definition.class_name;
        let name = if m.definition.class_side {
            format!("{owner} class")
        } else {
            owner.clone()
        };
        let Some(class) = vm.classes.index_of(&name) else {
            problems.push(format!(
                "{}: method {name}>>{} for a class that is not defined",
                m.file.source.name, m.method.selector
            ));
            continue;
        };
        let compiled = zag_compiler::threaded::compile_method(&m.method)
            .and_then(|t| method::lower(vm, &t, class, m.method.clone()));
        match compiled {
            Ok(method) => {
                vm.install(method);
            }
            Err(e) => problems.push(format!(
                "{}: {name}>>{}: {e}",
                m.file.source.name, m.method.selector
            )),
        }
    }
    vm.environment = env;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Orders class definitions so each comes after its superclass; reports
/// those whose superclass is neither defined nor already in the VM.
fn superclasses_first<'a>(
    defs: &[&'a ClassDefinition],
    vm: &Vm,
    problems: &mut Vec<String>,
) -> Vec<&'a ClassDefinition> {
    let by_name: HashMap<&str, &ClassDefinition> =
        defs.iter().map(|d| (d.name.as_str(), *d)).collect();
    let mut ordered = Vec::new();
    let mut state: HashMap<&str, bool> = HashMap::new(); // false: visiting, true: done
    fn visit<'a>(
        def: &'a ClassDefinition,
        by_name: &HashMap<&str, &'a ClassDefinition>,
        vm: &Vm,
        state: &mut HashMap<&'a str, bool>,
        ordered: &mut Vec<&'a ClassDefinition>,
        problems: &mut Vec<String>,
    ) {
        match state.get(def.name.as_str()) {
            Some(true) => return,
            Some(false) => {
                problems.push(format!("{}: circular superclass chain", def.name));
                return;
            }
            None => {}
        }
        state.insert(&def.name, false);
        if let Some(sup) = &def.superclass {
            match by_name.get(sup.as_str()) {
                Some(s) => visit(s, by_name, vm, state, ordered, problems),
                None if vm.classes.index_of(sup).is_some() => {}
                None => problems.push(format!("{}: superclass {sup} is not defined", def.name)),
            }
        }
        state.insert(&def.name, true);
        ordered.push(def);
    }
    for def in defs {
        visit(def, &by_name, vm, &mut state, &mut ordered, problems);
    }
    ordered
}

fn define_class(vm: &mut Vm, def: &ClassDefinition, env: &zag_compiler::environment::Environment) {
    let index = vm.classes.reserve(&def.name);
    let meta_name = format!("{} class", def.name);
    let meta = vm.classes.reserve(&meta_name);
    let superclass = def
        .superclass
        .as_deref()
        .and_then(|s| vm.classes.index_of(s));
    let meta_superclass = superclass
        .and_then(|s| vm.classes.get(s))
        .map(|s| s.partner);
    // A class object is an instance of its metaclass: Class's slots, then
    // the class-side instance variables (as `ClassScope` numbers them).
    let meta_scope = env.class_scope(&def.name, true);
    let nil = vm.nil.bits();
    // A redefined class keeps its identity and its methods.
    let previous = vm
        .classes
        .get_mut(index)
        .map(|c| (c.object, std::mem::take(&mut c.methods)));
    let previous_meta = vm
        .classes
        .get_mut(meta)
        .map(|c| (c.object, std::mem::take(&mut c.methods)));
    let (class_object, methods) = previous.unwrap_or_else(|| {
        (
            vm.heap
                .allocate(meta, Format::Fixed, meta_scope.inst_vars.len(), nil),
            HashMap::new(),
        )
    });
    let (metaclass_object, meta_methods) = previous_meta.unwrap_or_else(|| {
        let slots = env.all_inst_vars("Metaclass").len();
        (
            vm.heap
                .allocate(classes::METACLASS, Format::Fixed, slots, nil),
            HashMap::new(),
        )
    });
    let mut class_vars = HashMap::new();
    for name in &def.class_vars {
        let key = vm.intern(name);
        class_vars.insert(name.clone(), vm.new_association(key, vm.nil));
    }
    vm.classes.insert(
        index,
        Class {
            name: def.name.clone(),
            superclass,
            is_meta: false,
            partner: meta,
            layout: def.layout,
            inst_vars: env.all_inst_vars(&def.name),
            methods,
            object: class_object,
            class_vars,
        },
    );
    vm.classes.insert(
        meta,
        Class {
            name: meta_name,
            superclass: meta_superclass,
            is_meta: true,
            partner: index,
            layout: zag_compiler::tonel::Layout::Fixed,
            inst_vars: meta_scope.inst_vars,
            methods: meta_methods,
            object: metaclass_object,
            class_vars: HashMap::new(),
        },
    );
    vm.set_global(&def.name, class_object);
}

/// The metaclass of a root class (`ProtoObject class`) inherits from
/// `Class`, which is defined after it.
fn connect_root_metaclasses(vm: &mut Vm) {
    let Some(class) = vm.classes.index_of("Class") else {
        return;
    };
    let roots: Vec<ClassIndex> = vm
        .classes
        .iter()
        .filter(|(_, c)| c.is_meta && c.superclass.is_none())
        .filter(|(_, c)| {
            vm.classes
                .get(c.partner)
                .is_some_and(|p| p.superclass.is_none())
        })
        .map(|(i, _)| i)
        .collect();
    for meta in roots {
        if let Some(m) = vm.classes.get_mut(meta) {
            m.superclass = Some(class);
        }
    }
}
