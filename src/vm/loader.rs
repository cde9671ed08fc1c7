//! Installs imported Tonel packages in a running VM: creates the classes
//! (superclasses first, across packages) with their metaclasses, class
//! objects, class variables and global bindings, then compiles and installs
//! every method, extensions included.

use std::collections::{HashMap, HashSet};

use zag_compiler::import::{convert_all, Import};
use zag_compiler::source::{Diagnostic, SourceFile};
use zag_compiler::tonel::ClassDefinition;

use super::classes::{self, Class, ClassIndex, Names};
use super::method_dictionary::MethodDictionary;
use super::{method, reshape, Vm};
use crate::object::{Format, Oop};

/// Loads everything `import` read. Answers every problem found; what could
/// be loaded is loaded.
pub fn load(vm: &mut Vm, import: &Import) -> Result<Vec<Diagnostic>, Vec<String>> {
    let mut problems: Vec<String> = import.errors.iter().map(ToString::to_string).collect();
    // Names resolve against the classes already loaded and the new ones.
    let mut diagnostics = Vec::new();
    let mut env = vm.universe.environment.clone();
    import.extend_environment(&mut env, &mut diagnostics);
    problems.extend(diagnostics.iter().map(ToString::to_string));

    let (ordered, order_problems) =
        import.classes_superclasses_first(|name| vm.universe.classes.index_of(name).is_some());
    problems.extend(order_problems);
    let mut defined = Vec::new();
    let mut refused = HashSet::new();
    let classes = &vm.universe.classes;
    let mut layout_problems: HashMap<&str, Diagnostic> = import
        .layout_problems(&env, |s| {
            classes.get(classes.index_of(s)?).map(|c| c.layout)
        })
        .into_iter()
        .map(|(c, d)| (c.name.as_str(), d))
        .collect();
    let files: HashMap<&str, &SourceFile> = import
        .classes()
        .map(|(f, c)| (c.name.as_str(), &*f.source))
        .collect();
    let metaclass = MetaclassSlots::of(env.all_inst_vars("Metaclass").iter().map(String::as_str));
    for &def in &ordered {
        let mut reshape = None;
        let refusal = match layout_problems.remove(def.name.as_str()) {
            Some(problem) => Some(problem),
            None => {
                let why = match def.superclass.as_deref() {
                    Some(s) if refused.contains(s) => Some(format!(
                        "{} is not defined: its superclass {s} was refused",
                        def.name
                    )),
                    // A new shape for a defined class: its methods and
                    // instances follow, if they can.
                    _ => match reshape::plan(vm, def, &env) {
                        Ok(plan) => {
                            reshape = plan;
                            None
                        }
                        Err(why) => Some(why),
                    },
                };
                why.and_then(|why| {
                    let file = files.get(def.name.as_str())?;
                    let at = def.span.start as usize;
                    Some(Diagnostic::at(&file.name, &file.text, at, why))
                })
            }
        };
        if let Some(refusal) = refusal {
            problems.push(refusal.to_string());
            // Names resolve as before against this class.
            match vm.universe.environment.get(&def.name) {
                Some(before) => env.add(before.clone()),
                None => env.remove(&def.name),
            };
            refused.insert(def.name.clone());
            continue;
        }
        define_class(vm, def, &env, &metaclass);
        if let Some(plan) = reshape {
            if let Err(why) = reshape::apply(vm, plan) {
                let message = format!("{}: {why}", def.name);
                problems.push(match files.get(def.name.as_str()) {
                    Some(file) => {
                        Diagnostic::at(&file.name, &file.text, def.span.start as usize, message)
                            .to_string()
                    }
                    None => message,
                });
            }
        }
        defined.push(def.name.clone());
    }
    connect_root_metaclasses(vm);

    let mut diagnostics = Vec::new();
    let methods = convert_all(import, &env, &mut diagnostics);
    problems.extend(diagnostics.iter().map(ToString::to_string));
    let is_class =
        |name: &str| vm.universe.classes.index_of(name).is_some() || env.get(name).is_some();
    let undeclared = zag_compiler::undeclared::check(
        &methods,
        |name| is_class(name) || vm.universe.has_global(name),
        is_class,
    );
    problems.extend(undeclared.errors.iter().map(ToString::to_string));
    // Methods from traits first: the classes' own methods then replace
    // any with the same selector.
    let traits = zag_compiler::traits::Traits::new(import, &methods);
    for def in &ordered {
        if refused.contains(&def.name) {
            continue;
        }
        for t in traits.methods_for(def, &mut problems) {
            let side = if t.method.class_side { " class" } else { "" };
            let name = format!("{}{side}", def.name);
            let Some(class) = vm.universe.classes.index_of(&name) else {
                continue;
            };
            install_method(vm, class, &name, &t.method, t.source, &mut problems);
        }
    }
    for m in &methods {
        let owner = &m.definition.class_name;
        if traits.is_trait(owner) || refused.contains(owner) {
            continue;
        }
        let name = if m.definition.class_side {
            format!("{owner} class")
        } else {
            owner.clone()
        };
        let Some(class) = vm.universe.classes.index_of(&name) else {
            problems.push(located(
                m,
                format!(
                    "method {name}>>{} for a class that is not defined",
                    m.method.selector
                ),
            ));
            continue;
        };
        install_method(vm, class, &name, &m.method, m, &mut problems);
    }
    vm.universe.invalidate_lookups();
    vm.universe.environment = env;
    let order: Vec<_> = defined
        .iter()
        .filter_map(|n| vm.universe.classes.index_of(n))
        .collect();
    if let Err(e) = vm.initialize_classes(&order) {
        problems.push(format!("class initialization failed: {e}"));
    }
    if problems.is_empty() {
        Ok(undeclared.warnings)
    } else {
        Err(problems)
    }
}

