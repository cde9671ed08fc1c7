//! Installs imported Tonel packages in a running VM: creates the classes
//! (superclasses first, across packages) with their metaclasses, class
//! objects, class variables and global bindings, then compiles and installs
//! every method, extensions included.

use std::collections::HashMap;

use zag_compiler::import::{convert_all, Import};

use super::classes::{self, Class, ClassIndex, SelectorMap};
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

    let (ordered, order_problems) =
        import.classes_superclasses_first(|name| vm.classes.index_of(name).is_some());
    problems.extend(order_problems);
    let mut defined = Vec::new();
    for &def in &ordered {
        let class = NewClass {
            name: &def.name,
            superclass: def.superclass.as_deref(),
            class_vars: &def.class_vars,
            layout: def.layout,
            package: def.package_name(),
            category: &def.category_name(),
        };
        define_class(vm, &class, &env);
        defined.push(def.name.clone());
    }
    connect_root_metaclasses(vm);

    let mut diagnostics = Vec::new();
    let methods = convert_all(import, &env, &mut diagnostics);
    problems.extend(diagnostics.iter().map(|d| d.headline()));
    // Methods from traits first: the classes' own methods then replace
    // any with the same selector.
    let traits = zag_compiler::traits::Traits::new(import, &methods);
    for def in &ordered {
        for t in traits.methods_for(def, &mut problems) {
            let side = if t.method.class_side { " class" } else { "" };
            let name = format!("{}{side}", def.name);
            let Some(class) = vm.classes.index_of(&name) else {
                continue;
            };
            install_method(vm, class, &name, &t.method, t.source, &mut problems);
        }
    }
    for m in &methods {
        let owner = &m.definition.class_name;
        if traits.is_trait(owner) {
            continue;
        }
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
        install_method(vm, class, &name, &m.method, m, &mut problems);
    }
    vm.environment = env;
    let order: Vec<_> = defined
        .iter()
        .filter_map(|n| vm.classes.index_of(n))
        .collect();
    if let Err(e) = vm.initialize_classes(&order) {
        problems.push(format!("class initialization failed: {e}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Compiles `method` (read from `source`) into `class`, named `name`.
fn install_method(
    vm: &mut Vm,
    class: ClassIndex,
    name: &str,
    method: &zag_compiler::zag_ast::Method,
    source: &zag_compiler::import::ImportedMethod,
    problems: &mut Vec<String>,
) {
    let compiled = zag_compiler::threaded::compile_method(method)
        .and_then(|t| method::lower(vm, &t, class, method.clone()));
    match compiled {
        Ok(method) => {
            vm.install(method);
        }
        Err(e) => problems.push(format!(
            "{}: {name}>>{}: {e}",
            source.file.source.name, method.selector
        )),
    }
}

/// What defining a class takes, from the image or from a Tonel file.
pub(crate) struct NewClass<'a> {
    pub name: &'a str,
    pub superclass: Option<&'a str>,
    pub class_vars: &'a [String],
    pub layout: zag_compiler::tonel::Layout,
    pub package: &'a str,
    pub category: &'a str,
}

/// Defines (or redefines) a class and its metaclass, and binds its name.
pub(crate) fn define_class(
    vm: &mut Vm,
    class: &NewClass,
    env: &zag_compiler::environment::Environment,
) {
    let NewClass {
        name,
        superclass,
        class_vars,
        layout,
        package,
        category,
    } = *class;
    let index = vm.classes.reserve(name);
    let meta_name = format!("{name} class");
    let meta = vm.classes.reserve(&meta_name);
    let superclass = superclass.and_then(|s| vm.classes.index_of(s));
    let meta_superclass = superclass
        .and_then(|s| vm.classes.get(s))
        .map(|s| s.partner);
    // A class object is an instance of its metaclass: Class's slots, then
    // the class-side instance variables (as `ClassScope` numbers them).
    let meta_scope = env.class_scope(name, true);
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
                .allocate_old(meta, Format::Fixed, meta_scope.inst_vars.len(), nil),
            SelectorMap::default(),
        )
    });
    let (metaclass_object, meta_methods) = previous_meta.unwrap_or_else(|| {
        let slots = env.all_inst_vars("Metaclass").len();
        (
            vm.heap
                .allocate_old(classes::METACLASS, Format::Fixed, slots, nil),
            SelectorMap::default(),
        )
    });
    let mut variables = HashMap::new();
    for var in class_vars {
        let key = vm.intern(var);
        variables.insert(var.clone(), vm.new_association(key, vm.nil));
    }
    // The slots of the class object the VM knows how to fill.
    for (slot, var) in meta_scope.inst_vars.iter().enumerate() {
        let value = match var.as_str() {
            "name" => vm.intern(name),
            "category" => vm.intern(category),
            "superclass" => superclass.map_or(vm.nil, |s| vm.class_object(s)),
            _ => continue,
        };
        crate::memory::set_slot(class_object, slot, value);
    }
    let metaclass_vars = env.all_inst_vars("Metaclass");
    if let Some(slot) = metaclass_vars.iter().position(|v| v == "thisClass") {
        crate::memory::set_slot(metaclass_object, slot, class_object);
    }
    if let Some(slot) = metaclass_vars.iter().position(|v| v == "superclass") {
        let sup = meta_superclass.map_or(vm.nil, |m| vm.class_object(m));
        crate::memory::set_slot(metaclass_object, slot, sup);
    }
    vm.classes.insert(
        index,
        Class {
            name: name.to_string(),
            superclass,
            is_meta: false,
            partner: meta,
            layout,
            inst_vars: env.all_inst_vars(name),
            package: package.to_string(),
            methods,
            object: class_object,
            class_vars: variables,
            dispatch: Default::default(),
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
            package: package.to_string(),
            methods: meta_methods,
            object: metaclass_object,
            class_vars: HashMap::new(),
            dispatch: Default::default(),
        },
    );
    vm.set_global(name, class_object);
}

/// The metaclass of a root class (`ProtoObject class`) inherits from
/// `Class`, which is defined after it.
pub(crate) fn connect_root_metaclasses(vm: &mut Vm) {
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
    let slot = vm
        .environment
        .all_inst_vars("Metaclass")
        .iter()
        .position(|v| v == "superclass");
    let class_object = vm.class_object(class);
    for meta in roots {
        if let Some(m) = vm.classes.get_mut(meta) {
            m.superclass = Some(class);
            let object = m.object;
            if let Some(slot) = slot {
                crate::memory::set_slot(object, slot, class_object);
            }
        }
    }
}