/// Compiles `method` (read from `source`) into `class`, named `name`
/// (`load` invalidates the lookups once, after the last).
fn install_method(
    vm: &mut Vm,
    class: ClassIndex,
    name: &str,
    method: &zag_compiler::zag_ast::Method,
    source: &zag_compiler::import::ImportedMethod,
    problems: &mut Vec<String>,
) {
    let installed = zag_compiler::threaded::compile_method(method)
        .and_then(|t| method::lower(vm, &t, class, method.clone()))
        .and_then(|m| vm.add_method(m));
    match installed {
        Ok(r) => {
            let protocol = source.definition.category.as_deref().map(|p| vm.intern(p));
            vm.set_protocol(r, protocol.unwrap_or(vm.universe.nil));
        }
        Err(e) => problems.push(located(source, format!("{name}>>{}: {e}", method.selector))),
    }
}

/// `message` about `method`, at its place in its file.
fn located(method: &zag_compiler::import::ImportedMethod, message: String) -> String {
    let file = &method.file.source;
    let at = method.definition.method.span.start as usize;
    Diagnostic::at(&file.name, &file.text, at, message).to_string()
}

/// Defines (or redefines) a class read from a Tonel file, its variables
/// counted in `env`.
fn define_class(
    vm: &mut Vm,
    def: &ClassDefinition,
    env: &zag_compiler::environment::Environment,
    metaclass: &MetaclassSlots,
) {
    let class_vars: Vec<&str> = def.class_vars.iter().map(String::as_str).collect();
    let parts = ClassParts {
        name: &def.name,
        name_symbol: vm.intern(&def.name),
        superclass: def
            .superclass
            .as_deref()
            .and_then(|s| vm.universe.classes.index_of(s)),
        inst_vars: Names::Owned(env.all_inst_vars(&def.name)),
        class_side_inst_vars: Names::Owned(env.class_side_inst_vars(&def.name)),
        class_vars: &class_vars,
        layout: def.layout,
        package: def.package_name(),
        category: vm.intern(&def.category_name()),
        methods: MethodDictionary::default(),
        class_methods: MethodDictionary::default(),
    };
    add_class(vm, parts, metaclass);
}

/// A class and its metaclass, their names resolved and their variables
/// counted (by the environment, or by build.rs for the image's).
pub(crate) struct ClassParts<'a> {
    pub name: &'a str,
    /// Its name as a Symbol.
    pub name_symbol: Oop,
    pub superclass: Option<ClassIndex>,
    /// Its instances' slots: all instance variables, inherited first.
    pub inst_vars: Names,
    /// The class object's slots: Class's, then the class-side instance
    /// variables.
    pub class_side_inst_vars: Names,
    pub class_vars: &'a [&'a str],
    pub layout: zag_compiler::tonel::Layout,
    pub package: &'a str,
    /// Its category, a Symbol.
    pub category: Oop,
    /// The method dictionaries a new class starts with (a redefined one
    /// keeps its own).
    pub methods: MethodDictionary,
    pub class_methods: MethodDictionary,
}

/// The slots of a metaclass object (an instance of Metaclass) the VM
/// fills.
pub(crate) struct MetaclassSlots {
    count: usize,
    this_class: Option<usize>,
    superclass: Option<usize>,
}

impl MetaclassSlots {
    /// The slots named by Metaclass's instance variables `names`.
    pub fn of<'n>(names: impl Iterator<Item = &'n str>) -> MetaclassSlots {
        let mut slots = MetaclassSlots {
            count: 0,
            this_class: None,
            superclass: None,
        };
        for (slot, name) in names.enumerate() {
            match name {
                "thisClass" => slots.this_class = Some(slot),
                "superclass" => slots.superclass = Some(slot),
                _ => {}
            }
            slots.count = slot + 1;
        }
        slots
    }
}

/// Defines (or redefines) a class and its metaclass, and binds its name;
/// answers their indices (class, metaclass).
pub(crate) fn add_class(
    vm: &mut Vm,
    parts: ClassParts,
    metaclass: &MetaclassSlots,
) -> (ClassIndex, ClassIndex) {
    let ClassParts {
        name,
        name_symbol,
        superclass,
        inst_vars,
        class_side_inst_vars,
        class_vars,
        layout,
        package,
        category,
        methods,
        class_methods,
    } = parts;
    let index = vm.universe.classes.reserve(name);
    let meta_name = format!("{name} class");
    let meta = vm.universe.classes.reserve(&meta_name);
    let meta_superclass = superclass
        .and_then(|s| vm.universe.classes.get(s))
        .map(|s| s.partner);
    let nil = vm.universe.nil.bits();
    // A redefined class keeps its identity and its methods.
    let previous = vm
        .universe
        .classes
        .get_mut(index)
        .map(|c| (c.object, std::mem::take(&mut c.methods)));
    let previous_meta = vm
        .universe
        .classes
        .get_mut(meta)
        .map(|c| (c.object, std::mem::take(&mut c.methods)));
    // A class object is an instance of its metaclass.
    let (class_object, methods) = previous.unwrap_or_else(|| {
        let slots = class_side_inst_vars.len();
        let object = vm.heap.allocate_old(meta, Format::Fixed, slots, nil);
        (object, methods)
    });
    let (metaclass_object, meta_methods) = previous_meta.unwrap_or_else(|| {
        let object = vm
            .heap
            .allocate_old(classes::METACLASS, Format::Fixed, metaclass.count, nil);
        (object, class_methods)
    });
    // A redefined class keeps the bindings (and values) of the class
    // variables it still has: its compiled methods hold them.
    let mut before = vm
        .universe
        .classes
        .get_mut(index)
        .map(|c| std::mem::take(&mut c.class_vars))
        .unwrap_or_default();
    let mut variables = HashMap::new();
    for &var in class_vars {
        let binding = match before.remove(var) {
            Some(binding) => binding,
            None => {
                let key = vm.intern(var);
                vm.new_association(key, vm.universe.nil)
            }
        };
        variables.insert(var.to_string(), binding);
    }
    // The slots of the class object the VM knows how to fill.
    for (slot, var) in class_side_inst_vars.iter().enumerate() {
        let value = match var {
            "name" => name_symbol,
            "category" => category,
            "superclass" => superclass.map_or(vm.universe.nil, |s| vm.universe.class_object(s)),
            _ => continue,
        };
        crate::memory::init_slot(class_object, slot, value);
    }
    if let Some(slot) = metaclass.this_class {
        crate::memory::init_slot(metaclass_object, slot, class_object);
    }
    if let Some(slot) = metaclass.superclass {
        let sup = meta_superclass.map_or(vm.universe.nil, |m| vm.universe.class_object(m));
        crate::memory::init_slot(metaclass_object, slot, sup);
    }
    vm.universe.classes.insert(
        index,
        Class {
            name: name.to_string(),
            superclass,
            is_meta: false,
            partner: meta,
            layout,
            inst_vars,
            package: package.to_string(),
            methods,
            object: class_object,
            class_vars: variables,
            dispatch: Default::default(),
        },
    );
    vm.universe.classes.insert(
        meta,
        Class {
            name: meta_name,
            superclass: meta_superclass,
            is_meta: true,
            partner: index,
            layout: zag_compiler::tonel::Layout::Fixed,
            inst_vars: class_side_inst_vars,
            package: package.to_string(),
            methods: meta_methods,
            object: metaclass_object,
            class_vars: HashMap::new(),
            dispatch: Default::default(),
        },
    );
    vm.set_global(name, class_object);
    (index, meta)
}

/// The metaclass of a root class (`ProtoObject class`) inherits from
/// `Class`, which is defined after it.
pub(crate) fn connect_root_metaclasses(vm: &mut Vm) {
    let Some(class) = vm.universe.classes.index_of("Class") else {
        return;
    };
    let roots: Vec<ClassIndex> = vm
        .universe
        .classes
        .iter()
        .filter(|(_, c)| c.is_meta && c.superclass.is_none())
        .filter(|(_, c)| {
            vm.universe
                .classes
                .get(c.partner)
                .is_some_and(|p| p.superclass.is_none())
        })
        .map(|(i, _)| i)
        .collect();
    let slot = vm
        .universe
        .classes
        .get(classes::METACLASS)
        .and_then(|m| m.inst_vars.position("superclass"));
    let class_object = vm.universe.class_object(class);
    for meta in roots {
        if let Some(m) = vm.universe.classes.get_mut(meta) {
            m.superclass = Some(class);
            let object = m.object;
            if let Some(slot) = slot {
                crate::memory::init_slot(object, slot, class_object);
            }
        }
    }
}
